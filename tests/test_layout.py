"""The module boundaries of STYLE.md: only app/ imports streamlit; only app/ and layers import folium."""

from __future__ import annotations

import ast
from pathlib import Path

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


def test_the_map_script_defines_each_helper_once():
    """conflictmap.js has two sections (the layers, then the hexagons); the second takes the
    first's helpers from ``L.ConflictMap.util`` instead of keeping copies that drift (its
    own ``isoDay`` had lost the guard against missing dates)."""
    script = (PACKAGE / "app" / "static" / "js" / "conflictmap.js").read_text(encoding="utf-8")
    for helper in ("el", "isoDay"):
        assert script.count(f"function {helper}(") == 1, helper
