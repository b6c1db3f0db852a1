"""The module boundaries of STYLE.md: only app/ imports streamlit; only app/ and layers import folium."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from dashboard.assets import MAP_MODULES

PACKAGE = Path(__file__).resolve().parents[1] / "dashboard"


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if ".venv" not in p.parts)


def test_package_has_modules():
    assert len(_modules()) >= 5


def test_only_app_imports_streamlit():
    offenders = [
        str(p.relative_to(PACKAGE))
        for p in _modules()
        if "app" not in p.relative_to(PACKAGE).parts
        and {"streamlit", "streamlit_folium"} & _imported_roots(p)
    ]
    assert offenders == []


def test_only_app_and_layers_import_folium():
    offenders = [
        str(p.relative_to(PACKAGE))
        for p in _modules()
        if "app" not in p.relative_to(PACKAGE).parts
        and p.name != "layers.py"
        and "layers" not in p.relative_to(PACKAGE).parts
        and {"folium", "branca"} & _imported_roots(p)
    ]
    assert offenders == []


def _imports_app(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        if any(n == "dashboard.app" or n.startswith("dashboard.app.") for n in names):
            return True
    return False


def test_nothing_outside_app_imports_app():
    """The page is the top layer: exports, the command line and the build never reach up
    into it (the view state and its permalink grammar live in ``dashboard.viewstate``, the
    access policy ``conflictmap serve`` checks in ``dashboard.access``)."""
    offenders = {
        str(p.relative_to(PACKAGE))
        for p in _modules()
        if "app" not in p.relative_to(PACKAGE).parts and _imports_app(p)
    }
    assert offenders == set(), sorted(offenders)


def test_the_projects_exceptions_live_in_errors():
    """Every exception the CLI and the page show as a message (a ``DashboardError``) is
    defined in ``dashboard/errors.py``; the modules that raise them import them."""
    elsewhere = []
    for path in _modules():
        if path.name == "errors.py" and path.parent == PACKAGE:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            bases = [b.id for b in getattr(node, "bases", []) if isinstance(b, ast.Name)]
            if isinstance(node, ast.ClassDef) and "DashboardError" in bases:
                elsewhere.append(f"{path.relative_to(PACKAGE)}:{node.name}")
    assert elsewhere == []


def test_the_command_line_has_one_error_type():
    """Every ``conflictmap`` command fails through ``cli.common.CliError`` (one line naming
    the command, exit 2): no module of the command line defines its own."""
    own = []
    for path in sorted((PACKAGE / "cli").glob("*.py")):
        if path.name == "common.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                "Exception" in ast.unparse(base) or "Error" in ast.unparse(base)
                for base in node.bases
            ):
                own.append(f"cli/{path.name}:{node.name}")
    assert own == []


# --- the map's script: one module per file in app/static/js (assets.MAP_MODULES) ----------

JS_DIR = PACKAGE / "app" / "static" / "js"


def _map_scripts() -> dict[str, str]:
    """The text of each module of the map's script, in load order."""
    return {m: (JS_DIR / f"{m}.js").read_text(encoding="utf-8") for m in MAP_MODULES}


def test_every_script_of_the_map_is_a_registered_module():
    """A script in static/js reaches a page only as one of assets.MAP_MODULES (the Play/Pause
    button's, a Streamlit component, is loaded by Streamlit)."""
    assert {p.stem for p in JS_DIR.glob("*.js")} - {"playpause"} == set(MAP_MODULES)


def test_the_map_script_defines_each_helper_once():
    """core.js defines the shared helpers; the other modules take them from
    ``L.ConflictMap.util`` instead of keeping copies that drift (the hexagons' own ``isoDay``
    had lost the guard against missing dates, and their ``shortCount`` wrote counts of a
    million or more otherwise than the points' badges)."""
    scripts = _map_scripts()
    util = re.search(r"CM\.util = \{(.*?)\};", scripts["core"], re.DOTALL)
    assert util is not None
    shared = re.findall(r"(\w+):", util.group(1))
    assert {"el", "isoDay", "fmtCount", "shortCount"} <= set(shared)
    for helper in shared:
        # "function el(" or "var DAY_MS = ...", not "el = util.el" nor "CM.shortCount = ..."
        definition = re.compile(
            rf"\bfunction {helper}\(|(?<![\w.]){helper} = (?!(CM\.)?util\.{helper}\b)"
        )
        owners = [m for m, text in scripts.items() for _ in definition.finditer(text)]
        assert owners == ["core"], (helper, owners)
    # The helpers a module takes are ones core.js shares.
    for module, text in scripts.items():
        taken = set(re.findall(r"\butil\.(\w+)", text))
        assert taken <= set(shared), (module, taken - set(shared))


def test_each_map_module_uses_only_the_modules_it_needs():
    """A module reads from ``L.ConflictMap`` only what it defines or what the modules it
    needs (assets.MAP_MODULES) define: those are the ones a page loads before it. And each
    name has one module that defines it."""
    scripts = _map_scripts()
    namespace = re.search(r"L\.ConflictMap = \{(.*?)\}", scripts["core"])
    assert namespace is not None
    owner: dict[str, str] = dict.fromkeys(re.findall(r"(\w+):", namespace.group(1)), "core")
    for module, text in scripts.items():
        for name in re.findall(r"\bCM\.(\w+) = ", text):
            assert owner.setdefault(name, module) == module, f"CM.{name}: {owner[name]}, {module}"
    for module, text in scripts.items():
        for name in set(re.findall(r"\bCM\.(\w+)", text)):
            assert name in owner, f"{module}.js reads CM.{name}, which no module defines"
            assert owner[name] in (module, *MAP_MODULES[module]), (
                f"{module}.js reads CM.{name} of {owner[name]}.js, not among the modules it needs"
            )


def _readme_layout() -> list[str]:
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    return section.split("```", 2)[1].splitlines()


def test_the_readme_layout_names_every_module_once():
    listed: list[str] = []
    folders: list[tuple[int, str]] = []  # (indent, folder) of the lines above
    for line in _readme_layout():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        name = line.split()[0]
        folders = [(i, f) for i, f in folders if i < indent]
        if name.endswith("/"):
            folders.append((indent, name))
        elif name.endswith(".py"):
            listed.append("".join(f for _, f in folders) + name)
    on_disk = sorted(
        str(p.relative_to(PACKAGE.parent))
        for p in PACKAGE.rglob("*.py")
        if "__pycache__" not in p.parts
    )
    assert len(listed) == len(set(listed)), "a module is listed twice"
    assert sorted(listed) == on_disk


def test_the_readme_layout_names_every_map_module():
    text = "\n".join(_readme_layout())
    scripts = sorted(p.name for p in (PACKAGE / "app" / "static" / "js").glob("*.js"))
    assert sorted(set(re.findall(r"\b[a-z]+\.js\b", text))) == scripts


def test_no_private_name_crosses_a_module():
    # A name with a leading underscore is its module's own; a module with one (layers/_base)
    # belongs to its package. Other modules use public names, or the seam is missing.
    crossings = []
    for path in _modules():
        here = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or not (node.module or "").startswith(
                "dashboard"
            ):
                continue
            module = node.module or ""
            for alias in node.names:
                dunder = alias.name.startswith("__") and alias.name.endswith("__")
                if alias.name.startswith("_") and not dunder:
                    crossings.append(f"{here}: {module}.{alias.name}")
            private = [p for p in module.split(".") if p.startswith("_")]
            if private and not here.startswith(module.rsplit(".", 1)[0] + "."):
                crossings.append(f"{here}: {module}")
    assert crossings == []
