"""Hosting: the Dockerfile, the Streamlit settings, and ``conflictmap serve``'s refusal.

Docker itself cannot run here, so the image is not built in the tests: the Dockerfile is
parsed for its essentials (unprivileged user, no piped installers, the right command,
every copied path present and not ignored, no secrets copied) and its ``python -c`` build
steps are run against this checkout. The serve command is run with ``os.execve``
replaced, so nothing is started.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from dashboard import access, paths
from dashboard.cli import cli
from dashboard.errors import InputFileError

REPO = paths.PROJECT_DIR
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
DEPLOY_CONFIG = REPO / "deploy" / "config.toml"
LOCAL_CONFIG = REPO / ".streamlit" / "config.toml"
EXPECTED_CMD = ["conflictmap", "serve", "--address", "0.0.0.0", "--port", "8501"]


def _instructions() -> list[tuple[str, str]]:
    """(KEYWORD, arguments) of each Dockerfile instruction, continuations joined."""
    out: list[tuple[str, str]] = []
    buffer = ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith("#") or (not buffer and not stripped):
            continue
        if stripped.endswith("\\"):
            buffer += stripped[:-1] + " "
            continue
        buffer += stripped
        keyword, _, rest = buffer.partition(" ")
        out.append((keyword.upper(), rest.strip()))
        buffer = ""
    assert not buffer, "the Dockerfile ends inside a continued line"
    return out


def _of(keyword: str) -> list[str]:
    return [rest for kw, rest in _instructions() if kw == keyword]


def _copies() -> list[tuple[list[str], str]]:
    copies = []
    for rest in _of("COPY"):
        words = [w for w in shlex.split(rest) if not w.startswith("--")]
        copies.append((words[:-1], words[-1]))
    return copies


def _ignore_patterns() -> list[str]:
    lines = DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")]


def _ignored(path: str) -> bool:
    """Whether .dockerignore keeps ``path`` (relative, '/'-separated) out of the context."""
    parts = path.strip("/").split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for raw in _ignore_patterns():
        pattern = raw.rstrip("/")
        if pattern.startswith("**/"):
            tail = pattern[3:]
            if any(
                fnmatch.fnmatch("/".join(parts[i:j]), tail)
                for i in range(len(parts))
                for j in range(i + 1, len(parts) + 1)
            ):
                return True
        elif any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes):
            return True
    return False


# --- the Dockerfile ----------------------------------------------------------------------


def test_the_image_starts_from_python_and_runs_as_an_unprivileged_user():
    instructions = _instructions()
    keywords = [kw for kw, _ in instructions]
    assert keywords[0] in {"ARG", "FROM"} and "FROM" in keywords
    assert re.match(r"python:\$\{PYTHON_VERSION\}-slim|python:3\.1[1-9]", _of("FROM")[0])
    users = _of("USER")
    assert users, "no USER: the server would run as root"
    assert users[-1] not in {"root", "0", "0:0"}
    last_user = max(i for i, (kw, _) in enumerate(instructions) if kw == "USER")
    assert all(kw != "RUN" for kw, _ in instructions[last_user:]), "RUN after USER"
    assert keywords.index("CMD") > last_user


def test_nothing_is_piped_from_the_network_into_a_shell():
    text = DOCKERFILE.read_text(encoding="utf-8")
    for rest in _of("RUN"):
        assert not re.search(r"\b(curl|wget)\b[^;&]*\|\s*(ba|da|z)?sh\b", rest), rest
        assert not re.search(r"\b(curl|wget)\b", rest), f"downloads at build time: {rest}"
    assert not any(src.startswith(("http://", "https://")) for src in _of("ADD"))
    assert "--insecure-public" not in text


def test_the_command_is_serve_on_every_interface_with_the_exposed_port():
    cmd = json.loads(_of("CMD")[-1])  # exec form: signals reach the server
    assert cmd == EXPECTED_CMD
    assert _of("EXPOSE") == ["8501"]
    healthcheck = _of("HEALTHCHECK")
    assert healthcheck and "_stcore/health" in healthcheck[0] and "8501" in healthcheck[0]


def test_every_copied_path_exists_and_is_in_the_build_context():
    copies = _copies()
    assert copies
    for sources, _ in copies:
        for source in sources:
            assert (REPO / source).exists(), f"COPY {source}: not in the repository"
            assert not _ignored(source), f"COPY {source}: excluded by .dockerignore"


def test_no_copy_of_the_sources_stays_where_the_server_runs():
    """The package is installed from a folder that is then removed: a copy left in the
    server's working folder would be imported before the installed one (the current
    folder comes first for `python -c` and `python -m`), and Leaflet, copied into the
    installed static folder, would be missing from the copy the server runs."""
    workdir, source_dirs = "/", []
    for keyword, rest in _instructions():
        if keyword == "WORKDIR":
            workdir = rest
        elif keyword == "COPY" and "dashboard" in shlex.split(rest)[:-1]:
            source_dirs.append(workdir)
    assert source_dirs, "the package is not copied into the image"
    runs = " ".join(_of("RUN"))
    for folder in source_dirs:
        assert folder != _of("WORKDIR")[-1], f"the sources stay in the server's folder {folder}"
        # built into a wheel, the wheel installed, both folders removed
        assert f"pip wheel --no-deps --wheel-dir /tmp/wheels {folder}" in runs, folder
        assert "pip install /tmp/wheels/conflictmap-" in runs
        assert f"rm -rf {folder} /tmp/wheels" in runs, folder
    assert "pip install -e" not in runs and "--editable" not in runs


def test_the_hosting_settings_are_installed_and_no_secrets_are():
    assert ["deploy/config.toml"] in [src for src, _ in _copies()]
    targets = {dest for src, dest in _copies() if src == ["deploy/config.toml"]}
    workdir = _of("WORKDIR")[-1]
    assert targets == {f"{workdir}/.streamlit/config.toml"}
    for sources, _ in _copies():
        assert not any(".streamlit" in s or "secrets" in s for s in sources)
    for path in (
        ".streamlit/secrets.toml",
        "deploy/secrets.toml",
        ".venv",
        ".git",
        "test-artifacts",
        "dashboard/app/static/vendor/leaflet/leaflet.js",
        "geodata/.conflictmap-cache/x/events.parquet",
    ):
        assert _ignored(path), f"{path} would be sent to the image build"


def test_the_build_steps_written_in_python_work_on_this_checkout(tmp_path):
    """Each `python -c` of a RUN step, run here with the image's environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFLICTMAP_")}
    for rest in _of("ENV"):
        for key, value in re.findall(r"(\w+)=(\S+)", rest):
            env[key] = value
    env["CONFLICTMAP_CACHE_DIR"] = str(tmp_path / "cache")  # not /var/cache here
    snippets = []
    for rest in _of("RUN"):
        for step in rest.split("&&"):
            words = shlex.split(step)
            if words[:2] == ["python", "-c"]:
                snippets.append(words[2])
    assert len(snippets) >= 2, snippets
    for snippet in snippets:
        done = subprocess.run(
            [sys.executable, "-c", snippet],
            check=False,
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"{snippet}\n{done.stderr[-2000:]}"
    # The warm-up left a build on disk for the server to read.
    assert list((tmp_path / "cache").rglob("events.parquet"))


# --- Streamlit settings ------------------------------------------------------------------


def _options(path: Path) -> dict[str, object]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {
        f"{section}.{key}": value for section, items in data.items() for key, value in items.items()
    }


@pytest.mark.parametrize("path", [DEPLOY_CONFIG, LOCAL_CONFIG], ids=["deploy", "local"])
def test_every_setting_is_a_streamlit_option(path):
    from streamlit import config

    known = config.get_config_options()
    unknown = [key for key in _options(path) if key not in known]
    assert unknown == []


def test_the_hosting_settings_are_safe():
    options = _options(DEPLOY_CONFIG)
    assert options["server.enableXsrfProtection"] is True
    assert options["client.showErrorDetails"] in ("none", False)
    assert options["browser.gatherUsageStats"] is False
    assert 0 < int(options["server.maxUploadSize"]) <= 500
    assert options["server.address"] == "0.0.0.0"
    assert options["server.port"] == 8501
    assert options["server.enableStaticServing"] is True


def test_the_local_settings_stay_on_this_machine():
    options = _options(LOCAL_CONFIG)
    assert options["server.address"] == "localhost"
    assert options["server.enableXsrfProtection"] is True
    assert options["browser.gatherUsageStats"] is False


# --- conflictmap serve -------------------------------------------------------------------


class _Exec(Exception):
    def __init__(self, argv, env):
        super().__init__("execve")
        self.argv = list(argv)
        self.env = dict(env)


@pytest.fixture
def serve(tmp_path, monkeypatch):
    """Run `conflictmap serve ...` from an empty folder with no secrets; never exec."""
    home = tmp_path / "home"
    work = tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    monkeypatch.delenv(access.PASSWORD_ENV, raising=False)
    monkeypatch.delenv(access.INSECURE_ENV, raising=False)

    def fake_execve(path, argv, env):
        raise _Exec(argv, env)

    monkeypatch.setattr(os, "execve", fake_execve)

    def run(*args: str):
        result = CliRunner().invoke(cli, ["serve", *args])
        started = result.exception if isinstance(result.exception, _Exec) else None
        return result, started

    run.work = work  # type: ignore[attr-defined]
    return run


def test_serve_refuses_a_public_address_without_access_control(serve):
    result, started = serve("--address", "0.0.0.0")
    assert started is None
    assert result.exit_code == 2
    assert "refusing to serve on '0.0.0.0' without access control" in result.output
    assert "--insecure-public" in result.output


def test_serve_on_localhost_needs_nothing_and_drops_an_inherited_insecure_flag(serve, monkeypatch):
    monkeypatch.setenv(access.INSECURE_ENV, "1")
    _, started = serve()
    assert started is not None
    assert started.argv[started.argv.index("--server.address") + 1] == "localhost"
    assert access.INSECURE_ENV not in started.env
    assert "--client.showErrorDetails" not in started.argv


def test_serve_with_a_password_starts_on_a_public_address_without_error_details(serve, monkeypatch):
    monkeypatch.setenv(access.PASSWORD_ENV, "a long shared password")
    _, started = serve("--address", "0.0.0.0")
    assert started is not None
    assert started.argv[started.argv.index("--server.address") + 1] == "0.0.0.0"
    assert started.argv[started.argv.index("--client.showErrorDetails") + 1] == "none"
    assert access.INSECURE_ENV not in started.env


def test_serve_reads_a_login_from_the_secrets_file(serve):
    secrets = serve.work / ".streamlit" / "secrets.toml"
    secrets.parent.mkdir()
    secrets.write_text(
        '[auth]\nredirect_uri = "https://dash.example.org/oauth2callback"\n'
        'cookie_secret = "x"\nclient_id = "a"\nclient_secret = "b"\n'
        'server_metadata_url = "https://idp.example.org/.well-known/openid-configuration"\n'
        '[access]\nallowed = ["@example.org"]\n',
        encoding="utf-8",
    )
    _, started = serve("--address", "0.0.0.0")
    assert started is not None


@pytest.mark.parametrize(
    ("args", "compressed"),
    [
        ((), "false"),  # loopback: the bytes never cross a network
        (("--address", "0.0.0.0", "--insecure-public"), "true"),
        (("--websocket-compression", "on"), "true"),
        (("--address", "0.0.0.0", "--insecure-public", "--websocket-compression", "off"), "false"),
    ],
)
def test_serve_compresses_the_websocket_where_it_crosses_a_network(serve, args, compressed):
    _, started = serve(*args)
    assert started is not None
    flag = "--server.enableWebsocketCompression"
    assert started.argv.count(flag) == 1
    assert started.argv[started.argv.index(flag) + 1] == compressed


def test_serve_insecure_public_passes_the_flag_to_the_app(serve):
    _, started = serve("--address", "0.0.0.0", "--insecure-public")
    assert started is not None
    assert started.env[access.INSECURE_ENV] == "1"


def test_serve_names_an_unreadable_secrets_file(serve):
    secrets = serve.work / ".streamlit" / "secrets.toml"
    secrets.parent.mkdir()
    secrets.write_text("[access\npassword = 'hunter2'\n", encoding="utf-8")
    result, started = serve("--address", "0.0.0.0")
    assert started is None and result.exit_code == 2
    assert "secrets.toml: not valid TOML" in result.output
    assert "hunter2" not in result.output


def test_serve_writes_the_static_files_before_the_server_starts(serve, monkeypatch, tmp_path):
    from dashboard import assets

    written = []
    monkeypatch.setattr(assets, "ensure_static_assets", lambda folder: written.append(folder))
    _, started = serve()
    assert started is not None and written == [assets.APP_STATIC_DIR]


@pytest.mark.parametrize(
    ("fault", "says", "wrong_advice"),
    [
        (PermissionError(13, "Permission denied"), "run conflictmap serve once as the owner", ""),
        (
            InputFileError("package 'xstatic.pkg.leaflet' is not installed"),
            "package 'xstatic.pkg.leaflet' is not installed",
            "owner of that folder",  # a missing package is not a folder's permissions
        ),
    ],
)
def test_serve_says_why_it_cannot_write_the_static_files(
    serve, monkeypatch, fault, says, wrong_advice
):
    from dashboard import assets

    def fail(folder):
        raise fault

    monkeypatch.setattr(assets, "ensure_static_assets", fail)
    result, started = serve()
    assert started is None and result.exit_code == 2
    assert says in result.output
    assert not wrong_advice or wrong_advice not in result.output
    assert "Traceback" not in result.output
