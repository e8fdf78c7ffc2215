"""Every Document of the site: taken from the cache while its file is unchanged, parsed anew otherwise.

Parsing runs in worker processes on a large site. Rendered bodies go straight to the cache in batches
and are read back page by page when rendering, so a 10,000-article build never holds all its HTML."""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

from .cache import BuildCache, CachedDocument
from .config import SiteConfig
from .errors import SourceError
from .folders import CONTENT_DIR
from .freshness import document_digest, files_digest, listing_digest
from .heap import Heap
from .images import image_settings
from .markup import MarkdownRenderer
from .model import Document
from .parse import ParseSettings, parse_document
from .sources import Inputs, Sources, files_beside, folder_digests
from .theme import Theme
from .workers import ProgressCallback, run_tasks

STORE_BATCH = 256  # parsed bodies written to the cache at a time


@dataclass(frozen=True, slots=True)
class Documents:
    documents: list[Document]   # with empty bodies: those are in the cache
    errors: list[SourceError]
    parsed: list[str]           # documents parsed anew by this build (content/ paths)
    cache_hits: int             # documents taken from the cache


@dataclass(frozen=True, slots=True)
class ParseTask:
    relative: str
    mtime_ns: int
    size: int
    folder_digest: str
    settings_digest: str
    cached_digest: str | None
    beside: tuple[str, ...] = ()   # the files in its folder (see sources.files_beside)


@dataclass(frozen=True, slots=True)
class ParseResult:
    task: ParseTask
    digest: str
    document: Document | None       # None with no errors: the same bytes as cached
    errors: list[SourceError]


@dataclass(frozen=True, slots=True)
class ParseState:
    """What every parse task needs, handed to the workers when they start."""

    settings: ParseSettings
    renderer: MarkdownRenderer


def read_documents(site_dir: Path, inputs: Inputs, cache: BuildCache, jobs: int | None, heap: Heap,
                   renderer: MarkdownRenderer | None = None, progress: ProgressCallback | None = None) -> Documents:
    """Parse what changed since the cache was written, reuse the rest; collect every error."""
    with heap.quiet():
        cached = cache.documents()
    heap.freeze()  # the stored entries, 10,000 documents on a large site
    sources, stats = inputs.sources, inputs.content_stats
    beside = files_beside(sources)
    folder_stats = folder_digests(beside, stats)
    settings = parse_settings(site_dir, inputs.config, inputs.theme, sources, cache.folder)
    settings_digest = settings.digest()
    documents: dict[str, Document] = {}
    tasks = []
    for relative in sources.documents:
        size, mtime_ns = stats[relative]
        entry = cached.get(relative)
        # The settings are part of what a cached document was made with: a new permalink re-parses all.
        seen = f"{folder_stats[relative]}|{settings_digest}"
        if entry and entry.still_valid(mtime_ns, size, seen):
            documents[relative] = entry.document
        else:
            tasks.append(ParseTask(relative, mtime_ns, size, seen, settings_digest,
                                   entry.digest if entry else None, beside[relative]))
    errors: list[SourceError] = []
    parsed = []
    stored = []
    stored_at = time.time()
    state = ParseState(settings, renderer or MarkdownRenderer()) if tasks else None
    for done, result in enumerate(run_tasks(parse_one, state, tasks, jobs), 1):
        if progress:
            progress("parsed", done, len(tasks))
        task = result.task
        errors += result.errors
        if result.document is None and not result.errors:  # same bytes as cached: only the stat moved
            document = cached[task.relative].document
            stored.append((task.relative, _entry(task, result.digest, stored_at, document), None))
        elif result.document is not None:
            document = result.document
            stored.append((task.relative, _entry(task, result.digest, stored_at,
                                                 dataclasses.replace(document, body="")), document.body))
            parsed.append(task.relative)
        else:
            continue
        documents[task.relative] = dataclasses.replace(document, body="")
        if len(stored) >= STORE_BATCH:
            cache.store_documents(stored)
            stored = []
    cache.store_documents(stored)
    cache.forget_documents(keep=set(sources.documents))
    return Documents([documents[r] for r in sources.documents if r in documents], errors, parsed,
                     cache_hits=len(documents) - len(parsed))


def parse_settings(site_dir: Path, config: SiteConfig, theme: Theme, sources: Sources,
                   cache_folder: Path) -> ParseSettings:
    """`cache_folder` is where the resized copies of images are made and kept (images.py)."""
    return ParseSettings(
        content_dir=(site_dir / CONTENT_DIR).resolve(), content_label=CONTENT_DIR, base_path=config.base_path,
        timezone=config.timezone,
        permalink=config.permalink,
        teaser_paragraphs=config.meter.teaser_paragraphs if config.meter else None,
        layouts=theme.layouts(), documents=frozenset(sources.documents), assets=frozenset(sources.assets),
        signed_in=config.access is not None and config.meter is not None,
        images=image_settings(config.images, cache_folder))


def parse_one(state: ParseState, task: ParseTask) -> ParseResult:
    label = f"{CONTENT_DIR}/{task.relative}"
    try:
        raw = (state.settings.content_dir / task.relative).read_bytes()
    except OSError as exc:
        return ParseResult(task, "", None, [SourceError(label, 0, f"cannot be read ({exc.strerror or exc})")])
    digest = document_digest(raw, task.relative, task.settings_digest,
                             files_digest(state.settings.content_dir, task.beside))
    if digest == task.cached_digest:
        return ParseResult(task, digest, None, [])
    try:
        document, errors = parse_document(task.relative, raw, state.settings, state.renderer)
    except RecursionError:
        return ParseResult(task, digest, None, [SourceError(label, 0, "is nested too deeply to be read")])
    except Exception as exc:  # a generator bug in one file must not hide the errors of the others
        return ParseResult(task, digest, None, [SourceError(
            label, 0, f"could not be read: unexpected {type(exc).__name__}: {exc} (a bug in ssg: please report it)")])
    if document is not None:
        document = dataclasses.replace(document, digest=digest, listing=listing_digest(document))
    return ParseResult(task, digest, document, errors)


def _entry(task: ParseTask, digest: str, stored_at: float, document: Document) -> CachedDocument:
    return CachedDocument(task.mtime_ns, task.size, task.folder_digest, digest, stored_at, document)
