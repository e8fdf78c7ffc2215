"""Staging: a build's files are collected beside the output folder, then committed into it all or nothing.

The commit first refuses what would make a move fail (a file where a folder must go, a folder where a file
must go), writes a journal (the files it puts, the files it removes, the folders it makes) into the staging
folder, then moves, keeping every old file it replaces or removes in the staging folder (a hard link for a
replaced file, so a reader never misses a page). Removing the journal is the moment the new site is in
place. An error before it undoes the moves at once; a build killed before it leaves the journal, and the next
build undoes it first, while the cache still describes the old output: old site or new one, never a mix.

A live build holds a lock (flock) on its staging folder, which tells it from a dead build's; commits and
recoveries into one output folder take turns (a lock on the folder holding it)."""
from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from .errors import SourceError, SsgError

MANIFEST = ".ssg-manifest.json"   # in the output folder: the files builds of the site wrote (output.py)
RESERVED = ".ssg-"                # names in a staging folder that are the commit's own, never an output file's
JOURNAL = ".ssg-journal.json"
BACKUP = ".ssg-backup"
COPYING = ".ssg-copying"
STAGING = ".staging-"             # .NAME.staging-PID beside the output folder NAME


# An empty, "." or ".." part, a backslash or a NUL: a name that could leave the output folder.
_UNSAFE = re.compile(r"(?:^|/)\.{0,2}(?:/|$)|[\\\0]")


def safe_name(name: str) -> bool:
    """A relative path inside the output folder that is not one of the commit's own names (one regular
    expression: every page of every build is checked)."""
    return isinstance(name, str) and not _UNSAFE.search(name) and not name.startswith(RESERVED)


@dataclass(slots=True)
class Staging:
    """Collects the files of a build in a hidden folder beside the output; nothing is visible until commit()."""

    out_dir: Path
    folder: Path = field(init=False)
    produced: set[str] = field(default_factory=set)
    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    lock: int = field(init=False, default=-1)  # the staging folder, open and locked while this build lives

    def __post_init__(self) -> None:
        self.out_dir = self.out_dir.resolve()
        self.out_dir.parent.mkdir(parents=True, exist_ok=True)
        self.folder = self.out_dir.parent / f".{self.out_dir.name}{STAGING}{os.getpid()}"
        with output_lock(self.out_dir):
            recover(self.out_dir)  # also a folder left with this name by a dead process of the same id
            self.folder.mkdir()
            self.lock = _lock_folder(self.folder)

    def claim(self, name: str) -> None:
        if not safe_name(name):
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

    def commit(self, removed: list[str], manifest: bytes | None) -> None:
        """Move the staged files into place, remove `removed` and write the output's manifest (None: it names
        these files already), all or nothing."""
        put = list(self.written)
        if manifest is not None and not same_bytes(self.out_dir / MANIFEST, manifest):
            (self.folder / MANIFEST).write_bytes(manifest)
            put.append(MANIFEST)
        with output_lock(self.out_dir):
            recover(self.out_dir, live=self.folder)  # a build that died since this one started
            if not os.path.lexists(self.out_dir):
                os.replace(self.folder, self.out_dir)  # a fresh site appears in one rename
            elif put or removed:
                _commit(self.out_dir, self.folder, put, removed)

    def discard(self) -> None:
        """Remove the staging folder, unless a commit that could not be undone left its journal there: the
        next build undoes it."""
        if not os.path.lexists(self.folder / JOURNAL):
            shutil.rmtree(self.folder, ignore_errors=True)
        if self.lock >= 0:
            os.close(self.lock)
            self.lock = -1


def same_bytes(path: Path, data: bytes) -> bool:
    try:
        if path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except OSError:
        return False


def _commit(out: Path, staging: Path, put: list[str], removed: list[str]) -> None:
    made = _check_moves(out, put, removed)  # raises before anything is touched
    journal = staging / JOURNAL
    try:
        with open(journal, "w", encoding="utf-8") as file:  # complete on disk before the first move
            json.dump({"put": put, "remove": removed, "made": made}, file)
            file.flush()
            os.fsync(file.fileno())
        for name in removed:
            _back_up(out / name, staging / BACKUP / name, move=True)
            prune_empty(out, (out / name).parent)
        for name in put:
            target = out / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if os.path.lexists(target):
                _back_up(target, staging / BACKUP / name, move=False)
            os.replace(staging / name, target)  # atomic per file: a reader sees old or new, never half
        journal.unlink()  # the commit point: the new site is the output
    except BaseException as exc:  # Ctrl-C and the preview's SIGTERM too
        try:
            _undo(out, staging, put, removed, made)
        except OSError as failed:
            raise SsgError(SourceError(str(out), 0, f"could not be written ({_reason(exc)}) nor put back as it was "
                                                    f"({_reason(failed)}); the next build puts it back")) from exc
        if isinstance(exc, OSError):
            raise SsgError(SourceError(str(out), 0, f"could not be written ({_reason(exc)}); "
                                                    "it was left as it was")) from exc
        raise


