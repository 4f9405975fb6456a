"""A fresh clone of the project, for the tests that use it as a user (`make run`) or an image build
(the Dockerfile) would."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import need

REPO = Path(__file__).resolve().parents[2]


def need_a_checkout() -> None:
    need(shutil.which("git") is not None and (REPO / ".git").exists(), "A git checkout")


def git_files(*args: str) -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", *args], cwd=REPO, check=True, capture_output=True
    ).stdout
    return [name for name in listed.decode().split("\0") if name]


def copy_project(target: Path) -> None:
    """What a clone would hold, plus files not committed yet (and not ignored)."""
    names = git_files() + git_files("--others", "--exclude-standard")
    for name in dict.fromkeys(names):
        source = REPO / name
        if not source.is_file():  # deleted in the working tree but still in the index
            continue
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        # copy2 keeps the modification times, so make sees the copy as it sees the checkout.
        shutil.copy2(source, destination, follow_symlinks=False)
