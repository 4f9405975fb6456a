"""The production image's contents, proved without a docker engine.

The Dockerfile's COPY lines and ``.dockerignore`` select files from a fresh clone (with a
developer's local files planted beside it); the test copies exactly those into a temporary ``/app``,
installs the project from there as the Dockerfile does, and then, with the Dockerfile's environment,
runs what the image runs: ``collectstatic`` from ``/app``, Django's deployment checklist, and an
import of every installed app from the installed package alone.

What is emulated, and how: COPY (sources in the build context, destinations under WORKDIR) and
``.dockerignore`` with Docker's own matching rules (a pattern is anchored at the context's root,
``**`` spans folders, a folder that matches takes its contents with it, the last matching line wins,
``!`` re-includes). The install is ``pip install --no-deps`` of that copy into a fresh virtualenv
that borrows this one's third-party packages (installed from the same pins in pyproject.toml) and
none of this checkout's own code. About 20-40 s.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import subprocess
import sys
import sysconfig
import tomllib
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path, PurePosixPath

import pytest

from tests.helpdesk.checkout import REPO, copy_project, need_a_checkout

# A developer's checkout holds more than a clone: none of it may reach the image.
LOCAL_FILES = [
    ".git/HEAD",
    ".env",
    ".venv/bin/python",
    "var/helpdesk.sqlite3",
    "var/demo-secret-key",
    "var/staticfiles/staticfiles.json",
    "tickets/__pycache__/models.cpython-311.pyc",
    "test-artifacts/queue.png",
    "node_modules/htmx.org/package.json",
    ".pytest_cache/README.md",
    "helpdesk.egg-info/PKG-INFO",
]


class NotEmulated(Exception):
    """A Dockerfile or .dockerignore feature this test does not reproduce: extend the test."""


# -- .dockerignore ------------------------------------------------------------------------------


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """Docker's translation of one .dockerignore pattern (moby's patternmatcher)."""
    regex, i = "^", 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):
                i += 1
            regex += ".*" if i == len(pattern) else "(.*/)?"
            continue
        char = pattern[i]
        if char == "*":
            regex += "[^/]*"
        elif char == "?":
            regex += "[^/]"
        elif char == "\\" and i + 1 < len(pattern):
            i += 1
            regex += re.escape(pattern[i])
        elif char == "[":
            raise NotEmulated(f".dockerignore character class in {pattern!r}")
        else:
            regex += re.escape(char)
        i += 1
    return re.compile(regex + "$")


@dataclass
class DockerIgnore:
    rules: list[tuple[bool, re.Pattern[str]]] = field(default_factory=list)  # (exception, regex)

    @classmethod
    def parse(cls, text: str) -> DockerIgnore:
        ignore = cls()
        for line in text.splitlines():
            pattern = line.strip()
            if not pattern or pattern.startswith("#"):
                continue
            exception = pattern.startswith("!")
            pattern = os.path.normpath(pattern.removeprefix("!").strip()).lstrip("/")
            ignore.rules.append((exception, _pattern_regex(pattern)))
        return ignore

    def excludes(self, path: str) -> bool:
        """Whether a file at ``path`` (relative, with slashes) stays out of the build context."""
        parts = path.split("/")
        candidates = [path] + ["/".join(parts[: i + 1]) for i in range(len(parts) - 1)]
        excluded = False
        for exception, regex in self.rules:
            if exception == excluded and any(regex.match(c) for c in candidates):
                excluded = not exception
        return excluded

    def prunes(self, folder: str) -> bool:
        """Whether nothing below ``folder`` can be in the context (no exception could bring it
        back), so the walk need not enter it."""
        return self.excludes(folder) and not any(exception for exception, _ in self.rules)


def build_context(root: Path, ignore: DockerIgnore) -> set[str]:
    """The files ``docker build`` sends from ``root``, as relative paths."""
    selected = set()
    for folder, subfolders, files in os.walk(root):
        relative = PurePosixPath(Path(folder).relative_to(root).as_posix())
        subfolders[:] = [name for name in subfolders if not ignore.prunes(str(relative / name))]
        for name in files:
            path = str(relative / name)
            if not ignore.excludes(path):
                selected.add(path)
    return selected


# -- Dockerfile ---------------------------------------------------------------------------------


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined and comments dropped."""
    found, pending = [], ""
    for line in dockerfile.splitlines():
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if text.endswith("\\"):
            pending += text[:-1] + " "
            continue
        keyword, _, arguments = (pending + text).partition(" ")
        pending = ""
        found.append((keyword.upper(), arguments.strip()))
    return found