def _check_moves(out: Path, put: list[str], removed: list[str]) -> list[str]:
    """Refuse what would make a move fail; return the folders the commit makes, so an undo removes them."""
    removing, seen, made = set(removed), set(), []
    for name in put:
        parts = name.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if folder in seen:
                continue
            seen.add(folder)
            path = out / folder
            if folder not in removing:  # (a file that goes: a folder takes its place)
                if path.is_symlink() and not Path(os.path.realpath(path)).is_relative_to(out):
                    raise _in_the_way(path, f"is a link to a folder outside the output folder (for {name})")
                if path.is_dir():
                    continue
                if os.path.lexists(path):
                    raise _in_the_way(path, f"is a file where a folder must go (for {name})")
            made.append(folder)
        target = out / name
        if target.is_dir() and not target.is_symlink() and _stays(target, name + "/", removing):
            raise _in_the_way(target, "is a folder where a file must go")
    return made


def _in_the_way(path: Path, why: str) -> SsgError:
    return SsgError(SourceError(str(path), 0, f"{why}; move it out of the output folder"))


def _stays(folder: Path, prefix: str, removing: set[str]) -> bool:
    """Whether anything in `folder` is left once the commit's removals are made."""
    entries = list(os.scandir(folder))
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            if _stays(Path(entry.path), prefix + entry.name + "/", removing):
                return True
        elif prefix + entry.name not in removing:
            return True
    return not entries


def _back_up(path: Path, backup: Path, move: bool) -> None:
    backup.parent.mkdir(parents=True, exist_ok=True)
    if move:
        os.replace(path, backup)
        return
    try:
        os.link(path, backup, follow_symlinks=False)  # the output keeps its file until the new one replaces it
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
        copying = backup.parent / COPYING  # a file system without hard links: an atomic copy
        shutil.copy2(path, copying, follow_symlinks=False)
        os.replace(copying, backup)


def _undo(out: Path, staging: Path, put: list[str], removed: list[str], made: list[str]) -> None:
    """Put back the output as it was before the journaled commit. Each step looks at what is there, so an
    undo that is itself interrupted can run again."""
    for name in reversed(put):
        target, staged, backup = out / name, staging / name, staging / BACKUP / name
        if not os.path.lexists(staged) and os.path.lexists(target):  # it was moved in: take it out again
            os.replace(target, staged)
        if _backed_up(backup):
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(backup, target)
    for folder in sorted(made, key=lambda folder: folder.count("/"), reverse=True):
        with contextlib.suppress(OSError):
            (out / folder).rmdir()
    for name in reversed(removed):
        backup = staging / BACKUP / name
        if _backed_up(backup):
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(backup, out / name)
    (staging / JOURNAL).unlink(missing_ok=True)


def _backed_up(backup: Path) -> bool:
    """A file kept by the commit (a folder there only holds the backups of the files that were in it)."""
    return os.path.islink(backup) or os.path.isfile(backup)


def recover(out_dir: Path, live: Path | None = None) -> None:
    """Undo the unfinished commit of every dead build into out_dir and remove their staging folders; a live
    build's staging folder (and `live`, the caller's) is left alone. The caller holds output_lock(out_dir)."""
    prefix = f".{out_dir.name}{STAGING}"
    try:
        names = [name for name in os.listdir(out_dir.parent) if name.startswith(prefix)]
    except OSError:
        return
    for name in names:
        folder = out_dir.parent / name
        if not name[len(prefix):].isdigit() or folder == live or folder.is_symlink() or not folder.is_dir():
            continue
        lock = _lock_if_dead(folder, int(name[len(prefix):]))
        if lock is None:
            continue
        try:
            journal = _read_journal(folder)
            if journal is not None and out_dir.is_dir():  # (a folder deleted since is left deleted)
                _undo(out_dir, folder, *journal)
            shutil.rmtree(folder)
        finally:
            os.close(lock)


def recover_output(out_dir: Path) -> None:
    """Before a build reads anything: put back the output of a build killed in its commit."""
    out_dir = out_dir.resolve()
    if out_dir.parent.is_dir():
        with output_lock(out_dir):
            recover(out_dir)


def _read_journal(folder: Path) -> tuple[list[str], list[str], list[str]] | None:
    """The journal's lists, or None when it is missing or was cut short (then no move had been made)."""
    try:
        data = json.loads((folder / JOURNAL).read_text(encoding="utf-8"))
        lists = [[str(name) for name in data[key]] for key in ("put", "remove", "made")]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not all(safe_name(name) or name == MANIFEST for names in lists for name in names):
        return None
    return lists[0], lists[1], lists[2]


@contextlib.contextmanager
def output_lock(out_dir: Path) -> Iterator[None]:
    """Commits and recoveries into out_dir take turns: a lock on the folder holding it (which always exists)."""
    fd = os.open(out_dir.parent, os.O_RDONLY)
    try:
        with contextlib.suppress(OSError):  # a file system without locks: go on, as before locks
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _lock_folder(folder: Path) -> int:
    fd = os.open(folder, os.O_RDONLY)
    with contextlib.suppress(OSError):
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # nobody else knows the folder yet
    return fd


def _lock_if_dead(folder: Path, pid: int) -> int | None:
    """The staging folder locked, if the build that made it is dead; None if it lives."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd
    except BlockingIOError:
        pass  # locked: its build lives
    except OSError:  # a file system without locks: ask whether the process lives (this one has no other)
        if pid == os.getpid() or not _process_lives(pid):
            return fd
    os.close(fd)
    return None


def _process_lives(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # PermissionError: another user's process, alive
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def prune_empty(root: Path, folder: Path) -> None:
    while folder != root and folder.is_dir() and not folder.is_symlink() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    return str(exc) or type(exc).__name__
