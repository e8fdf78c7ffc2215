"""The persistent build cache (.ssg-cache/): parsed documents, their HTML, and what each output was made from.

A cache is only a cache. Whatever is wrong with it (a damaged or foreign file, a row that does not read
back, a folder that cannot be written) raises CacheUnusable, and build() starts a new one. Nothing read
from it can run code: entries are JSON (cache_format), never pickles."""
from __future__ import annotations

import contextlib
import functools
import json
import re
import sqlite3
import tempfile
from pathlib import Path
from typing import Iterable, Iterator

from .cache_format import (CachedDocument, entry_from_json, entry_to_json, record_from_json, record_to_json,
                           references_from_json)
from .errors import SourceError, SsgError
from .freshness import BuildRecord
from .model import Document

SCHEMA = 5
UNSAVED_LIMIT = 4096  # entries held as text before they are written
_BATCH = 500  # names in one SELECT ... IN (...), well under SQLite's limit of bound values
DATABASE = "cache.sqlite"  # in the cache folder
LOCK_TIMEOUT = 30.0  # seconds to wait for another build's write to the cache before giving up
# An output file name that would reach outside the output folder: a stored name is deleted when a build no
# longer makes that file, so a planted "../../x" must never get that far.
_ESCAPING_NAME = re.compile(r"(?:^|/)\.\.(?:/|$)|^/|\\|\x00", re.MULTILINE)


class CacheError(SsgError):
    """The cache cannot serve this build. Its arguments are plain text, so it comes back from a worker process."""

    explanation = "{reason}"

    def __init__(self, path: str, reason: str):
        self.path, self.reason = path, reason
        super().__init__(SourceError(path, 0, self.explanation.format(reason=reason)))

    def __reduce__(self):
        return type(self), (self.path, self.reason)


class CacheUnusable(CacheError):
    """Damaged, foreign or not writable: build() warns, discards it and builds again, starting a new one."""

    explanation = "the build cache could not be used ({reason}); `ssg clean` removes it"


class CacheInUse(CacheError):
    """Another running build holds the cache: an error, never a reason to delete what that build is using."""

    explanation = "the build cache is in use by another build ({reason}); build again once it has finished"


def cache_error(folder: Path, exc: sqlite3.Error | OSError) -> CacheError:
    """SQLite's or the file system's complaint about the cache, as the cache's own error."""
    if isinstance(exc, sqlite3.OperationalError) and getattr(exc, "sqlite_errorcode", 0) & 0xFF in (5, 6):
        return CacheInUse(str(folder), f"still locked after {LOCK_TIMEOUT:g} s")  # SQLITE_BUSY, SQLITE_LOCKED
    if isinstance(exc, OSError):
        return CacheUnusable(str(folder), f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc))
    return CacheUnusable(str(folder), str(exc))