@dataclass
class Image:
    workdir: PurePosixPath = field(default_factory=lambda: PurePosixPath("/"))
    env: dict[str, str] = field(default_factory=dict)
    # (sources, destination, whether the destination is a folder the sources go into)
    copies: list[tuple[list[str], PurePosixPath, bool]] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, dockerfile: str) -> Image:
        image = cls()
        for keyword, arguments in instructions(dockerfile):
            if keyword == "WORKDIR":
                image.workdir = image.workdir / arguments
            elif keyword == "ENV":
                for word in shlex.split(arguments):
                    name, equals, value = word.partition("=")
                    if not equals:
                        raise NotEmulated(f"ENV without '=': {arguments!r}")
                    image.env[name] = value
            elif keyword == "COPY":
                words = (
                    json.loads(arguments) if arguments.startswith("[") else shlex.split(arguments)
                )
                for flag in (word for word in words if word.startswith("--")):
                    if not flag.startswith(("--chown=", "--chmod=", "--link")):
                        raise NotEmulated(f"COPY {flag}")
                *sources, destination = [word for word in words if not word.startswith("--")]
                target = image.workdir / destination
                into = len(sources) > 1 or destination.endswith("/") or target == image.workdir
                image.copies.append((sources, target, into))
            elif keyword == "ADD":
                raise NotEmulated("ADD (use COPY)")
            elif keyword == "RUN":
                image.runs.append(arguments)
        return image

    def build_environment(self, command: str) -> dict[str, str]:
        """The ENV plus the ``NAME=value`` words in front of the RUN line that runs ``command``."""
        line = next((run for run in self.runs if command in run), None)
        assert line is not None, f"the Dockerfile never runs {command!r}"
        extra = {}
        for word in shlex.split(line):
            name, equals, value = word.partition("=")
            if not equals or not name.isidentifier():
                break
            extra[name] = value
        return {**self.env, **extra}

    def place(self, context: set[str], root: Path, app: Path) -> set[str]:
        """Copy what the COPY lines take from the context at ``root`` into ``app``, which stands
        for WORKDIR; the context's paths taken."""
        taken_from_context = set()
        for sources, target, into in self.copies:
            if target != self.workdir and self.workdir not in target.parents:
                raise NotEmulated(f"COPY to {target}, outside WORKDIR {self.workdir}")
            inside = target.relative_to(self.workdir)
            for source in sources:
                source = os.path.normpath(source)
                if source == ".":
                    taken = {path: path for path in context}
                else:
                    prefix = source + "/"
                    taken = {
                        path: path.removeprefix(prefix)
                        for path in context
                        if path.startswith(prefix)
                    }
                    if not taken and source in context:  # a file
                        taken = {source: PurePosixPath(source).name if into else ""}
                assert taken, f"COPY {source}: not in the build context (missing or ignored)"
                for path, below in taken.items():
                    placed_at = inside / below if below else inside
                    (app / placed_at).parent.mkdir(parents=True, exist_ok=True)
                    (app / placed_at).write_bytes((root / path).read_bytes())
                taken_from_context.update(taken)
        return taken_from_context


# -- the checks ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "path", "excluded"),
    [
        ("tests", "tests/conftest.py", True),  # a folder takes its contents with it
        ("tests", "tickets/tests/test_x.py", False),  # anchored at the context's root
        ("**/__pycache__", "tickets/migrations/__pycache__/a.pyc", True),
        ("**/*.sqlite3", "helpdesk.sqlite3", True),  # ** spans zero folders too
        ("*.md", "docs/guide.md", False),  # * stays within one folder
        ("/var", "var/broker/queue/x", True),  # a leading slash means the root
        ("docs\n!docs/keep.md", "docs/keep.md", False),  # the last matching line wins
        ("docs\n!docs/keep.md", "docs/drop.md", True),
    ],
)
def test_dockerignore_patterns_match_as_docker_matches_them(pattern, path, excluded):
    assert DockerIgnore.parse(pattern).excludes(path) is excluded


