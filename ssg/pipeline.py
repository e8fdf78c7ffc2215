"""build(): the whole generator, from site.yaml and content/ to a finished output folder.

read settings -> find sources -> parse (cached, in parallel) -> assemble -> render what changed
(in parallel) -> stage changed files -> swap them into place. Nothing in the output folder changes
until every page has rendered.
"""
from __future__ import annotations

import dataclasses
import functools
import gc
import gzip
import hashlib
import multiprocessing
import os
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterator

import jinja2
import markdown
import pygments

from .assemble import assemble_site
from .cache import CACHE_DIR, RACY_SECONDS, BodyStore, BuildCache, CachedDocument
from .config import SiteConfig, load_config
from .errors import BuildFailed, SourceError, SsgError
from .markup import MarkdownRenderer
from .model import Document, Site
from .output import Staging, same_bytes
from .parse import ParseSettings, parse_document
from .render import NEWS_SITEMAP_HOURS, Page, configure, document_page, render_page, site_nav, site_pages
from .sources import Sources, bundle_of, discover_sources
from .theme import PACKAGE_THEMES, Theme, load_theme, make_environment, template_digest

METER_SCRIPT = "js/meter.js"
VERSION = "0.1.0"
# Below this many tasks a process pool costs more (start-up, pickling) than it saves.
POOL_THRESHOLD = 48


@dataclass(frozen=True, slots=True)
class BuildOptions:
    site_dir: Path = Path(".")
    out_dir: Path | None = None          # default: <site>/_site
    drafts: bool = False
    future: bool = False
    base_url: str | None = None
    now: datetime | None = None          # "now" for future articles and the news sitemap; tests pin it
    use_cache: bool = True               # False: a clean build that neither reads nor writes .ssg-cache/
    jobs: int | None = None              # worker processes; default: one per core

    @property
    def output(self) -> Path:
        return self.out_dir if self.out_dir is not None else self.site_dir / "_site"


@dataclass(slots=True)
class BuildReport:
    written: list[str] = field(default_factory=list)    # output files whose bytes changed
    first: list[str] = field(default_factory=list)      # of those, the ones swapped in ahead of the rest
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    pages: int = 0                                      # pages (not copied files) in the site
    rendered: int = 0                                   # pages rendered by this build
    parsed: int = 0                                     # documents parsed by this build
    cache_hits: int = 0                                 # documents taken from the cache
    seconds: float = 0.0
    meter_script_gzip: int | None = None                # bytes of JavaScript on a metered page, gzipped
    base_url: str = "/"

    def summary(self) -> str:
        return (f"{self.pages} pages, {len(self.written)} files written, {self.unchanged} unchanged, "
                f"{len(self.removed)} removed; {self.parsed} parsed, {self.cache_hits} from cache, "
                f"{self.rendered} rendered in {self.seconds:.2f} s")

    def changed_urls(self) -> list[str]:
        """Absolute URLs whose content changed or vanished: what a CDN purge needs."""
        urls = []
        for name in sorted({*self.written, *self.removed}):
            path = name[: -len("index.html")] if name.endswith("index.html") else name
            urls.append(self.base_url.rstrip("/") + "/" + path)
        return urls


@dataclass(frozen=True, slots=True)
class LoadedSite:
    """A site read, parsed and assembled, ready to render."""

    config: SiteConfig
    theme: Theme
    site: Site
    content_dir: Path
    env: jinja2.Environment
    bodies: BodyStore
    site_key: str          # digest of every site-wide input a page depends on (its templates come on top)
    changed: frozenset[str]  # documents parsed anew by this build (content/ paths)
    template_references: dict[str, list[str | None]]  # what each template source names, kept in the cache
    valid_until: datetime  # when the passing of time alone changes the site (a future article, the news sitemap)


ProgressCallback = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass(slots=True)
class Session:
    """What a long-running process (the preview server) keeps between builds of one site.

    The cache stays open with its entries in memory, and the Jinja environment is kept while no template
    changes. The process owns its output folder: what the last build left there is known without looking,
    and is never recorded in the site's cache (the folder is gone when the process ends)."""

    cache: BuildCache | None = None
    outputs: dict[str, tuple[str, str]] = field(default_factory=dict)  # output file -> (key, hash)
    environment: tuple[str, jinja2.Environment] | None = None          # (templates digest, environment)
    # Called with the output files of the documents just edited, once they are in place and before the
    # rest of the build: the author is looking at the page they edit; the lists around it follow.
    on_first: Callable[[list[str]], None] | None = None

    def save(self) -> None:
        """Write what the builds learned to the site's cache; call it when idle, and before close()."""
        if self.cache is not None:
            self.cache.save_entries()
            self.cache.save_template_references()

    def close(self) -> None:
        self.save()
        if self.cache is not None:
            self.cache.close()
            self.cache = None


