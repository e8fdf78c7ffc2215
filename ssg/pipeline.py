"""build(): the whole generator, from site.yaml and content/ to a finished output folder.

The stages, in order (ARCHITECTURE.md has one line per module):
  check the output folder -> put back an output a killed build left half committed -> read inputs ->
  (session open) refuse a folder ssg did not write -> stop if the stat digest says nothing changed ->
  read documents (cached or parsed) -> stop if the content digest says nothing changed -> load the site
  (assemble, plan the pages, find collisions, prepare templates) -> (preview) write the edited pages first ->
  render and write -> remember.
Nothing in the output folder changes until every page has rendered; then all of it changes, or none.
"""
from __future__ import annotations

import dataclasses
import functools
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from . import urls
from .assemble import assemble_site
from .cache import BodyStore, CacheUnusable
from .documents import Documents, read_documents
from .errors import BuildFailed
from .folders import OUTPUT_DIR
from .freshness import BuildRecord, content_digest, site_digest, stat_digests, still_right, valid_until
from .heap import Heap
from .hosting import host_files
from .images import image_files
from .incremental import build_touched, remember_recipes, write_open_pages
from .meter import ACCOUNT_SCRIPT, script_size
from .output import LoadedSite, check_output_folder, check_output_owner, write_edited_pages, write_output
from .pages import find_collisions, site_nav, site_pages
from .render import configure
from .search import claimed_outputs, index_files, search_pages
from .session import Session, discard_cache, opened_session
from .sources import Inputs, inputs_after, read_inputs
from .staging import recover_output
from .workers import ProgressCallback

if TYPE_CHECKING:  # cryptography is imported only by sites that let readers sign in
    from .access import PublicKey

__all__ = ["BuildOptions", "BuildReport", "LoadedSite", "ProgressCallback", "Session", "build", "load_site"]


@dataclass(frozen=True, slots=True)
class BuildOptions:
    site_dir: Path = Path(".")
    out_dir: Path | None = None          # default: <site>/_site
    drafts: bool = False
    future: bool = False
    base_url: str | None = None
    now: datetime | None = None          # "now" for future articles and the news sitemap (--as-of; tests pin it)
    use_cache: bool = True               # False: a clean build that neither reads nor writes .ssg-cache/
    jobs: int | None = None              # worker processes; default: one per core
    force: bool = False                  # build into a non-empty folder ssg did not write (its files are kept)
    preview_key: PublicKey | None = None  # the preview's own sign-in key, accepted beside the site's

    @property
    def output(self) -> Path:
        return self.out_dir if self.out_dir is not None else self.site_dir / OUTPUT_DIR

    def digest_inputs(self) -> tuple:
        """The options that change the output, with the output folder itself. A pinned `now` is one of them:
        a build as of tomorrow must not pass for today's."""
        return (self.drafts, self.future, self.base_url, str(self.output.resolve()),
                self.now.isoformat() if self.now else None)


@dataclass(slots=True)
class BuildReport:
    written: list[str] = field(default_factory=list)    # output files whose bytes changed
    edited: list[str] = field(default_factory=list)     # of those, the edited pages swapped in ahead of the rest
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    pages: int = 0                                      # pages (not copied files) in the site
    rendered: int = 0                                   # pages rendered by this build
    parsed: int = 0                                     # documents parsed by this build
    cache_hits: int = 0                                 # documents taken from the cache
    seconds: float = 0.0
    meter_script_gzip: int | None = None                # bytes of JavaScript on a metered page, gzipped
    account_script_gzip: int | None = None              # bytes of the account page's token verifier, gzipped
    base_url: str = "/"
    stopped_at: str | None = None                       # "stat" or "content": the output was still right
    next_change: datetime | None = None                 # when the output changes with nothing edited (see valid_until)
    touched: bool = False                               # built the touched documents' pages only (incremental.py)
    stages: dict[str, float] = field(default_factory=dict)  # seconds per stage: read, parse, assemble, render, write
    warnings: list[str] = field(default_factory=list)   # said once to the user; the build still succeeded

    def summary(self) -> str:
        return (f"{self.pages} pages, {len(self.written)} files written, {self.unchanged} unchanged, "
                f"{len(self.removed)} removed; {self.parsed} parsed, {self.cache_hits} from cache, "
                f"{self.rendered} rendered in {self.seconds:.2f} s")

    def timings(self) -> str:
        """One line: the way the build went, then the seconds of each stage it ran."""
        way = (f"stopped at the {self.stopped_at} check" if self.stopped_at
               else "touched documents only" if self.touched else "full")
        stages = ", ".join(f"{stage} {seconds:.3f} s" for stage, seconds in self.stages.items())
        return f"build: {way}; {stages or 'no stage timed'}; total {self.seconds:.3f} s"

    def changed_urls(self) -> list[str]:
        """Absolute URLs whose content changed or vanished: what a CDN purge needs."""
        return [self.base_url.rstrip("/") + urls.url_path(name) for name in sorted({*self.written, *self.removed})]


