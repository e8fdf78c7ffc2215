"""The persistent build cache (.ssg-cache/): parsed documents, their HTML, and what each output was made from."""
from __future__ import annotations

import pickle
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .model import Document

CACHE_DIR = ".ssg-cache"
SCHEMA = 1
# A file modified this close to the moment its entry was stored may change again within the
# file system's timestamp granularity without its size changing, so its stat is not trusted.
RACY_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class CachedDocument:
    mtime_ns: int
    size: int
    folder_state: str        # sizes and times of the files travelling with the document
    digest: str
    stored_at: float
    document: Document       # with body "" (bodies are read on demand: they are most of the memory)

    def still_valid(self, mtime_ns: int, size: int, folder_state: str) -> bool:
        return (mtime_ns, size, folder_state) == (self.mtime_ns, self.size, self.folder_state) \
            and mtime_ns / 1e9 < self.stored_at - RACY_SECONDS


class BuildCache:
    """A small SQLite file. A cache for another fingerprint (settings, versions) is emptied on open."""

    def __init__(self, path: Path | None, fingerprint: str):
        self._temporary = None
        if path is None:  # --no-cache: same machinery, thrown away at the end
            self._temporary = tempfile.TemporaryDirectory(prefix="ssg-cache-")
            path = Path(self._temporary.name)
        path.mkdir(parents=True, exist_ok=True)
        self.path = path / "cache.sqlite"
        self.db = sqlite3.connect(self.path, timeout=30)
        self.db.executescript("""
            PRAGMA journal_mode=WAL;
            PRAGMA synchronous=NORMAL;
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
            CREATE TABLE IF NOT EXISTS documents (relative TEXT PRIMARY KEY, entry BLOB, body TEXT);
            CREATE TABLE IF NOT EXISTS outputs (folder TEXT, name TEXT, key TEXT, hash TEXT,
                                                PRIMARY KEY (folder, name));
        """)
        stored = self.db.execute("SELECT value FROM meta WHERE key='fingerprint'").fetchone()
        if stored is None or stored[0] != f"{SCHEMA}|{fingerprint}":
            with self.db:
                self.db.execute("DELETE FROM documents")
                self.db.execute("DELETE FROM outputs")
                self.db.execute("INSERT OR REPLACE INTO meta VALUES ('fingerprint', ?)", (f"{SCHEMA}|{fingerprint}",))
        (path / ".gitignore").write_text("*\n", encoding="utf-8")

    def documents(self) -> dict[str, CachedDocument]:
        rows = self.db.execute("SELECT relative, entry FROM documents")
        return {relative: pickle.loads(entry) for relative, entry in rows}

    def store_documents(self, entries: list[tuple[str, CachedDocument, str | None]]) -> None:
        """Save (relative, entry, body) triples; a body of None keeps the stored one (only the stat moved)."""
        with self.db:
            for relative, entry, body in entries:
                blob = pickle.dumps(entry, pickle.HIGHEST_PROTOCOL)
                if body is None:
                    self.db.execute("UPDATE documents SET entry=? WHERE relative=?", (blob, relative))
                else:
                    self.db.execute("INSERT OR REPLACE INTO documents VALUES (?, ?, ?)", (relative, blob, body))

    def forget_documents(self, keep: set[str]) -> None:
        """Drop documents whose files no longer exist."""
        with self.db:
            stale = [(rel,) for (rel,) in self.db.execute("SELECT relative FROM documents") if rel not in keep]
            self.db.executemany("DELETE FROM documents WHERE relative=?", stale)

    def outputs(self, folder: Path) -> dict[str, tuple[str, str]]:
        rows = self.db.execute("SELECT name, key, hash FROM outputs WHERE folder=?", (str(folder.resolve()),))
        return {name: (key, digest) for name, key, digest in rows}

    def store_outputs(self, folder: Path, outputs: dict[str, tuple[str, str]]) -> None:
        with self.db:
            self.db.execute("DELETE FROM outputs WHERE folder=?", (str(folder.resolve()),))
            self.db.executemany("INSERT INTO outputs VALUES (?, ?, ?, ?)",
                                [(str(folder.resolve()), name, key, digest) for name, (key, digest) in outputs.items()])

    def close(self) -> None:
        self.db.close()
        if self._temporary is not None:
            self._temporary.cleanup()


class BodyStore:
    """Reads rendered article HTML from the cache on demand; one per process (SQLite connections are not shared)."""

    def __init__(self, path: Path):
        self.path = path
        self._db: sqlite3.Connection | None = None

    def body(self, relative: str) -> str:
        if self._db is None:
            self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
        row = self._db.execute("SELECT body FROM documents WHERE relative=?", (relative,)).fetchone()
        if row is None:
            raise KeyError(relative)
        return row[0]

    def forget_connection(self) -> None:
        """Called in a forked worker: a SQLite connection must not cross a fork."""
        self._db = None