def build(options: BuildOptions, progress: ProgressCallback | None = None,
          session: Session | None = None) -> BuildReport:
    """Turn the content folder into a static site; raise BuildFailed (and write nothing) on any error.

    With a session, the cache's entries are written by session.save(), so a caller waiting for the pages
    (the preview's reload) does not wait for that."""
    started = time.perf_counter()
    check_output_folder(options.site_dir, options.output)
    report = BuildReport()
    inputs = read_inputs(options)
    now = options.now or datetime.now(timezone.utc)
    try:
        if session is not None:
            if session.cache is None:
                session.cache = open_cache(options)
            loaded = load_site(options, session.cache, report, progress, inputs, session)
            keep_out_of_the_collectors_way()
            if session.on_first is not None and loaded.changed and session.outputs:
                session.outputs = write_first(loaded, session.outputs, options, report)  # in place, come what may
                session.on_first(report.first)
            session.outputs = write_site(loaded, session.outputs, options, report, progress, trust_output=True)
        else:
            state = input_state(options, inputs)
            cache = open_cache(options)
            try:
                if not cache.current(now, options.output, report, state=state):
                    try:
                        parsed = parse_documents(options, inputs, cache, report, progress)
                    finally:
                        cache.save_entries()  # what was parsed outlives a failed build: the next starts from it
                    content = "" if parsed.errors else content_state(options, inputs, parsed)
                    settled = state if state_is_settled(inputs, started) else ""
                    if not cache.current(now, options.output, report, state=settled, content=content):
                        loaded = load_site(options, cache, report, progress, inputs, parsed=parsed)
                        keep_out_of_the_collectors_way()
                        previous = cache.outputs(options.output) if options.output.is_dir() else {}
                        recorded = write_site(loaded, previous, options, report, progress)
                        cache.store_outputs(options.output, recorded, previous)
                        cache.save_template_references()
                        cache.remember_state(settled, content, loaded.valid_until, len(recorded), report)
            finally:
                cache.close()
    finally:
        gc.unfreeze()  # what the build held may be garbage now: let the collector have it again
    report.meter_script_gzip = meter_script_size(inputs.theme) if inputs.config.meter else None
    report.base_url = inputs.config.base_url
    report.seconds = time.perf_counter() - started
    return report


def keep_out_of_the_collectors_way() -> None:
    """The site as data lives until the build ends. Frozen, it is skipped by the garbage collector's full
    passes, which otherwise walk 10,000 documents again and again (a fifth of a no-change build), and
    forked workers share its memory pages instead of copying those the collector would have touched."""
    gc.freeze()


@dataclass(frozen=True, slots=True)
class Inputs:
    config: SiteConfig
    theme: Theme
    content_dir: Path
    sources: Sources
    stats: tuple[tuple[str, int, int], ...]   # (file, size, mtime_ns) of every input file
    content_stats: dict[str, tuple[int, int]]  # the same (size, mtime_ns) by path under content/


def read_inputs(options: BuildOptions) -> Inputs:
    config = load_config(options.site_dir, options.base_url)
    theme = load_theme(options.site_dir, config.theme)
    content_dir = options.site_dir / "content"
    sources = discover_sources(content_dir) if content_dir.is_dir() else Sources((), ())
    content_stats = {}
    for name in (*sources.documents, *sources.assets):
        stat = os.stat(os.path.join(content_dir, name))
        content_stats[name] = (stat.st_size, stat.st_mtime_ns)
    others = [str(options.site_dir / "site.yaml")]
    for folder in theme.folders:
        others += sorted(str(f) for f in folder.rglob("*") if f.is_file())
    stats = [(name, size, mtime) for name, (size, mtime) in content_stats.items()]
    for name in others:
        stat = os.stat(name)
        stats.append((name, stat.st_size, stat.st_mtime_ns))
    return Inputs(config, theme, content_dir, sources, tuple(stats), content_stats)