def build(options: BuildOptions, progress: ProgressCallback | None = None, session: Session | None = None,
          heap: Heap = Heap()) -> BuildReport:
    """Turn the content folder into a static site; raise BuildFailed (and change nothing) on any error.

    A cache is only a cache: one that cannot be used (damaged, foreign, not writable) is reported once in
    the report's warnings, discarded, and the build runs again from scratch, which starts a new one (or,
    where none can be written, goes without). A cache in use by another build is an error, CacheInUse."""
    try:
        return build_stages(options, progress, session, heap)
    except CacheUnusable as unusable:
        if not options.use_cache:
            raise  # the temporary cache of --no-cache: nothing to discard
        warning = (f"ssg: the build cache at {unusable.path} could not be used ({unusable.reason}); "
                   "building without it")
    if discard_cache(options.site_dir, session):
        try:
            report = build_stages(options, progress, session, heap)
            report.warnings.append(warning + " and starting a new one")
            return report
        except CacheUnusable:
            discard_cache(options.site_dir, session)  # a new one cannot be written either (a full disk)
    report = build_stages(dataclasses.replace(options, use_cache=False), progress, session, heap)
    report.warnings.append(warning)
    return report


def build_stages(options: BuildOptions, progress: ProgressCallback | None = None, session: Session | None = None,
                 heap: Heap = Heap()) -> BuildReport:
    """The stages of a build, in order (the module's docstring lists them).

    With a session (the preview), the cache's entries are written by session.save(), so a caller waiting
    for the pages does not wait for that. Only a caller that owns its process passes Heap(owned=True)."""
    started, wall = time.perf_counter(), time.time()
    stages = Stages(started)
    now = options.now or datetime.now(timezone.utc)
    check_output_folder(options.site_dir, options.output)
    recover_output(options.output)
    inputs = read_inputs_again(options, session)
    try:
        with opened_session(options.site_dir, options.use_cache, session) as current:
            owned = check_output_owner(options.site_dir, options.output, options.force)
            history = current.history
            record = history.build_record()
            in_place = functools.partial(history.in_place, options.output)
            digests = stat_digests(options.digest_inputs(), inputs.sources.documents, inputs.content_stats,
                                   inputs.others, inputs.templates, wall)
            stages.done("read")
            if still_right(record, now, in_place, stat=digests.stat):
                return stopped(record, "stat", inputs, started, stages)
            touched = build_touched(options.site_dir, options.output, now, inputs, current, record, digests, owned,
                                    in_place)
            if touched is not None and not touched.parsed:
                return stopped(touched.record, "content", inputs, started, stages)
            if touched is not None:
                written = touched.edited + touched.written
                report = BuildReport(written=written, edited=touched.edited, pages=touched.record.pages,
                                     rendered=touched.rendered, parsed=len(touched.parsed),
                                     cache_hits=touched.record.documents - len(touched.parsed),
                                     unchanged=touched.record.files - len(written),
                                     next_change=touched.record.valid_until, touched=True)
                stages.done("render")
                report.stages = stages.seconds
                return finished(report, inputs, started)

            opened = []
            if current.on_edited is not None and current.open_pages:
                opened = write_open_pages(options.output, now, inputs, current, record, digests, owned)
                if opened:
                    current.on_edited(opened)
            documents = read_documents(options.site_dir, inputs, current.cache, options.jobs, heap,
                                       current.renderer, progress)
            stages.done("parse")
            content = "" if documents.errors else content_digest(
                options.digest_inputs(), inputs.config, inputs.theme, documents.documents,
                inputs.copied_stats())
            settled = digests.settled
            if still_right(record, now, in_place, stat=settled, content=content):
                if settled and record.stat != settled:  # the same content under new times: next time the stat will do
                    history.note(dataclasses.replace(record, stat=settled, inputs=digests.settled_inputs,
                                                     templates=digests.settled_templates,
                                                     chunks=digests.settled_chunks))
                return stopped(record, "content", inputs, started, stages)

            loaded = load_site(options, inputs, documents, current, now)
            heap.freeze()
            stages.done("assemble")
            report = BuildReport(edited=opened)
            previous = history.outputs(options.output)
            if current.on_edited is not None and loaded.parsed and previous:
                edited, previous, owned = write_edited_pages(loaded, previous, options.output, owned)
                current.on_edited(edited)
                report.edited += edited
            written = write_output(loaded, loaded.pages, previous, options.output, owned, options.jobs,
                                   history.trusts_output, progress)
            stages.done("render", minus=written.commit_seconds)
            stages.seconds["write"] = written.commit_seconds
            next_change = valid_until(documents.documents, loaded.site, options.drafts, options.future)
            remember_recipes(current.cache, loaded.pages, written.outputs)
            history.remember(options.output, written.outputs, previous, BuildRecord(
                settled, content, next_change, len(loaded.pages), len(written.outputs), len(documents.documents),
                inputs=digests.settled_inputs, templates=digests.settled_templates, chunks=digests.settled_chunks,
                site=loaded.site_digest,
                nav=loaded.nav))
            stages.done("write")
    finally:
        heap.release()
    report.written = report.edited + written.written
    report.removed, report.unchanged, report.rendered = written.removed, written.unchanged, written.rendered
    report.pages, report.parsed, report.cache_hits = len(loaded.pages), len(documents.parsed), documents.cache_hits
    report.next_change = next_change
    report.stages = stages.seconds
    return finished(report, inputs, started)


