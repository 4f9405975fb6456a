"""The app import graph is a line, read from the source with ``ast`` (nothing is imported):
``core <- audit <- departments <- oncall <- tickets <- (reports, intake)``, with ``helpdesk``
(configuration) above them all. An import is where it is because that is the layer its code
belongs to: an import written inside a function to get round a cycle hides code that sits in the
wrong place."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "audit", "departments", "oncall", "tickets", "incidents", "reports", "intake",
            "demo", "bench", "faults", "helpdesk")  # fmt: skip

# Which project packages each app may import (itself aside).
ALLOWED = {
    "core": set(),
    # The audit log sits low, so that every app can write to it.
    "audit": {"core"},
    "departments": {"audit", "core"},
    "oncall": {"departments", "audit", "core"},
    "tickets": {"oncall", "departments", "audit", "core"},
    # Major incidents sit above the tickets they link and resolve; the reports read them.
    "incidents": {"tickets", "oncall", "departments", "audit", "core"},
    "reports": {"incidents", "tickets", "oncall", "departments", "audit", "core"},
    # E-mail in sits beside the reports: nothing but the configuration depends on it.
    "intake": {"tickets", "oncall", "departments", "audit", "core"},
}

# The bench and the faults harness are scripts: they point Django at their settings (the
# harness: the environment it gives the processes it starts), then import the apps.
IMPORTS_AFTER_SETUP = {"bench", "faults"}


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name
    imported: str  # dotted project module name
    line: int
    in_function: bool
    type_checking: bool

    @property
    def where(self) -> str:
        return f"{self.importer}:{self.line} imports {self.imported}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> Iterator[tuple[str, Path]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield module_name(path), path


def is_project(name: str) -> bool:
    return name.split(".")[0] in PACKAGES


class ImportVisitor(ast.NodeVisitor):
    def __init__(self, importer: str, is_package: bool) -> None:
        self.importer = importer
        self.package = importer if is_package else importer.rpartition(".")[0]
        self.function_depth = 0
        self.type_checking_depth = 0
        self.found: list[Import] = []

    def add(self, imported: str, node: ast.stmt) -> None:
        if is_project(imported):
            self.found.append(
                Import(
                    self.importer,
                    imported,
                    node.lineno,
                    in_function=self.function_depth > 0,
                    type_checking=self.type_checking_depth > 0,
                )
            )

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            anchor = self.package.split(".")
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join([*anchor, base] if base else anchor)
        for alias in node.names:
            # ``from tickets import paging`` imports the module tickets.paging.
            candidate = f"{base}.{alias.name}"
            module = candidate if (ROOT / f"{candidate.replace('.', '/')}.py").exists() else base
            self.add(module, node)

    def visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        self.function_depth += 1
        self.generic_visit(node)
        self.function_depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = visit_function

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        if (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        ):
            self.type_checking_depth += 1
            for child in node.body:
                self.visit(child)
            self.type_checking_depth -= 1
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)


def imports_of(name: str, path: Path) -> list[Import]:
    visitor = ImportVisitor(name, path.name == "__init__.py")
    visitor.visit(ast.parse(path.read_text(), filename=str(path)))
    return visitor.found


IMPORTS = [found for name, path in project_modules() for found in imports_of(name, path)]


def package_of(module: str) -> str:
    return module.split(".")[0]


def is_migration(module: str) -> bool:
    return ".migrations." in f"{module}."


def test_the_parser_sees_the_project() -> None:
    """A test that read nothing would pass: the graph below is built from real imports."""
    importers = {package_of(found.importer) for found in IMPORTS}
    assert set(ALLOWED) - {"core"} <= importers
    assert any(f.importer == "tickets.paging" and f.imported == "oncall.selectors" for f in IMPORTS)


@pytest.mark.parametrize("app", sorted(ALLOWED))
def test_each_app_imports_only_the_apps_below_it(app: str) -> None:
    wrong = [
        found.where
        for found in IMPORTS
        if package_of(found.importer) == app
        and package_of(found.imported) not in {app, *ALLOWED[app]}
    ]
    assert wrong == []


def test_the_apps_make_a_line_with_no_circle() -> None:
    edges = {
        (package_of(found.importer), package_of(found.imported))
        for found in IMPORTS
        if package_of(found.importer) in ALLOWED and package_of(found.imported) in ALLOWED
    }
    order = ["core", "audit", "departments", "oncall", "tickets", "incidents", "reports", "intake"]
    upward = sorted((a, b) for a, b in edges if a != b and order.index(b) > order.index(a))
    assert upward == []


def test_nothing_imports_the_demo_or_the_bench() -> None:
    wrong = [
        found.where
        for found in IMPORTS
        if package_of(found.imported) in {"demo", "bench"}
        and package_of(found.importer) not in {"demo", "bench", "faults"}
    ]
    # The bench builds its tickets the way the demo does (demo.sla_history), never the reverse.
    wrong += [
        found.where
        for found in IMPORTS
        if package_of(found.importer) == "demo" and package_of(found.imported) == "bench"
    ]
    assert wrong == []


def test_no_app_imports_the_project_configuration() -> None:
    wrong = [
        found.where
        for found in IMPORTS
        if package_of(found.importer) in {*ALLOWED, "demo"}
        and package_of(found.imported) == "helpdesk"
    ]
    assert wrong == []


def is_models(module: str) -> bool:
    parts = module.split(".")
    return package_of(module) in ALLOWED and "models" in parts[1:2]


def test_helpdesk_imports_no_app_models_at_module_level() -> None:
    wrong = [
        found.where
        for found in IMPORTS
        if package_of(found.importer) == "helpdesk"
        and not found.in_function
        and is_models(found.imported)
    ]
    assert wrong == []


def reached_at_import(start: str) -> set[str]:
    """Every project module that importing ``start`` imports, following module-level imports."""
    module_level: dict[str, set[str]] = {}
    for found in IMPORTS:
        if not found.in_function and not found.type_checking:
            module_level.setdefault(found.importer, set()).add(found.imported)
    seen: set[str] = set()
    todo = [start]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        # Importing a.b.c runs a/__init__.py and a/b/__init__.py first.
        parents = [".".join(module.split(".")[:n]) for n in range(1, module.count(".") + 1)]
        todo.extend(parents)
        todo.extend(module_level.get(module, ()))
    return seen - {start}


@pytest.mark.parametrize("module", ["helpdesk.middleware", "helpdesk.context_processors"])
def test_middleware_and_context_processors_import_no_app_models(module: str) -> None:
    """The settings name them, so they load before any request; a model imported there ties
    the configuration to the apps' tables."""
    assert sorted(m for m in reached_at_import(module) if is_models(m)) == []


def test_no_project_import_inside_a_function() -> None:
    wrong = [
        found.where
        for found in IMPORTS
        if found.in_function
        and not is_migration(found.importer)
        and package_of(found.importer) not in IMPORTS_AFTER_SETUP
    ]
    assert wrong == []


def module_stems(package: str) -> set[str]:
    return {path.stem for path in (ROOT / package).rglob("*.py") if ".venv" not in path.parts}


def test_tests_mirror_the_code() -> None:
    """A test named after a module sits in the folder of the app that holds that module: when
    a module moves to another app, its tests move with it."""
    stems = {package: module_stems(package) for package in PACKAGES}
    misplaced = []
    for package in PACKAGES:
        for test in sorted((ROOT / "tests" / package).glob("test_*.py")):
            subject = test.stem.removeprefix("test_")
            elsewhere = sorted(other for other in PACKAGES if subject in stems[other])
            if elsewhere and subject not in stems[package]:
                misplaced.append(f"tests/{package}/{test.name} tests {elsewhere[0]}/{subject}")
    assert misplaced == []