def _guarded(method):
    """Run a method of BuildCache with SQLite's and the file system's errors turned into CacheError."""
    @functools.wraps(method)
    def guarded(self: BuildCache, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sqlite3.ProgrammingError:
            raise  # a mistake in this module (a closed connection, a wrong statement), not in the file
        except (sqlite3.DatabaseError, OSError) as exc:
            raise cache_error(self.folder, exc) from exc
    return guarded


class BuildCache:
    """A small SQLite file. A cache for another fingerprint (settings, versions) is emptied on open.
    Every stored entry has its body row: bodies are written before the entries that name them, and deleted
    in the same transaction as those entries."""

    def __init__(self, folder: Path | None, fingerprint: str):
        self._temporary = None
        if folder is None:  # --no-cache: same machinery, thrown away at the end
            self._temporary = tempfile.TemporaryDirectory(prefix="ssg-cache-")
            folder = Path(self._temporary.name)
        self.folder = folder
        self.path = folder / DATABASE
        self.db: sqlite3.Connection | None = None
        self._documents: dict[str, CachedDocument] | None = None
        self._unsaved: dict[str, str | None] = {}  # entries changed (as JSON) or dropped (None) since they were read
        try:
            self._open(fingerprint)
        except CacheError:
            self.close()
            raise

    @_guarded
    def _open(self, fingerprint: str) -> None:
        if self.folder.exists() and not self.folder.is_dir():
            raise CacheUnusable(str(self.folder), "it is a file, not a folder")
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / ".gitignore").write_text("*\n", encoding="utf-8")
        if _truncated(self.path):
            raise CacheUnusable(str(self.folder), "its database file is shorter than its header says")
        # By its path, never a URI made from it: a folder named "a#b?c" is a name, not a query.
        self.db = sqlite3.connect(self.path.absolute(), timeout=LOCK_TIMEOUT)
        self.db.executescript("""
            PRAGMA trusted_schema=OFF;
            PRAGMA journal_mode=WAL;
            PRAGMA synchronous=NORMAL;
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB);
        """)
        stored = self.db.execute("SELECT value FROM meta WHERE key='fingerprint'").fetchone()
        if stored is None or stored[0] != f"{SCHEMA}|{fingerprint}":
            # Written by other code or settings: start over rather than trust any of it.
            self.db.executescript("DROP TABLE IF EXISTS documents; DROP TABLE IF EXISTS outputs; "
                                  "DROP TABLE IF EXISTS entries; DROP TABLE IF EXISTS entry_changes; "
                                  "DROP TABLE IF EXISTS recipes; DROP TABLE IF EXISTS shown; DELETE FROM meta;")
            with self.db:
                self.db.execute("INSERT INTO meta VALUES ('fingerprint', ?)", (f"{SCHEMA}|{fingerprint}",))
        self.db.executescript("""
            CREATE TABLE IF NOT EXISTS documents (relative TEXT PRIMARY KEY, body TEXT);
            CREATE TABLE IF NOT EXISTS entries (relative TEXT PRIMARY KEY, entry TEXT);
            CREATE TABLE IF NOT EXISTS outputs (folder TEXT, name TEXT, key TEXT, hash TEXT,
                                                PRIMARY KEY (folder, name));
            CREATE TABLE IF NOT EXISTS recipes (output TEXT PRIMARY KEY, digest TEXT, recipe TEXT);
            CREATE TABLE IF NOT EXISTS shown (relative TEXT, output TEXT, PRIMARY KEY (relative, output));
            CREATE INDEX IF NOT EXISTS shown_by_output ON shown (output);
        """)
        # Write nothing, and roll it back: a cache that cannot be written (a read-only file) or that another
        # build holds is found now, before this build has written any output.
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute("UPDATE meta SET value=value WHERE key='fingerprint'")
        self.db.rollback()
        row = self.db.execute("SELECT value FROM meta WHERE key='template_references'").fetchone()
        with self._reading("what templates refer to"):
            self.template_references: dict[str, list[str | None]] = references_from_json(row[0]) if row else {}
        self._saved_references = len(self.template_references)

    @contextlib.contextmanager
    def _reading(self, what: str) -> Iterator[None]:
        """A stored value that does not read back as this code writes it makes the whole cache unusable."""
        try:
            yield
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError) as exc:
            raise CacheUnusable(str(self.folder), f"{what} does not read back: {exc}") from None

    @_guarded
    def documents(self) -> dict[str, CachedDocument]:
        """Every stored entry by path, one row each. Read on first use (a no-change build, or one that
        touched a few documents, never needs them all) and kept: the preview asks on every build."""
        if self._documents is None:
            rows = self.db.execute("SELECT relative, entry FROM entries").fetchall()
            self._documents = self._read_entries(rows)
            del rows  # the JSON is let go once read: kept, its strings would be walked by every collection
            with_bodies = {relative for relative, in self.db.execute("SELECT relative FROM documents")}
            if missing := self._documents.keys() - with_bodies:
                raise CacheUnusable(str(self.folder), f"content/{min(missing)} has an entry but no stored body")
        return self._documents

    @_guarded
    def entries_of(self, relatives: Iterable[str]) -> dict[str, CachedDocument]:
        """The stored entries of these documents only, found by the table's index (or in memory when all
        were read); a document without one is left out."""
        wanted = list(dict.fromkeys(relatives))
        if self._documents is not None:
            return {relative: self._documents[relative] for relative in wanted if relative in self._documents}
        return self._read_entries(self._select_in("SELECT relative, entry FROM entries WHERE relative IN ({keys})",
                                                  wanted))

    def _select_in(self, statement: str, keys: Iterable[str], *leading: str) -> list[tuple]:
        """The rows of `statement` for every key, its {keys} standing for a list of bound values (in batches:
        SQLite limits how many one statement takes); `leading` values are bound first."""
        wanted, rows = list(keys), []
        for start in range(0, len(wanted), _BATCH):
            batch = wanted[start:start + _BATCH]
            rows += self.db.execute(statement.format(keys=",".join("?" * len(batch))), [*leading, *batch])
        return rows

    def _read_entries(self, rows: Iterable[tuple[str, str]]) -> dict[str, CachedDocument]:
        entries = {}
        relative = ""
        try:
            for relative, packed in rows:
                entries[relative] = entry_from_json(json.loads(packed))
        except (ValueError, TypeError, RecursionError) as exc:
            raise CacheUnusable(str(self.folder), f"the entry of content/{relative} does not read back: {exc}")
        return entries

    @_guarded
    def store_documents(self, entries: list[tuple[str, CachedDocument, str | None]]) -> None:
        """Save (relative, entry, body) triples; a body of None keeps the stored one (only the stat moved).
        Bodies are written at once (rendering reads them back); entries are written by save_entries()."""
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO documents VALUES (?, ?)",
                                [(relative, body) for relative, _, body in entries if body is not None])
        for relative, entry, _ in entries:
            if self._documents is not None:
                self._documents[relative] = entry
            # Made now: a value JSON cannot hold fails this build.
            self._unsaved[relative] = json.dumps(entry_to_json(entry), separators=(",", ":"))
        if len(self._unsaved) >= UNSAVED_LIMIT:
            self.save_entries()  # a first build of a large archive does not hold every entry as text

    def forget_documents(self, keep: set[str]) -> None:
        """Drop documents whose files no longer exist (their bodies go when the entries are saved)."""
        documents = self.documents()
        for relative in [relative for relative in documents if relative not in keep]:
            del documents[relative]
            self._unsaved[relative] = None

    @_guarded
    def save_entries(self) -> None:
        """Write the entries that changed, one row each, and delete the dropped ones with their bodies, in one
        transaction. A build that stops before this leaves entries older than the bodies: harmless, as an entry
        is only trusted while its file's stat matches it."""
        if not self._unsaved:
            return
        with self.db:
            dropped = [(relative,) for relative, packed in self._unsaved.items() if packed is None]
            self.db.executemany("DELETE FROM documents WHERE relative=?", dropped)
            self.db.executemany("DELETE FROM entries WHERE relative=?", dropped)
            self.db.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?)",
                                [(relative, packed) for relative, packed in sorted(self._unsaved.items())
                                 if packed is not None])
        self._unsaved.clear()

    @_guarded
    def save_template_references(self) -> None:
        """Keep what templates refer to (theme.template_references), if a build learned anything new."""
        if len(self.template_references) != self._saved_references:
            with self.db:
                self.db.execute("INSERT OR REPLACE INTO meta VALUES ('template_references', ?)",
                                (json.dumps(self.template_references),))
            self._saved_references = len(self.template_references)

    @_guarded
    def build_record(self) -> BuildRecord | None:
        """What the last build saw (see freshness)."""
        row = self.db.execute("SELECT value FROM meta WHERE key='build_record'").fetchone()
        if row is None:
            return None
        with self._reading("the build record"):
            return record_from_json(row[0])

    @_guarded
    def store_build_record(self, record: BuildRecord) -> None:
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('build_record', ?)", (record_to_json(record),))

    @_guarded
    def outputs(self, folder: Path) -> dict[str, tuple[str, str]]:
        rows = self.db.execute("SELECT name, key, hash FROM outputs WHERE folder=?", (self._folder_key(folder),))
        outputs = {name: (key, digest) for name, key, digest in rows}
        with self._reading("the list of output files"):
            if _ESCAPING_NAME.search("\n".join(outputs)):
                raise ValueError("a file outside the output folder")
        return outputs

    @_guarded
    def store_outputs(self, folder: Path, outputs: dict[str, tuple[str, str]],
                      previous: dict[str, tuple[str, str]]) -> None:
        """Record what each output file was made from; only rows that differ are written."""
        where = self._folder_key(folder)
        with self.db:
            self.db.executemany("DELETE FROM outputs WHERE folder=? AND name=?",
                                [(where, name) for name in previous.keys() - outputs.keys()])
            self.db.executemany("INSERT OR REPLACE INTO outputs VALUES (?, ?, ?, ?)",
                                [(where, name, key, digest) for name, (key, digest) in outputs.items()
                                 if previous.get(name) != (key, digest)])

    @_guarded
    def output_landmarks(self, folder: Path) -> tuple[int, list[str]]:
        """How many output files are recorded, and the few a no-change build looks for: every file at the
        top of the output, and the first and last of each folder there (see StoredHistory.in_place)."""
        where = self._folder_key(folder)
        count = self.db.execute("SELECT COUNT(*) FROM outputs WHERE folder=?", (where,)).fetchone()[0]
        names = [name for name, in self.db.execute(
            "SELECT name FROM outputs WHERE folder=?1 AND instr(name, '/') = 0 UNION "
            "SELECT MIN(name) FROM outputs WHERE folder=?1 AND instr(name, '/') > 0 "
            "GROUP BY substr(name, 1, instr(name, '/')) UNION "
            "SELECT MAX(name) FROM outputs WHERE folder=?1 AND instr(name, '/') > 0 "
            "GROUP BY substr(name, 1, instr(name, '/'))", (where,))]
        return count, names

    @_guarded
    def outputs_of(self, folder: Path, names: Iterable[str]) -> dict[str, tuple[str, str]]:
        """The rows of outputs() for these files only, found by the table's index."""
        found = {name: (key, digest) for name, key, digest in self._select_in(
            "SELECT name, key, hash FROM outputs WHERE folder=? AND name IN ({keys})", names, self._folder_key(folder))}
        with self._reading("the list of output files"):
            if _ESCAPING_NAME.search("\n".join(found)):
                raise ValueError("a file outside the output folder")
        return found

    @_guarded
    def recipe_digests(self) -> dict[str, str]:
        """The page digest each stored recipe was made for, by output file (see incremental)."""
        return dict(self.db.execute("SELECT output, digest FROM recipes"))

    @_guarded
    def recipes_of(self, outputs: Iterable[str]) -> dict[str, tuple[str, str]]:
        """The (page digest, recipe) of these output files that have one."""
        return {output: (digest, recipe) for output, digest, recipe in self._select_in(
            "SELECT output, digest, recipe FROM recipes WHERE output IN ({keys})", outputs)}

    @_guarded
    def shown_on(self, relatives: Iterable[str]) -> dict[str, tuple[str, str]]:
        """The reverse index: the pages that carry these documents' bodies, with their (page digest, recipe)."""
        return {output: (digest, recipe) for output, digest, recipe in self._select_in(
            "SELECT DISTINCT recipes.output, digest, recipe FROM shown JOIN recipes USING (output) "
            "WHERE shown.relative IN ({keys})", relatives)}

    @_guarded
    def store_recipes(self, recipes: dict[str, tuple[str, str, tuple[str, ...]]], dropped: Iterable[str]) -> None:
        """Keep (page digest, recipe, documents whose body it carries) by output file; forget `dropped`."""
        gone = [(output,) for output in (*dropped, *recipes)]
        with self.db:
            self.db.executemany("DELETE FROM recipes WHERE output=?", gone)
            self.db.executemany("DELETE FROM shown WHERE output=?", gone)
            self.db.executemany("INSERT INTO recipes VALUES (?, ?, ?)",
                                [(output, digest, recipe) for output, (digest, recipe, _) in recipes.items()])
            self.db.executemany("INSERT OR IGNORE INTO shown VALUES (?, ?)",
                                [(relative, output) for output, (_, _, carried) in recipes.items()
                                 for relative in carried])

    def _folder_key(self, folder: Path) -> str:
        """How the cache names an output folder: by its path inside the site when it is there (_site), so a
        cache restored with the site onto another path, as CI does on each checkout, still knows it."""
        resolved, site = folder.resolve(), self.folder.parent.resolve()
        if self._temporary is None and resolved.is_relative_to(site):
            return resolved.relative_to(site).as_posix()
        return str(resolved)

    def close(self) -> None:
        if self.db is not None and self._temporary is None:
            # Copy the write-ahead log into the database file, so that the file alone is the cache (a reader
            # left open, like a BodyStore, would otherwise keep it all in the log). Skipped, not waited for,
            # while another build reads it.
            with contextlib.suppress(sqlite3.Error):
                self.db.execute("PRAGMA busy_timeout=0")
                self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        if self.db is not None:
            self.db.close()
            self.db = None
        if self._temporary is not None:
            self._temporary.cleanup()
            self._temporary = None


