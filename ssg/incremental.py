"""A build of the touched documents only: find them by the chunk digests, parse them, and render just the
pages that carry their bodies, found through the reverse index. The site is never assembled, so the work
follows the edit, not the size of the archive.

Glossary (beside freshness's):
- touched document: one whose stat is not what the last build recorded (or was too fresh to trust then).
- body edit: a touched document whose listing digest did not change. Everything other pages show of it
  (title, date, summary, section, tags, image, URL...) is the same, so only the pages that carry its body
  can change: its own page and the feeds it is in.
- reverse index: for each document, the pages that carry its body. Each such page has a recipe
  (pages.Recipe): the documents it shows, enough to make it again without the site. A full build keeps
  both in the cache (remember_recipes); this one reads them by the index of the `shown` table.

A build goes this way only when, since the last build into the same output folder, nothing but documents
changed (the inputs digest: settings, theme, copied files, options), no document came or went, no moment
in the build record has passed, every touched document parses without error and is a body edit (or the same
bytes under a new time), and the site has no search index (its records hold article text). Otherwise it is
a full build. Both ways must make the same output: the differential tests compare each with a clean build.
"""
from __future__ import annotations

import dataclasses
import time
from datetime import datetime
from pathlib import Path
from typing import Callable

from . import urls
from .cache import BodyStore, BuildCache
from .cache_format import CachedDocument
from .documents import ParseState, ParseTask, parse_one, parse_settings
from .errors import SsgError
from .freshness import CHUNK, BuildRecord, StatDigests
from .markup import MarkdownRenderer
from .model import Document
from .output import LoadedSite, Manifest, Written, write_pages
from .pages import Page, Recipe, page_again
from .parse import ParseSettings
from .render import configure
from .session import Session
from .sources import Inputs, files_beside, folder_digests

MAX_CHUNKS = 8      # chunks looked at one by one; beyond this a full build costs about the same
MAX_TOUCHED = 32    # documents parsed here; more, and the worker processes of a full build pay off


@dataclasses.dataclass(frozen=True, slots=True)
class TouchedBuild:
    """What a build of the touched documents did."""

    edited: list[str]           # (the preview) files of the edited documents' own pages, written and announced first
    written: list[str]          # the other files written
    rendered: int
    parsed: list[str]           # documents whose bytes changed
    record: BuildRecord


def build_touched(site_dir: Path, out_dir: Path, now: datetime, inputs: Inputs, session: Session,
                  record: BuildRecord | None, digests: StatDigests, owned: Manifest,
                  in_place: Callable[[], int]) -> TouchedBuild | None:
    """Build the touched documents' pages, or return None (having changed nothing) for a full build.
    Touched documents that all hold the same bytes as before change no page: that is the content stop of
    a full build (with every output file in place), and the build returns with nothing parsed."""
    if not serves(record, digests, now) or inputs.config.search or record.templates != digests.templates \
            or len(record.chunks) != len(digests.chunks) or record.documents != len(inputs.sources.documents):
        return None
    cache = session.cache
    touched = touched_documents(site_dir, inputs, cache, record, digests)
    if touched is None:
        return None
    tasks, entries, settings = touched
    state = ParseState(settings, session.renderer or MarkdownRenderer())
    stored, documents = [], {}
    stored_at = time.time()
    for task in tasks:
        result = parse_one(state, task)
        entry = entries[task.relative]
        if result.errors:
            return None  # a full build reports every error of the site at once
        if result.document is None:  # the same bytes under a new time
            stored.append((task.relative, dataclasses.replace(entry, mtime_ns=task.mtime_ns, size=task.size,
                                                              folder_digest=task.folder_digest,
                                                              stored_at=stored_at), None))
            continue
        if result.document.listing != entry.document.listing:
            return None  # other pages show what changed: their places and neighbours are the site's to decide
        document = dataclasses.replace(result.document, body="")
        stored.append((task.relative, dataclasses.replace(entry, mtime_ns=task.mtime_ns, size=task.size,
                                                          folder_digest=task.folder_digest, digest=result.digest,
                                                          stored_at=stored_at, document=document),
                       result.document.body))
        documents[task.relative] = document
    new_record = dataclasses.replace(record, stat=digests.settled, content="", inputs=digests.settled_inputs,
                                     templates=digests.settled_templates, chunks=digests.settled_chunks)
    if not documents:
        if in_place() != record.files:
            return None
        cache.store_documents(stored)
        session.history.note(new_record)
        return TouchedBuild([], [], 0, [], new_record)
    pages = pages_made_again(cache, cache.shown_on(documents), documents, inputs, now)
    if pages is None:
        return None
    cache.store_documents(stored)  # the bodies first: rendering reads them back from the cache
    state = render_state(session, inputs, record)
    edited, rendered = [], 0
    if session.on_edited is not None:  # the preview: the edited pages go in (and are announced) before feeds
        own = [page for page in pages if page.document is not None]
        pages = pages[len(own):]
        written = write_and_remember(session, state, out_dir, own, owned, new_record)
        edited, rendered = written.written, written.rendered
        if edited:
            session.on_edited(edited)
    written = write_and_remember(session, state, out_dir, pages, owned, new_record)
    return TouchedBuild(edited, written.written, rendered + written.rendered, sorted(documents), new_record)


def serves(record: BuildRecord | None, digests: StatDigests, now: datetime) -> bool:
    """Whether the last build's record can stand in for the assembled site: it has a navigation and a site
    digest, no time limit in it has passed, and no input but documents and templates changed since."""
    return record is not None and record.nav is not None and bool(record.inputs) and now < record.valid_until \
        and record.inputs == digests.inputs