def read_inputs_again(options: BuildOptions, session: Session | None) -> Inputs:
    """Read the inputs, or (the preview) take the last build's with the edited documents' stats read again."""
    inputs = None
    if session is not None and session.inputs is not None and session.edited is not None:
        inputs = inputs_after(session.inputs, session.edited)
    if inputs is None:
        inputs = read_inputs(options.site_dir, options.base_url, options.preview_key)
    if session is not None:
        session.inputs, session.edited = inputs, None
    return inputs


@dataclass(slots=True)
class Stages:
    """Seconds spent in each stage of one build, for the benchmark's figures (read, parse, assemble, render, write)."""

    last: float
    seconds: dict[str, float] = field(default_factory=dict)

    def done(self, stage: str, minus: float = 0.0) -> None:
        now = time.perf_counter()
        self.seconds[stage] = self.seconds.get(stage, 0.0) + now - self.last - minus
        self.last = now


def stopped(record: BuildRecord, stage: str, inputs: Inputs, started: float, stages: Stages) -> BuildReport:
    """The report of a build that found the last build's output still right."""
    report = BuildReport(pages=record.pages, unchanged=record.files, cache_hits=record.documents, stopped_at=stage,
                         next_change=record.valid_until, stages=stages.seconds)
    return finished(report, inputs, started)


def finished(report: BuildReport, inputs: Inputs, started: float) -> BuildReport:
    report.meter_script_gzip = script_size(inputs.theme) if inputs.config.meter else None
    if inputs.config.meter and inputs.config.access:
        report.account_script_gzip = script_size(inputs.theme, ACCOUNT_SCRIPT)
    report.base_url = inputs.config.base_url
    report.seconds = time.perf_counter() - started
    return report


def load_site(options: BuildOptions, inputs: Inputs, documents: Documents, session: Session,
              now: datetime) -> LoadedSite:
    """Assemble the site and prepare its templates; raise BuildFailed listing every error found."""
    config, theme = inputs.config, inputs.theme
    site = assemble_site(documents.documents, inputs.sources, config, now.astimezone(config.tzinfo),
                         drafts=options.drafts, future=options.future)
    # The page plan: the site's pages, then the host's files (_headers, _redirects) and the search page.
    pages = [*site_pages(site, config), *host_files(site, config), *search_pages(site, config)]
    errors = [*documents.errors, *find_collisions([*pages, *claimed_outputs(config)], site.assets, site.static)]
    if errors:
        raise BuildFailed(errors)
    cache = session.cache
    env = session.environment_for(theme)
    bodies = BodyStore(cache.path)
    nav = site_nav(site)
    configure(env, config, theme, nav, bodies.body_of)
    return LoadedSite(config, theme, site, pages, inputs.content_dir, env, bodies, site_digest(config, nav, theme),
                      frozenset(documents.parsed), cache.template_references,
                      made_files=index_files(site, config, bodies.body_of, cache.folder)
                      + image_files((*site.articles, *site.pages), documents.documents, cache.folder), nav=nav)