def _truncated(path: Path) -> bool:
    """SQLite notices a missing page only when it reads it, perhaps deep in rendering; the size a database's
    header states is checked now (unless a write-ahead log holds pages not yet copied into the file)."""
    wal = path.with_name(path.name + "-wal")
    if not path.is_file() or wal.exists() and wal.stat().st_size:
        return False
    with path.open("rb") as file:
        header = file.read(100)
    if len(header) < 100 or not header.startswith(b"SQLite format 3\0") or header[24:28] != header[92:96]:
        return False  # not a database (SQLite says so), or a header whose stated size is not kept up to date
    page_size = int.from_bytes(header[16:18], "big")
    return path.stat().st_size < int.from_bytes(header[28:32], "big") * (65536 if page_size == 1 else page_size)


class BodyStore:
    """Reads rendered article HTML from the cache on demand; one per process (SQLite connections are not shared)."""

    def __init__(self, path: Path):
        self.path = path
        self._db: sqlite3.Connection | None = None

    def body_of(self, document: Document) -> str:
        try:
            if self._db is None:
                # Read-only needs a URI; the path in it is quoted, so "#" or "?" in a folder's name stays a name.
                self._db = sqlite3.connect(f"{self.path.absolute().as_uri()}?mode=ro", uri=True,
                                           timeout=LOCK_TIMEOUT)
            row = self._db.execute("SELECT body FROM documents WHERE relative=?", (document.relative,)).fetchone()
        except sqlite3.ProgrammingError:
            raise
        except sqlite3.DatabaseError as exc:
            raise cache_error(self.path.parent, exc) from None
        if row is None or type(row[0]) is not str:
            raise CacheUnusable(str(self.path.parent), f"the stored body of {document.source} is "
                                                       f"{'missing' if row is None else 'not text'}")
        return row[0]

    def forget_connection(self) -> None:
        """Called in a forked worker: a SQLite connection must not cross a fork."""
        self._db = None
