"""Deciding what is still right without doing the work again.

Glossary (one word per idea, used everywhere in the package):
- digest: a SHA-1 of everything that decided a result. If the digest is the same, the result is the same.
  - stat digest: every input file's path, size and time, with the options and the output folder.
  - content digest: what every input holds once read (documents by their digests, settings, theme,
    templates, copied files by size and time), with the options and the output folder.
  - document digest: a document's bytes, its path, the parse settings and the files beside it.
  - listing digest: what pages other than a document's own show of it: every field but its body and table
    of contents. Lists, "More in" links, redirects and sitemaps name documents by it, so a body edit leaves
    them alone; a document's own page and the feeds that carry its body name it by its document digest.
  - site digest: the site-wide inputs every page depends on (settings, navigation, assets, versions).
  - page digest: the site digest, the page's templates and what the page shows.
  - generator digest: this package's own source and the versions of the libraries that shape output.
  - inputs digest: the stat digest of every input but the documents and the templates (settings, theme
    files, copied files), with the options and the output folder.
  - templates stat digest: the stat digest of the theme's templates.
  - chunk digests: the stat digest of the documents, CHUNK documents at a time in path order. The stat
    digest is made of these three, so a build that finds it changed can tell what to look at: which
    documents (see incremental.py), or only the templates.
- hash: a SHA-1 of the bytes of an output file, to tell whether a file on disk is still the one written.
- build record: what the last build saw (its stat and content digests), until when its output stays
  right with nothing edited (`valid_until`), and how much it made. A build whose stat or content digest
  equals the record's, before `valid_until`, with its output still there, stops early. It also
  keeps what a build that touches a few documents needs without assembling the site: the inputs and
  chunk digests, the site digest and the navigation.
- settled: a digest of files none of which changed within RACY_SECONDS of the build's start. Only settled
  digests are kept in a record: a file written in the same tick as it was read may change again unseen.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import itertools
from array import array
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

import jinja2
import markdown
import pygments

from . import __version__
from .model import Document, Site
from .pages import NEWS_SITEMAP_HOURS, SiteNav
from .theme import PACKAGE_THEMES, Theme

# A file modified this close to the moment its digest was recorded may change again within the file
# system's timestamp granularity without its size changing, so its stat is not trusted.
RACY_SECONDS = 2.0


CHUNK = 256  # documents per chunk digest


@dataclass(frozen=True, slots=True)
class BuildRecord:
    stat: str                # "" when the inputs were too fresh to trust their times
    content: str             # "" after a build that did not read every document (incremental.py)
    valid_until: datetime
    pages: int
    files: int               # output files the build left
    documents: int
    inputs: str = ""         # the inputs digest, "" when not settled
    templates: str = ""      # the templates stat digest, "" when not settled
    chunks: tuple[str, ...] = ()  # the chunk digests, each "" when not settled
    site: str = ""           # the site digest
    nav: SiteNav | None = None


@dataclass(frozen=True, slots=True)
class StatDigests:
    """What one look at every input file's stat gives (see the glossary)."""

    stat: str
    inputs: str
    templates: str
    chunks: tuple[str, ...]
    settled_inputs: str          # inputs, or "" when an input is too fresh to trust
    settled_templates: str
    settled_chunks: tuple[str, ...]

    @property
    def settled(self) -> str:
        """The stat digest, or "" when any input is too fresh to trust."""
        return self.stat if self.settled_inputs and self.settled_templates and all(self.settled_chunks) else ""


def stat_digests(options_seen: tuple, documents: tuple[str, ...], content_stats: dict[str, tuple[int, int]],
                 others: list[tuple[str, int, int]], templates: list[tuple[str, int, int]],
                 started: float) -> StatDigests:
    """`documents` in path order with their stats in `content_stats`; `others` and `templates` the other input
    files' (name, size, mtime_ns). `started` is the build's start (time.time())."""
    newest_trusted = (started - RACY_SECONDS) * 1e9

    def digest(seen) -> tuple[str, str]:
        made = hashlib.sha1(repr(seen).encode()).hexdigest()
        return made, made if max((mtime for _, _, mtime in seen), default=0) < newest_trusted else ""

    inputs, settled_inputs = digest(others)
    inputs = hashlib.sha1(f"{options_seen!r}|{inputs}".encode()).hexdigest()
    settled_inputs = inputs if settled_inputs else ""
    templates_seen, settled_templates = digest(templates)
    chunks, settled_chunks = [], []
    stat_of = content_stats.__getitem__
    for start in range(0, len(documents), CHUNK):
        # Names and numbers hashed as bytes: repr() of 100,000 tuples would cost twice the time.
        names = documents[start:start + CHUNK]
        numbers = array("q", itertools.chain.from_iterable(map(stat_of, names)))  # size, mtime_ns, size...
        chunk = hashlib.sha1("\0".join(names).encode())
        chunk.update(numbers.tobytes())
        chunks.append(chunk.hexdigest())
        settled_chunks.append(chunks[-1] if max(numbers[1::2]) < newest_trusted else "")
    stat = hashlib.sha1(f"{inputs}|{templates_seen}|{','.join(chunks)}".encode()).hexdigest()
    return StatDigests(stat, inputs, templates_seen, tuple(chunks), settled_inputs, settled_templates,
                       tuple(settled_chunks))


