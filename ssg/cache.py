"""The persistent build cache (.ssg-cache/): parsed documents, their HTML, and what each output was made from."""
from __future__ import annotations

import dataclasses
import json
import pickle
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .freshness import RACY_SECONDS, BuildRecord
from .model import Document, Image

SCHEMA = 3


@dataclass(frozen=True, slots=True)
class CachedDocument:
    mtime_ns: int
    size: int
    folder_digest: str        # digest of the sizes and times of the files beside the document
    digest: str
    stored_at: float
    document: Document       # with body "" (bodies are read on demand: they are most of the memory)

    def still_valid(self, mtime_ns: int, size: int, folder_digest: str) -> bool:
        return (mtime_ns, size, folder_digest) == (self.mtime_ns, self.size, self.folder_digest) \
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
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB);
        """)
        stored = self.db.execute("SELECT value FROM meta WHERE key='fingerprint'").fetchone()
        if stored is None or stored[0] != f"{SCHEMA}|{fingerprint}":
            # Written by other code or settings: start over rather than trust any of it.
            self.db.executescript("DROP TABLE IF EXISTS documents; DROP TABLE IF EXISTS outputs; "
                                  "DROP TABLE IF EXISTS entry_changes; DELETE FROM meta;")
            with self.db:
                self.db.execute("INSERT INTO meta VALUES ('fingerprint', ?)", (f"{SCHEMA}|{fingerprint}",))
        self.db.executescript("""
            CREATE TABLE IF NOT EXISTS documents (relative TEXT PRIMARY KEY, body TEXT);
            CREATE TABLE IF NOT EXISTS entry_changes (relative TEXT PRIMARY KEY, entry BLOB);
            CREATE TABLE IF NOT EXISTS outputs (folder TEXT, name TEXT, key TEXT, hash TEXT,
                                                PRIMARY KEY (folder, name));
        """)
        (path / ".gitignore").write_text("*\n", encoding="utf-8")
        self._stored_entries: dict[str, tuple] | None = None  # read on first use: a no-change build never needs them
        self._documents: dict[str, CachedDocument] | None = None
        self._unsaved: set[str] = set()  # entries changed or dropped since they were read
        row = self.db.execute("SELECT value FROM meta WHERE key='template_references'").fetchone()
        self.template_references: dict[str, list[str | None]] = json.loads(row[0]) if row else {}
        self._saved_references = len(self.template_references)
        self._change_rows = 0            # rows in entry_changes

    @property
    def _entries(self) -> dict[str, tuple]:
        """All entries: one blob, rewritten now and then, plus the rows of those changed since (a NULL row is
        a dropped entry). A one-article build then writes one small row, not 10,000 entries."""
        if self._stored_entries is None:
            row = self.db.execute("SELECT value FROM meta WHERE key='entries'").fetchone()
            entries = pickle.loads(row[0]) if row else {}
            changes = self.db.execute("SELECT relative, entry FROM entry_changes").fetchall()
            for relative, entry in changes:
                if entry is None:
                    entries.pop(relative, None)
                else:
                    entries[relative] = pickle.loads(entry)
            self._stored_entries, self._change_rows = entries, len(changes)
        return self._stored_entries

    def documents(self) -> dict[str, CachedDocument]:
        """The stored entries by path. Kept once read: the preview server asks again on every build."""
        if self._documents is None:
            self._documents = {relative: _unpack(values) for relative, values in self._entries.items()}
        return self._documents

    def store_documents(self, entries: list[tuple[str, CachedDocument, str | None]]) -> None:
        """Save (relative, entry, body) triples; a body of None keeps the stored one (only the stat moved).
        Bodies are written at once (rendering reads them back); entries are written by save_entries()."""
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO documents VALUES (?, ?)",
                                [(relative, body) for relative, _, body in entries if body is not None])
        documents = self.documents()
        for relative, entry, _ in entries:
            self._entries[relative] = _pack(entry)
            documents[relative] = entry
            self._unsaved.add(relative)

    def forget_documents(self, keep: set[str]) -> None:
        """Drop documents whose files no longer exist."""
        stale = [relative for relative in self._entries if relative not in keep]
        if not stale:
            return
        with self.db:
            self.db.executemany("DELETE FROM documents WHERE relative=?", [(r,) for r in stale])
        documents = self.documents()
        for relative in stale:
            del self._entries[relative]
            documents.pop(relative, None)
        self._unsaved.update(stale)

    def save_entries(self) -> None:
        """Write the entries that changed: as rows while they are few, else all in one new blob.
        A build that stops before this leaves entries older than the bodies: harmless, as an entry is only
        trusted while its file's stat matches it."""
        if not self._unsaved:
            return
        entries = self._entries
        rows = self._change_rows + len(self._unsaved)
        with self.db:
            if rows > max(256, len(entries) // 20):
                self.db.execute("INSERT OR REPLACE INTO meta VALUES ('entries', ?)",
                                (pickle.dumps(entries, pickle.HIGHEST_PROTOCOL),))
                self.db.execute("DELETE FROM entry_changes")
                self._change_rows = 0
            else:
                self.db.executemany("INSERT OR REPLACE INTO entry_changes VALUES (?, ?)", [
                    (relative, pickle.dumps(entries[relative], pickle.HIGHEST_PROTOCOL) if relative in entries else None)
                    for relative in sorted(self._unsaved)])
                self._change_rows = self.db.execute("SELECT COUNT(*) FROM entry_changes").fetchone()[0]
        self._unsaved.clear()

    def save_template_references(self) -> None:
        """Keep what templates refer to (theme.template_references), if a build learned anything new."""
        if len(self.template_references) != self._saved_references:
            with self.db:
                self.db.execute("INSERT OR REPLACE INTO meta VALUES ('template_references', ?)",
                                (json.dumps(self.template_references),))
            self._saved_references = len(self.template_references)

    def build_record(self) -> BuildRecord | None:
        """What the last build saw (see freshness)."""
        row = self.db.execute("SELECT value FROM meta WHERE key='build_record'").fetchone()
        if row is None:
            return None
        values = json.loads(row[0])
        return BuildRecord(values["stat"], values["content"], datetime.fromisoformat(values["valid_until"]),
                           values["pages"], values["files"], values["documents"])

    def store_build_record(self, record: BuildRecord) -> None:
        value = json.dumps({"stat": record.stat, "content": record.content,
                            "valid_until": record.valid_until.isoformat(), "pages": record.pages,
                            "files": record.files, "documents": record.documents})
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('build_record', ?)", (value,))

    def outputs(self, folder: Path) -> dict[str, tuple[str, str]]:
        rows = self.db.execute("SELECT name, key, hash FROM outputs WHERE folder=?", (str(folder.resolve()),))
        return {name: (key, digest) for name, key, digest in rows}

    def store_outputs(self, folder: Path, outputs: dict[str, tuple[str, str]],
                      previous: dict[str, tuple[str, str]]) -> None:
        """Record what each output file was made from; only rows that differ are written."""
        where = str(folder.resolve())
        with self.db:
            self.db.executemany("DELETE FROM outputs WHERE folder=? AND name=?",
                                [(where, name) for name in previous.keys() - outputs.keys()])
            self.db.executemany("INSERT OR REPLACE INTO outputs VALUES (?, ?, ?, ?)",
                                [(where, name, key, digest) for name, (key, digest) in outputs.items()
                                 if previous.get(name) != (key, digest)])

    def close(self) -> None:
        self.db.close()
        if self._temporary is not None:
            self._temporary.cleanup()


# Entries are stored as plain tuples: unpickling 10,000 frozen dataclasses field by field costs
# more than the rest of a no-change build.
_DOCUMENT_FIELDS = [f.name for f in dataclasses.fields(Document)]
_IMAGE_INDEX = _DOCUMENT_FIELDS.index("image")


def _pack(entry: CachedDocument) -> tuple:
    document = entry.document
    values = [getattr(document, name) for name in _DOCUMENT_FIELDS]
    image = document.image
    values[_IMAGE_INDEX] = dataclasses.astuple(image) if image else None
    return entry.mtime_ns, entry.size, entry.folder_digest, entry.digest, entry.stored_at, values


def _unpack(packed: tuple) -> CachedDocument:
    mtime_ns, size, folder_digest, digest, stored_at, values = packed
    values = list(values)
    image = values[_IMAGE_INDEX]
    if image is not None:
        values[_IMAGE_INDEX] = Image(*image)
    return CachedDocument(mtime_ns, size, folder_digest, digest, stored_at, Document(*values))


class BodyStore:
    """Reads rendered article HTML from the cache on demand; one per process (SQLite connections are not shared)."""

    def __init__(self, path: Path):
        self.path = path
        self._db: sqlite3.Connection | None = None

    def body_of(self, document: Document) -> str:
        relative = document.relative
        if self._db is None:
            self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
        row = self._db.execute("SELECT body FROM documents WHERE relative=?", (relative,)).fetchone()
        if row is None:
            raise KeyError(relative)
        return row[0]

    def forget_connection(self) -> None:
        """Called in a forked worker: a SQLite connection must not cross a fork."""
        self._db = None