def touched_documents(site_dir: Path, inputs: Inputs, cache: BuildCache, record: BuildRecord,
                      digests: StatDigests) -> tuple[list[ParseTask], dict[str, CachedDocument], ParseSettings] | None:
    """The parse tasks of the touched documents, with their stored entries and the parse settings; None when
    no document or too many changed, or documents came or went."""
    chunks = [index for index, (old, new) in enumerate(zip(record.chunks, digests.chunks)) if old != new]
    if not chunks or len(chunks) > MAX_CHUNKS:
        return None  # none: the stat digest is the record's, and a full build finds what else is amiss
    documents = inputs.sources.documents
    names = [name for index in chunks for name in documents[index * CHUNK:(index + 1) * CHUNK]]
    entries = cache.entries_of(names)
    if len(entries) != len(names):
        return None  # a document without an entry is new (and one of the same number is gone)
    settings = parse_settings(site_dir, inputs.config, inputs.theme, inputs.sources, cache.folder)
    settings_digest = settings.digest()
    beside = files_beside(inputs.sources, names)
    folder_stats = folder_digests(beside, inputs.content_stats)
    tasks = []
    for relative in names:
        size, mtime_ns = inputs.content_stats[relative]
        entry = entries[relative]
        seen = f"{folder_stats[relative]}|{settings_digest}"
        if not entry.still_valid(mtime_ns, size, seen):
            tasks.append(ParseTask(relative, mtime_ns, size, seen, settings_digest, entry.digest, beside[relative]))
    return (tasks, entries, settings) if len(tasks) <= MAX_TOUCHED else None


def pages_made_again(cache: BuildCache, stored: dict[str, tuple[str, str]], edited: dict[str, Document],
                     inputs: Inputs, now: datetime) -> list[Page] | None:
    """The pages of these stored (page digest, recipe) by output file, made again from their recipes with the
    edited documents as they are now; None if a recipe names a document the cache no longer has."""
    try:
        recipes = {output: Recipe.from_json(recipe) for output, (_, recipe) in sorted(stored.items())}
    except (ValueError, TypeError):
        return None
    needed = {relative for recipe in recipes.values() for relative in (*recipe.carries, *recipe.lists)}
    documents = {relative: entry.document for relative, entry in cache.entries_of(needed - edited.keys()).items()}
    documents |= edited
    built_at = now.astimezone(inputs.config.tzinfo)
    try:
        pages = [page_again(recipe, documents, inputs.config, built_at) for recipe in recipes.values()]
    except KeyError:
        return None
    if [page.output for page in pages] != list(recipes):
        return None
    # The edited documents' own pages first: the preview's author is looking at one of them.
    return sorted(pages, key=lambda page: page.document is None)


def write_open_pages(out_dir: Path, now: datetime, inputs: Inputs, session: Session, record: BuildRecord | None,
                     digests: StatDigests, owned: Manifest) -> list[str]:
    """(The preview) After an edit of templates alone, write the pages the author has open first, made from
    their recipes, before the full build that follows makes the rest; return the files written. A page
    without a recipe (a list) waits for the full build, and so does everything when more than templates
    changed."""
    if not serves(record, digests, now) or record.chunks != digests.chunks or not session.open_pages:
        return []
    pages = pages_made_again(session.cache, session.cache.recipes_of(map(urls.output_file, session.open_pages)),
                             {}, inputs, now)
    if not pages:
        return []
    try:
        written = write_and_remember(session, render_state(session, inputs, record), out_dir, pages, owned, record)
    except SsgError:
        return []  # a template that fails: the full build reports every page it fails on
    return written.written


def write_and_remember(session: Session, state: LoadedSite, out_dir: Path, pages: list[Page], owned: Manifest,
                       record: BuildRecord) -> Written:
    """Write these pages now (one commit), then keep their recipes' new digests and their output rows."""
    previous = session.history.outputs_of(out_dir, [page.output for page in pages])
    written = write_pages(state, pages, previous, out_dir, owned, session.history.trusts_output)
    session.cache.store_recipes({page.output: recipe_row(page, written.outputs)
                                 for page in pages if page.output in written.outputs}, dropped=())
    session.history.remember_some(out_dir, written.outputs, previous, record)
    return written


def render_state(session: Session, inputs: Inputs, record: BuildRecord) -> LoadedSite:
    """What rendering needs, from the build record instead of an assembled site (its site digest and navigation)."""
    env = session.environment_for(inputs.theme)
    bodies = BodyStore(session.cache.path)
    configure(env, inputs.config, inputs.theme, record.nav, bodies.body_of)
    return LoadedSite(inputs.config, inputs.theme, None, [], inputs.content_dir, env, bodies, record.site,
                      frozenset(), session.cache.template_references)


def remember_recipes(cache: BuildCache, pages: list[Page], outputs: dict[str, tuple[str, str]]) -> None:
    """Keep the recipe of every page that carries bodies, with the page digest it was made for, where that
    changed (a full build's part of the reverse index)."""
    stored = cache.recipe_digests()
    changed = {page.output: recipe_row(page, outputs) for page in pages if page.recipe is not None
               and page.output in outputs and stored.get(page.output) != outputs[page.output][0]}
    planned = {page.output for page in pages if page.recipe is not None}
    cache.store_recipes(changed, dropped=stored.keys() - planned)


def recipe_row(page: Page, outputs: dict[str, tuple[str, str]]) -> tuple[str, str, tuple[str, ...]]:
    """What the cache keeps of a page with a recipe: its page digest, its recipe, the documents it carries."""
    return outputs[page.output][0], page.recipe.to_json(), page.recipe.carries