def input_state(options: BuildOptions, inputs: Inputs) -> str:
    """A digest of every input file's size and time, the options and the output folder: when it is the
    one recorded by the last build (and no time limit passed), that build's output is still right."""
    seen = repr((options.drafts, options.future, options.base_url, str(options.output.resolve()), inputs.stats))
    return hashlib.sha1(seen.encode()).hexdigest()


def state_is_settled(inputs: Inputs, started: float) -> bool:
    """A file changed within the file system's time granularity of the build may change again unseen."""
    newest = max((mtime for _, _, mtime in inputs.stats), default=0)
    return newest / 1e9 < time.time() - (time.perf_counter() - started) - RACY_SECONDS


def open_cache(options: BuildOptions) -> BuildCache:
    path = options.site_dir / CACHE_DIR if options.use_cache else None
    return BuildCache(path, fingerprint=f"{code_digest()}|{markdown.__version__}|{pygments.__version__}")


@functools.cache
def code_digest() -> str:
    """The generator's own source: a cache written by other code is not trusted, even at one version."""
    digest = hashlib.sha1(VERSION.encode())
    for file in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(file.read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class Parsed:
    documents: list[Document]   # with empty bodies: those are in the cache
    errors: list[SourceError]
    changed: list[str]          # documents parsed anew (content/ paths)


def parse_documents(options: BuildOptions, inputs: Inputs, cache: BuildCache, report: BuildReport,
                    progress: ProgressCallback | None = None) -> Parsed:
    settings = parse_settings(options.site_dir, inputs.config, inputs.theme, inputs.sources)
    return parse_all(inputs.sources, inputs.content_stats, settings, cache, options.jobs, report, progress)


def content_state(options: BuildOptions, inputs: Inputs, parsed: Parsed) -> str:
    """A digest of what every input holds (documents by their digests, settings, theme, templates, copied
    files by size and time), the options and the output folder. When the last build saw the same, its
    output is still right, even though files were touched or saved unchanged since."""
    seen = repr((VERSION, options.drafts, options.future, options.base_url, str(options.output.resolve()),
                 inputs.config, inputs.theme.fingerprinted, all_templates_digest(inputs.theme),
                 [(d.relative, d.digest) for d in parsed.documents],
                 [(name, inputs.content_stats[name]) for name in inputs.sources.assets]))
    return hashlib.sha1(seen.encode()).hexdigest()


def load_site(options: BuildOptions, cache: BuildCache, report: BuildReport | None = None,
              progress: ProgressCallback | None = None, inputs: Inputs | None = None,
              session: Session | None = None, parsed: Parsed | None = None) -> LoadedSite:
    """Read settings, theme and content; raise BuildFailed listing every error found."""
    report = report or BuildReport()
    inputs = inputs or read_inputs(options)
    config, theme, content_dir, sources = inputs.config, inputs.theme, inputs.content_dir, inputs.sources
    parsed = parsed or parse_documents(options, inputs, cache, report, progress)
    documents, errors, changed = parsed.documents, list(parsed.errors), parsed.changed
    now = options.now or datetime.now(timezone.utc)
    site, collisions = assemble_site(documents, sources, config, now.astimezone(config.tzinfo),
                                     drafts=options.drafts, future=options.future)
    errors += collisions
    if errors:
        raise BuildFailed(errors)
    templates = all_templates_digest(theme)
    if session is not None and session.environment is not None and session.environment[0] == templates:
        env = session.environment[1]
    else:
        env = make_environment(theme, cache.path.parent / "templates")
        if session is not None:
            session.environment = (templates, env)
    bodies = BodyStore(cache.path)
    nav = site_nav(site)
    configure(env, config, theme, nav, lambda document: bodies.body(document.relative))
    site_key = hashlib.sha1(repr((VERSION, config, nav, theme.fingerprinted, jinja2.__version__)).encode()).hexdigest()
    return LoadedSite(config, theme, site, content_dir, env, bodies, site_key, frozenset(changed),
                      cache.template_references,
                      valid_until=next_change_in_time(documents, site, options))


def next_change_in_time(documents: list[Document], site: Site, options: BuildOptions) -> datetime:
    """The first moment the site changes with nothing edited: a future article comes out, an article
    leaves the news sitemap, or the year in the footer turns."""
    now = site.built_at
    moments = [now.replace(year=now.year + 1, month=1, day=1, hour=0, minute=0, second=0, microsecond=0)]
    if not options.future:
        moments += [d.date for d in documents if d.is_article and d.date is not None and d.date > now]
    moments += [a.date + timedelta(hours=NEWS_SITEMAP_HOURS) for a in site.articles
                if a.date + timedelta(hours=NEWS_SITEMAP_HOURS) > now]
    return min(moments)


def parse_settings(site_dir: Path, config: SiteConfig, theme: Theme, sources: Sources) -> ParseSettings:
    return ParseSettings(
        content_dir=(site_dir / "content").resolve(), content_label="content", base_path=config.base_path,
        timezone=config.timezone,
        permalink=config.permalink,
        teaser_paragraphs=config.meter.teaser_paragraphs if config.meter else None,
        layouts=theme.layouts(), documents=frozenset(sources.documents), assets=frozenset(sources.assets))


# ---- parsing -------------------------------------------------------------------------------------

def parse_all(sources: Sources, stats: dict[str, tuple[int, int]], settings: ParseSettings,
              cache: BuildCache, jobs: int | None,
              report: BuildReport, progress: ProgressCallback | None = None
              ) -> Parsed:
    """Parse what changed since the cache was written, reuse the rest; collect every error.

    Rendered bodies go straight to the cache in batches and are read back page by page when
    rendering, so a 10,000-article build never holds all the site's HTML in memory."""
    cached = cache.documents()
    keep_out_of_the_collectors_way()  # the stored entries, 10,000 documents on a large site
    states = folder_states(sources, stats)
    fingerprint = settings.fingerprint()
    documents: dict[str, Document] = {}
    tasks = []
    for relative in sources.documents:
        size, mtime_ns = stats[relative]
        entry = cached.get(relative)
        if entry and entry.still_valid(mtime_ns, size, states[relative]):
            documents[relative] = entry.document
        else:
            tasks.append(ParseTask(relative, mtime_ns, size, states[relative],
                                   fingerprint, entry.digest if entry else None))
    errors: list[SourceError] = []
    changed = []
    stored = []
    stored_at = time.time()
    for done, result in enumerate(run_tasks(parse_one, tasks, jobs, _init_parse_worker, (settings,)), 1):
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
            changed.append(task.relative)
        else:
            continue
        documents[task.relative] = dataclasses.replace(document, body="")
        if len(stored) >= 256:
            cache.store_documents(stored)
            stored = []
    cache.store_documents(stored)
    cache.forget_documents(keep=set(sources.documents))
    report.parsed = len(changed)
    report.cache_hits = len(documents) - report.parsed
    return Parsed([documents[r] for r in sources.documents if r in documents], errors, changed)


@dataclass(frozen=True, slots=True)
class ParseTask:
    relative: str
    mtime_ns: int
    size: int
    folder_state: str
    fingerprint: str
    cached_digest: str | None


@dataclass(frozen=True, slots=True)
class ParseResult:
    task: ParseTask
    digest: str
    document: Document | None       # None with no errors: unchanged since cached
    errors: list[SourceError]


def _entry(task: ParseTask, digest: str, stored_at: float, document: Document) -> CachedDocument:
    return CachedDocument(task.mtime_ns, task.size, task.folder_state, digest, stored_at, document)


_worker: dict = {}  # per-process state of a pool worker, set by its initializer


def _init_parse_worker(settings: ParseSettings) -> None:
    _worker["settings"] = settings
    if "renderer" not in _worker:  # kept between builds of one process (the preview server)
        _worker["renderer"] = MarkdownRenderer()


def parse_one(task: ParseTask) -> ParseResult:
    settings: ParseSettings = _worker["settings"]
    raw = (settings.content_dir / task.relative).read_bytes()
    # Everything a Document is made of: its bytes, its path (slug, section), settings, the files beside it.
    digest = hashlib.sha1(raw + f"|{task.relative}|{task.fingerprint}|{task.folder_state}".encode()).hexdigest()
    if digest == task.cached_digest:
        return ParseResult(task, digest, None, [])
    document, errors = parse_document(task.relative, raw, settings, _worker["renderer"])
    if document is not None:
        document = dataclasses.replace(document, digest=digest)
    return ParseResult(task, digest, document, errors)


def folder_states(sources: Sources, stats: dict[str, tuple[int, int]]) -> dict[str, str]:
    """For each document, the size and time of the files beside it (its images): a changed image
    changes the page (its width and height are in the HTML)."""
    documents = frozenset(sources.documents)
    by_folder: dict[str, list[str]] = {}
    for asset in sources.assets:
        owner = bundle_of(asset, documents)
        folder = owner.rsplit("/", 1)[0] if owner else asset.rpartition("/")[0]
        by_folder.setdefault(folder, []).append(asset)
    states = {}
    for relative in sources.documents:
        folder = relative.rpartition("/")[0]
        parts = []
        for asset in by_folder.get(folder, ()):
            size, mtime_ns = stats[asset]
            parts.append(f"{asset}:{size}:{mtime_ns}")
        states[relative] = hashlib.sha1("|".join(parts).encode()).hexdigest() if parts else ""
    return states


def run_tasks(function, tasks: list, jobs: int | None, initializer, initargs: tuple) -> Iterator:
    """Run tasks in a pool of forked processes when there are enough of them, else in this process."""
    if not tasks:
        return
    jobs = jobs or os.cpu_count() or 1
    if jobs > 1 and len(tasks) >= POOL_THRESHOLD and "fork" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("fork")  # workers inherit the site; nothing big is pickled
        with context.Pool(jobs, initializer=initializer, initargs=initargs) as pool:
            yield from pool.imap_unordered(function, tasks, chunksize=max(1, min(64, len(tasks) // (jobs * 8))))
        return
    initializer(*initargs)
    for task in tasks:
        yield function(task)


# ---- rendering and writing -----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class RenderTask:
    index: int                  # position in the page list the worker inherited
    key: str | None
    previous_hash: str | None


@dataclass(frozen=True, slots=True)
class RenderResult:
    output: str
    key: str | None
    hash: str
    written: bool


def write_site(loaded: LoadedSite, previous: dict[str, tuple[str, str]], options: BuildOptions,
               report: BuildReport, progress: ProgressCallback | None = None, trust_output: bool = False
               ) -> dict[str, tuple[str, str]]:
    """Render pages whose inputs changed, copy files that changed, then swap them into the output.

    `previous` says what each output file was made from (key, hash) by the last build; the same for this
    build is returned. With trust_output, files named there are not looked for: only this process writes
    the output folder."""
    out_dir = options.output
    recorded: dict[str, tuple[str, str]] = {}
    staging = Staging(out_dir)
    out_prefix = str(out_dir) + os.sep

    def still_there(name: str) -> bool:
        return trust_output or os.path.isfile(out_prefix + name)

    try:
        pages = list(site_pages(loaded.site, loaded.config))
        report.pages = len(pages)
        tasks = []
        templates: dict[str, str] = {}
        for index, page in enumerate(pages):
            key = page_key(loaded.site_key, templates_of(loaded, page, templates), page)
            old = previous.get(page.output)
            if key is not None and old is not None and old[0] == key and still_there(page.output):
                staging.keep(page.output)
                recorded[page.output] = old
            else:
                staging.claim(page.output)
                tasks.append(RenderTask(index, key, old[1] if old else None))
        report.rendered = len(tasks)
        results = run_tasks(render_one, tasks, options.jobs, _init_render_worker,
                            (loaded, pages, staging.folder, out_dir.resolve()))
        for done, result in enumerate(results, 1):
            if progress:
                progress("rendered", done, len(tasks))
            recorded[result.output] = (result.key or "", result.hash)
            staging.record(result.output, result.written)
        for name, source in copied_files(loaded):
            stat = source.stat()
            key = f"file|{source}|{stat.st_size}|{stat.st_mtime_ns}"
            old = previous.get(name)
            if old is not None and old[0] == key and still_there(name):
                staging.keep(name)
                recorded[name] = old
            else:
                data = source.read_bytes()
                staging.add(name, data)
                recorded[name] = (key, hashlib.sha1(data).hexdigest())
        report.removed = staging.commit(previous=set(previous) if previous else None)
    finally:
        staging.discard()
    report.written, report.unchanged = report.first + staging.written, staging.unchanged
    return recorded


def write_first(loaded: LoadedSite, previous: dict[str, tuple[str, str]], options: BuildOptions,
                report: BuildReport) -> dict[str, tuple[str, str]]:
    """Render the pages of the documents this build parsed and swap them into the output now, ahead of
    the rest of the build; return `previous` updated, so write_site() keeps them."""
    recorded = dict(previous)
    staging = Staging(options.output)
    templates: dict[str, str] = {}
    try:
        for document in (*loaded.site.articles, *loaded.site.pages):
            if document.relative not in loaded.changed:
                continue
            page = document_page(document, loaded.site, loaded.config)
            key = page_key(loaded.site_key, templates_of(loaded, page, templates), page)
            data = render_template(page, loaded)
            staging.add(page.output, data)
            recorded[page.output] = (key or "", hashlib.sha1(data).hexdigest())
        staging.commit(previous=set())  # nothing is removed here: that is the whole build's decision
    finally:
        staging.discard()
    report.first = staging.written
    return recorded


def templates_of(loaded: LoadedSite, page: Page, digests: dict[str, str]) -> str:
    """The digest of the templates a page is made with; `digests` keeps those made in this build."""
    return template_digest(loaded.env, page.template, digests, loaded.template_references)


def page_key(site_key: str, templates: str, page: Page) -> str | None:
    """What decides a page's bytes: the site-wide inputs, its templates and what it shows (page.key)."""
    if page.key is None:
        return None
    return hashlib.sha1(f"{site_key}|{page.template}|{templates}|{page.key}".encode()).hexdigest()


def _init_render_worker(loaded: LoadedSite, pages: list[Page], staging: Path, out_dir: Path) -> None:
    loaded.bodies.forget_connection()
    _worker.update(loaded=loaded, pages=pages, staging=staging, out_dir=out_dir)


def render_one(task: RenderTask) -> RenderResult:
    """Render a page and stage it unless the output already holds the same bytes."""
    loaded: LoadedSite = _worker["loaded"]
    page: Page = _worker["pages"][task.index]
    data = render_template(page, loaded)
    digest = hashlib.sha1(data).hexdigest()
    target = _worker["out_dir"] / page.output
    if task.previous_hash == digest and target.is_file() or task.previous_hash is None and same_bytes(target, data):
        return RenderResult(page.output, task.key, digest, written=False)
    staged = _worker["staging"] / page.output
    staged.parent.mkdir(parents=True, exist_ok=True)
    staged.write_bytes(data)
    return RenderResult(page.output, task.key, digest, written=True)


def copied_files(loaded: LoadedSite) -> Iterator[tuple[str, Path]]:
    """Files copied as they are: content images and attachments, and the theme's fingerprinted assets."""
    for name, target in loaded.site.assets:
        yield target.lstrip("/"), loaded.content_dir / name
    for name, fingerprinted in loaded.theme.fingerprinted.items():
        yield fingerprinted, loaded.theme.static[name]


def site_files(loaded: LoadedSite) -> Iterator[tuple[str, bytes | Path]]:
    """Every output file, rendered in memory (for `ssg check`)."""
    for page in site_pages(loaded.site, loaded.config):
        yield page.output, render_template(page, loaded)
    yield from copied_files(loaded)


def render_template(page: Page, loaded: LoadedSite) -> bytes:
    """Render one page; a template mistake becomes an error naming the template file and line."""
    try:
        return render_page(page, loaded.env, lambda document: loaded.bodies.body(document.relative))
    except jinja2.TemplateSyntaxError as exc:
        raise BuildFailed([SourceError(exc.filename or exc.name or page.template, exc.lineno, exc.message or "")]) from None
    except (jinja2.TemplateError, TypeError, AttributeError, KeyError, ValueError) as exc:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith((".html", ".xml", ".txt"))]
        where = frames[-1] if frames else None
        message = f"while rendering {page.output}: {type(exc).__name__}: {exc}"
        raise BuildFailed([SourceError(where.filename if where else page.template, where.lineno if where else 0,
                                       message)]) from None


def all_templates_digest(theme: Theme) -> str:
    """Every template file's path and bytes, the built-in themes' too (a theme may extend "default/base.html"):
    while this holds, a compiled template kept in memory is current."""
    digest = hashlib.sha1()
    for folder in dict.fromkeys([*theme.template_dirs, *sorted(PACKAGE_THEMES.glob("*/templates"))]):
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                digest.update(file.as_posix().encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


def check_output_folder(site_dir: Path, out_dir: Path) -> None:
    """The output folder is replaced file by file, so it must never hold the site's own sources."""
    site, out = site_dir.resolve(), out_dir.resolve()
    if out == site or site.is_relative_to(out) or out.is_relative_to(site / "content") \
            or out.is_relative_to(site / "themes") or out.is_relative_to(site / CACHE_DIR):
        raise SsgError(SourceError(str(out_dir), 0, "the output folder must not contain or sit inside the "
                                                    "site's sources; use a folder like _site"))


def meter_script_size(theme: Theme) -> int | None:
    file = theme.static.get(METER_SCRIPT)
    return len(gzip.compress(file.read_bytes(), 9)) if file else None