def run(command: list[str], *, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)


def test_the_image_holds_what_the_help_desk_needs_to_build_and_run(tmp_path: Path) -> None:
    need_a_checkout()
    context = tmp_path / "context"
    copy_project(context)
    for name in LOCAL_FILES:
        (context / name).parent.mkdir(parents=True, exist_ok=True)
        (context / name).write_text("a developer's local file\n")

    image = Image.parse((context / "Dockerfile").read_text())
    ignore_file = context / ".dockerignore"
    ignore = DockerIgnore.parse(ignore_file.read_text() if ignore_file.exists() else "")
    app = tmp_path / "app"
    taken = image.place(build_context(context, ignore), context, app)
    leaked = [name for name in LOCAL_FILES if name in taken]
    assert leaked == [], f"local files copied into the image: {leaked}"

    # The build backend the image's `pip install` fetches is the one installed here.
    pyproject = tomllib.loads((app / "pyproject.toml").read_text())
    assert f"setuptools=={version('setuptools')}" in pyproject["build-system"]["requires"]

    # A fresh virtualenv: this one's third-party packages (a .pth line, so the checkout's own
    # editable install, itself a .pth, is not processed), then the project installed from the
    # copy, as the Dockerfile's `pip install --no-deps .` does.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    python_version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    site_packages = venv / "lib" / python_version / "site-packages"
    borrowed = dict.fromkeys(sysconfig.get_paths()[key] for key in ("purelib", "platlib"))
    (site_packages / "third_party.pth").write_text("".join(f"{path}\n" for path in borrowed))
    clean = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    installed = run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--no-build-isolation", "--target", str(site_packages), str(app)],
        cwd=app,
        env={**clean, **image.env},
    )  # fmt: skip
    assert installed.returncode == 0, installed.stdout + installed.stderr
    python = str(venv / "bin" / "python")

    # Where the image keeps its data (HELPDESK_VAR_DIR), here under the temporary folder.
    var = tmp_path / "var"

    def environment(base: dict[str, str]) -> dict[str, str]:
        assert "HELPDESK_VAR_DIR" in base, "the image must say where its data lives"
        return {**clean, **base, "HELPDESK_VAR_DIR": str(var)}

    collected = run(
        [python, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=app,
        env=environment(image.build_environment("manage.py collectstatic")),
    )
    assert collected.returncode == 0, collected.stderr[-3000:]
    manifest = json.loads((var / "staticfiles" / "staticfiles.json").read_text())
    assert "css/helpdesk.css" in manifest["paths"]

    # At start, as docker-compose.yml runs it: production settings from the environment.
    production = environment(
        {
            **image.env,
            "DJANGO_DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "helpdesk.example.org",
        }
    )
    checked = run(
        [python, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=app,
        env=production,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr

    # Every installed app, and the WSGI application gunicorn serves, from the installed package
    # alone: run outside /app, so nothing is found in the copy that the package lacks.
    imported = run(
        [python, "-c", IMPORT_EVERY_APP],
        cwd=tmp_path,
        env={**production, "DJANGO_SETTINGS_MODULE": "helpdesk.settings"},
    )
    assert imported.returncode == 0, imported.stderr[-3000:]
    modules: dict[str, str] = json.loads(imported.stdout)
    ours = {name: path for name, path in modules.items() if (REPO / name.split(".")[0]).is_dir()}
    assert "helpdesk.wsgi" in ours
    assert all(Path(path).is_relative_to(site_packages) for path in ours.values()), ours


IMPORT_EVERY_APP = """
import importlib, json
import django
from django.apps import apps
from django.conf import settings

django.setup()
modules = {config.name: config.module.__file__ for config in apps.get_app_configs()}
wsgi = importlib.import_module(settings.WSGI_APPLICATION.rpartition(".")[0])
modules[wsgi.__name__] = wsgi.__file__
print(json.dumps(modules))
"""
