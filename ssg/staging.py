"""Staging: a build's files are collected beside the output folder and moved into it only at the end."""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .errors import SourceError, SsgError


@dataclass(slots=True)
class Staging:
    """Collects the files of a build in a hidden folder beside the output; nothing is visible until commit()."""

    out_dir: Path
    folder: Path = field(init=False)
    produced: set[str] = field(default_factory=set)
    written: list[str] = field(default_factory=list)
    unchanged: int = 0

    def __post_init__(self) -> None:
        self.out_dir = self.out_dir.resolve()
        self.out_dir.parent.mkdir(parents=True, exist_ok=True)
        self.folder = self.out_dir.parent / f".{self.out_dir.name}.staging-{os.getpid()}"
        if self.folder.exists():
            shutil.rmtree(self.folder)
        self.folder.mkdir()

    def claim(self, name: str) -> None:
        if not name or name.startswith("/") or ".." in name.split("/") or "\\" in name or "\0" in name:
            raise SsgError(SourceError(name, 0, "refusing to write outside the output folder"))
        if name in self.produced:
            raise SsgError(SourceError(name, 0, "two inputs produce this same output file"))
        self.produced.add(name)

    def add(self, name: str, data: bytes) -> None:
        """Stage `data` for out_dir/name unless the file there already holds exactly these bytes."""
        self.claim(name)
        if same_bytes(self.out_dir / name, data):
            self.unchanged += 1
            return
        target = self.folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        self.written.append(name)

    def record(self, name: str, written: bool) -> None:
        """A file another process staged (written) or found unchanged; its name is already claimed."""
        if written:
            self.written.append(name)
        else:
            self.unchanged += 1

    def keep(self, name: str) -> None:
        """The file already in the output is known to be current (the cache says so)."""
        self.claim(name)
        self.unchanged += 1

    def commit(self, previous: set[str] | None = None) -> list[str]:
        """Move staged files into place and delete outputs this build no longer makes; return the removed."""
        if not self.out_dir.exists():
            os.replace(self.folder, self.out_dir)  # a fresh site appears in one rename
            return []
        existing = previous if previous is not None else _walk(self.out_dir)
        for name in self.written:
            target = self.out_dir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.folder / name, target)  # atomic per file: a reader sees old or new, never half
        removed = sorted(name for name in existing - self.produced if (self.out_dir / name).is_file())
        for name in removed:
            (self.out_dir / name).unlink()
            _prune_empty(self.out_dir, (self.out_dir / name).parent)
        self.discard()
        return removed

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def same_bytes(path: Path, data: bytes) -> bool:
    try:
        if path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except OSError:
        return False


def _walk(root: Path) -> set[str]:
    """Files a build may delete: hidden ones (.git of a deploy worktree, .nojekyll) are the user's."""
    names = set()
    for folder, dirnames, files in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        relative = os.path.relpath(folder, root).replace(os.sep, "/")
        prefix = "" if relative == "." else relative + "/"
        names.update(prefix + name for name in files if not name.startswith("."))
    return names


def _prune_empty(root: Path, folder: Path) -> None:
    while folder != root and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent
