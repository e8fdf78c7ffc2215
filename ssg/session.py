"""What builds of one site share: the open cache, the compiled templates, and the output folder's history.

`ssg build` opens a session for one build; its history (what each output file was made from, and the
build record) is stored in the cache. The preview's build process keeps one session for its whole life;
it owns its output folder, so that history is kept in memory and the folder is never looked at."""
from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Protocol

import jinja2

from .cache import DATABASE, BuildCache, CacheError
from .folders import CACHE_DIR
from .freshness import BuildRecord, generator_digest, templates_digest
from .markup import MarkdownRenderer
from .sources import Inputs
from .theme import Theme, make_environment

Outputs = dict[str, tuple[str, str]]  # output file -> (page digest or file digest, hash of its bytes)


class History(Protocol):
    """What the last build into an output folder left there."""

    def outputs(self, folder: Path) -> Outputs: ...
    def outputs_of(self, folder: Path, names: list[str]) -> Outputs: ...  # the same, for these files only
    def in_place(self, folder: Path) -> int: ...   # how many files are recorded there; -1 if one is missing
    def build_record(self) -> BuildRecord | None: ...
    def remember(self, folder: Path, outputs: Outputs, previous: Outputs, record: BuildRecord) -> None: ...
    def note(self, record: BuildRecord) -> None: ...  # a new record for the same outputs
    # A build that made a few files again (incremental.py): their rows change, the others stay.
    def remember_some(self, folder: Path, outputs: Outputs, previous: Outputs, record: BuildRecord) -> None: ...


@dataclass(slots=True)
class StoredHistory:
    """For `ssg build`: kept in the cache, and checked against the folder (anyone may have touched it)."""

    cache: BuildCache
    trusts_output = False

    def outputs(self, folder: Path) -> Outputs:
        return self.cache.outputs(folder) if folder.is_dir() else {}

    def outputs_of(self, folder: Path, names: list[str]) -> Outputs:
        return self.cache.outputs_of(folder, names) if folder.is_dir() else {}

    def in_place(self, folder: Path) -> int:
        """Not every file is looked for: at 100,000 articles that alone costs seconds, more than the rest of
        a no-change build. The files at the top of the output and the first and last of each folder there
        find a removed or emptied output folder, or a folder or top-level page deleted by hand."""
        if not folder.is_dir():
            return -1
        count, landmarks = self.cache.output_landmarks(folder)
        prefix = str(folder) + os.sep
        return count if all(os.path.isfile(prefix + name) for name in landmarks) else -1

    def build_record(self) -> BuildRecord | None:
        return self.cache.build_record()

    def remember(self, folder: Path, outputs: Outputs, previous: Outputs, record: BuildRecord) -> None:
        self.cache.store_outputs(folder, outputs, previous)
        self.cache.save_template_references()
        self.cache.store_build_record(record)

    def note(self, record: BuildRecord) -> None:
        self.cache.store_build_record(record)

    def remember_some(self, folder: Path, outputs: Outputs, previous: Outputs, record: BuildRecord) -> None:
        self.cache.store_outputs(folder, outputs, {name: previous[name] for name in outputs if name in previous})
        self.cache.store_build_record(record)


@dataclass(slots=True)
class MemoryHistory:
    """For the preview: only its own process writes its output folder, so what it wrote is known."""

    outputs_written: Outputs = field(default_factory=dict)
    record: BuildRecord | None = None
    trusts_output = True

    def outputs(self, folder: Path) -> Outputs:
        return self.outputs_written

    def outputs_of(self, folder: Path, names: list[str]) -> Outputs:
        return {name: self.outputs_written[name] for name in names if name in self.outputs_written}

    def in_place(self, folder: Path) -> int:
        return len(self.outputs_written)

    def build_record(self) -> BuildRecord | None:
        return self.record

    def remember(self, folder: Path, outputs: Outputs, previous: Outputs, record: BuildRecord) -> None:
        self.outputs_written, self.record = outputs, record

    def note(self, record: BuildRecord) -> None:
        self.record = record

    def remember_some(self, folder: Path, outputs: Outputs, previous: Outputs, record: BuildRecord) -> None:
        self.outputs_written.update(outputs)
        self.record = record


@dataclass(slots=True)
class Session:
    """What a long-running process (the preview) keeps between builds of one site: the cache open with
    its entries in memory, the Jinja environment while no template changes, a Markdown renderer."""

    cache: BuildCache | None = None
    history: History = field(default_factory=MemoryHistory)
    environment: tuple[str, jinja2.Environment] | None = None   # (templates digest, environment)
    renderer: MarkdownRenderer | None = None
    # Called with the output files of the documents just edited, once they are in place and before the
    # rest of the build: the author is looking at the page they edit; the lists around it follow.
    on_edited: Callable[[list[str]], None] | None = None
    # URL paths of the pages open in the author's browser: after a template edit they go first (incremental.py).
    open_pages: tuple[str, ...] = ()
    # The last build's inputs, and the documents (paths under content/) the watcher saw change since, or None
    # when it saw anything but documents and templates: then the next build lists and reads every input again.
    inputs: Inputs | None = None
    edited: tuple[str, ...] | None = None

    def environment_for(self, theme: Theme) -> jinja2.Environment:
        """The theme's Jinja environment: the one kept, compiled templates included, while no template changed."""
        templates = templates_digest(theme)
        if self.environment is None or self.environment[0] != templates:
            self.environment = (templates, make_environment(theme))
        return self.environment[1]

    def save(self) -> None:
        """Write what the builds learned to the site's cache; call it when idle, and before close()."""
        if self.cache is not None:
            try:
                self.cache.save_entries()
                self.cache.save_template_references()
            except CacheError:
                # The builds are done and their output is right; only the cache fell behind (a full disk,
                # a lock held too long). The next build opens it again and, if it still cannot be used,
                # says so and starts a new one.
                self.forget_cache()

    def close(self) -> None:
        self.save()
        self.forget_cache()

    def forget_cache(self) -> None:
        """Close the cache without writing to it."""
        if self.cache is not None:
            self.cache.close()
            self.cache = None


def open_cache(site_dir: Path, use_cache: bool) -> BuildCache:
    return BuildCache(site_dir / CACHE_DIR if use_cache else None, fingerprint=generator_digest())


def discard_cache(site_dir: Path, session: Session | None) -> bool:
    """Close and delete a site's cache that could not be used; True when it is gone and a new one may start.
    A cache folder that is a link stays a link (it may point into a CI cache): only the files in it go."""
    if session is not None:
        session.forget_cache()
    folder = site_dir / CACHE_DIR
    try:
        if not folder.is_dir():
            _remove(folder)  # a file, or a link to nothing, where the folder should be
        for suffix in ("", "-wal", "-shm", "-journal"):  # the database, and what SQLite keeps beside it
            _remove(folder / (DATABASE + suffix))
    except OSError:
        return False  # a read-only folder: this build goes without a cache
    return True


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


@contextlib.contextmanager
def opened_session(site_dir: Path, use_cache: bool, session: Session | None) -> Iterator[Session]:
    """The caller's session with its cache open, or one for this build alone, saved and closed at the end
    (also when the build fails: what it parsed is kept for the next)."""
    if session is not None:
        if session.cache is None:
            session.cache = open_cache(site_dir, use_cache)
        yield session
        return
    cache = open_cache(site_dir, use_cache)
    own = Session(cache=cache, history=StoredHistory(cache))
    try:
        yield own
    except CacheError:
        own.forget_cache()  # nothing more is written to a cache that failed
        raise
    finally:
        own.close()
