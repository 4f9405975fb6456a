"""The demo hospital sits on top of the product: it may use departments, on-call, tickets and
incidents, and nothing in the product depends on it, so an installation without demo data runs
the same code."""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_no_other_installed_app_imports_the_demo():
    ours = [app for app in settings.INSTALLED_APPS if (ROOT / app).is_dir() and app != "demo"]
    assert {"helpdesk", "departments", "tickets", "reports"} <= set(ours)
    importers = sorted(
        str(path.relative_to(ROOT))
        for app in ours
        for path in (ROOT / app).rglob("*.py")
        if any(name == "demo" or name.startswith("demo.") for name in imported_modules(path))
    )
    assert importers == []


def test_the_demo_imports_only_departments_oncall_tickets_incidents_and_itself():
    project = {path.name for path in ROOT.iterdir() if (path / "__init__.py").is_file()}
    used = {
        name.split(".")[0]
        for path in (ROOT / "demo").rglob("*.py")
        for name in imported_modules(path)
    }
    assert used & project <= {"demo", "departments", "oncall", "tickets", "incidents"}