def still_right(record: BuildRecord | None, now: datetime, files_in_place: Callable[[], int], *,
                stat: str = "", content: str = "") -> bool:
    """True when the last build saw these same inputs, nothing has expired and its output is still in place
    (`files_in_place()` counts its files, -1 if one it looked for is missing): its output stands."""
    if record is None or now >= record.valid_until:
        return False
    if not (stat and record.stat == stat or content and record.content == content):
        return False
    return files_in_place() == record.files


def content_digest(options_seen: tuple, config, theme: Theme, documents: list[Document],
                   assets: list[tuple[str, tuple[int, int]]]) -> str:
    seen = repr((__version__, options_seen, config, theme.fingerprinted, templates_digest(theme),
                 [(d.relative, d.digest) for d in documents], assets))
    return hashlib.sha1(seen.encode()).hexdigest()


def listing_digest(document: Document) -> str:
    shown = dataclasses.replace(document, body="", toc="", digest="", listing="")
    return hashlib.sha1(repr(shown).encode()).hexdigest()


def document_digest(raw: bytes, relative: str, settings_digest: str, files: str) -> str:
    """Everything a Document is made of: its bytes, its path (slug, section), settings, the files beside it
    (see files_digest)."""
    return hashlib.sha1(raw + f"|{relative}|{settings_digest}|{files}".encode()).hexdigest()


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".bmp", ".tif", ".tiff")


def files_digest(content_dir: Path, names: tuple[str, ...]) -> str:
    """What a document's HTML takes from the files beside it: their names, and the bytes of images (their
    size is in the HTML, and their resized copies are named by their bytes). Neither times nor paths: a site
    restored by CI onto a new checkout, every file's time new, still finds its documents in the cache.
    Only documents whose files' times moved get here."""
    parts = []
    for name in names:
        content = ""
        if name.lower().endswith(IMAGE_SUFFIXES):
            try:
                content = hashlib.sha1((content_dir / name).read_bytes()).hexdigest()
            except OSError:
                content = "unreadable"
        parts.append(f"{name}:{content}")
    return hashlib.sha1("|".join(parts).encode()).hexdigest() if parts else ""


def site_digest(config, nav, theme: Theme) -> str:
    return hashlib.sha1(repr((__version__, config, nav, theme.fingerprinted, jinja2.__version__)).encode()).hexdigest()


def page_digest(site: str, template: str, templates: str, shows: str | None) -> str | None:
    """What decides a page's bytes; None for a page that is always rendered."""
    if shows is None:
        return None
    return hashlib.sha1(f"{site}|{template}|{templates}|{shows}".encode()).hexdigest()


@functools.cache
def generator_digest() -> str:
    """The generator's own source and libraries: a cache written by other code is not trusted, even at one version."""
    digest = hashlib.sha1(f"{__version__}|{markdown.__version__}|{pygments.__version__}".encode())
    for file in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(file.read_bytes())
    return digest.hexdigest()


def templates_digest(theme: Theme) -> str:
    """Every template file's path and bytes, the built-in themes' too (a theme may extend "default/base.html"):
    while this holds, a compiled template kept in memory is current."""
    digest = hashlib.sha1()
    for folder in dict.fromkeys([*theme.template_dirs, *sorted(PACKAGE_THEMES.glob("*/templates"))]):
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                digest.update(file.as_posix().encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


def valid_until(documents: list[Document], site: Site, drafts: bool, future: bool) -> datetime:
    """The first moment the site changes with nothing edited: a future article comes out, an article
    leaves the news sitemap, or the year in the footer turns. (A draft never comes out on its own.)"""
    now = site.built_at
    moments = [now.replace(year=now.year + 1, month=1, day=1, hour=0, minute=0, second=0, microsecond=0)]
    if not future:
        moments += [d.date for d in documents if d.is_article and d.date is not None and d.date > now
                    and (drafts or not d.draft)]
    moments += [a.date + timedelta(hours=NEWS_SITEMAP_HOURS) for a in site.articles
                if a.date + timedelta(hours=NEWS_SITEMAP_HOURS) > now]
    return min(moments)
