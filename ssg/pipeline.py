"""build(): the whole generator, from site.yaml and content/ to a finished output folder."""
from __future__ import annotations

import dataclasses
import gzip
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import jinja2

from .assemble import assemble_site
from .config import SiteConfig, load_config
from .errors import BuildFailed, SourceError, SsgError
from .markup import MarkdownRenderer
from .model import Document, Site
from .output import Staging
from .parse import ParseSettings, digest_of, parse_document
from .render import configure, render_page, site_pages
from .sources import Sources, discover_sources
from .theme import Theme, load_theme, make_environment

METER_SCRIPT = "js/meter.js"


@dataclass(frozen=True, slots=True)
class BuildOptions:
    site_dir: Path = Path(".")
    out_dir: Path | None = None          # default: <site>/_site
    drafts: bool = False
    future: bool = False
    base_url: str | None = None
    now: datetime | None = None          # "now" for future articles and the news sitemap; tests pin it

    @property
    def output(self) -> Path:
        return self.out_dir if self.out_dir is not None else self.site_dir / "_site"


@dataclass(slots=True)
class BuildReport:
    written: list[str] = field(default_factory=list)    # output files whose bytes changed
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    pages: int = 0
    seconds: float = 0.0
    meter_script_gzip: int | None = None                # bytes of JavaScript on a metered page, gzipped

    def summary(self) -> str:
        return (f"{self.pages} pages: {len(self.written)} written, {self.unchanged} unchanged, "
                f"{len(self.removed)} removed in {self.seconds:.2f} s")


@dataclass(frozen=True, slots=True)
class LoadedSite:
    """A site read, parsed and assembled, ready to render."""

    config: SiteConfig
    theme: Theme
    site: Site
    content_dir: Path
    env: jinja2.Environment


def load_site(options: BuildOptions) -> LoadedSite:
    """Read settings, theme and content; raise BuildFailed listing every error found."""
    site_dir = options.site_dir
    config = load_config(site_dir, options.base_url)
    theme = load_theme(site_dir, config.theme)
    content_dir = site_dir / "content"
    sources = discover_sources(content_dir) if content_dir.is_dir() else Sources((), ())
    settings = parse_settings(site_dir, config, theme, sources)
    documents, errors = parse_all(sources, settings)
    now = options.now or datetime.now(timezone.utc)
    site, collisions = assemble_site(documents, sources, config, now.astimezone(config.tzinfo),
                                     drafts=options.drafts, future=options.future)
    errors += collisions
    if errors:
        raise BuildFailed(errors)
    env = make_environment(theme)
    configure(env, config, theme, site)
    return LoadedSite(config, theme, site, content_dir, env)


def site_files(loaded: LoadedSite) -> Iterator[tuple[str, bytes | Path]]:
    """Every output file: rendered pages as bytes, copied files as their source path."""
    for page in site_pages(loaded.site, loaded.config):
        yield page.output, render_template(page, loaded.env)
    for name, target in loaded.site.assets:
        yield target.lstrip("/"), loaded.content_dir / name
    for name, fingerprinted in loaded.theme.fingerprinted.items():
        yield fingerprinted, loaded.theme.static[name]


def build(options: BuildOptions) -> BuildReport:
    """Turn the content folder into a static site; raise BuildFailed (and write nothing) on any error."""
    started = time.perf_counter()
    check_output_folder(options.site_dir, options.output)
    loaded = load_site(options)
    staging = Staging(options.output)
    report = BuildReport()
    try:
        for name, data in site_files(loaded):
            if isinstance(data, bytes):
                staging.add(name, data)
                report.pages += 1
            else:
                staging.add_file(name, data)
        report.removed = staging.commit()
    finally:
        staging.discard()
    report.written, report.unchanged = staging.written, staging.unchanged
    report.meter_script_gzip = meter_script_size(loaded.theme) if loaded.config.meter else None
    report.seconds = time.perf_counter() - started
    return report


def parse_settings(site_dir: Path, config: SiteConfig, theme: Theme, sources: Sources) -> ParseSettings:
    return ParseSettings(
        content_dir=(site_dir / "content").resolve(), content_label="content", timezone=config.timezone,
        permalink=config.permalink,
        teaser_paragraphs=config.meter.teaser_paragraphs if config.meter else None,
        layouts=theme.layouts(), documents=frozenset(sources.documents))


def parse_all(sources: Sources, settings: ParseSettings) -> tuple[list[Document], list[SourceError]]:
    """Parse every document, collecting the errors of all files before failing once."""
    renderer = MarkdownRenderer()
    documents, errors = [], []
    for relative in sources.documents:
        raw = (settings.content_dir / relative).read_bytes()
        document, problems = parse_document(relative, raw, settings, renderer)
        errors += problems
        if document is not None:
            documents.append(dataclasses.replace(document, digest=digest_of(raw, settings)))
    return documents, errors


def render_template(page, env: jinja2.Environment) -> bytes:
    """Render one page; a template mistake becomes an error naming the template file and line."""
    try:
        return render_page(page, env)
    except jinja2.TemplateSyntaxError as exc:
        raise BuildFailed([SourceError(exc.filename or exc.name or page.template, exc.lineno, exc.message or "")]) from None
    except (jinja2.TemplateError, TypeError, AttributeError, KeyError, ValueError) as exc:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith((".html", ".xml", ".txt"))]
        where = frames[-1] if frames else None
        message = f"while rendering {page.output}: {type(exc).__name__}: {exc}"
        raise BuildFailed([SourceError(where.filename if where else page.template, where.lineno if where else 0,
                                       message)]) from None


def check_output_folder(site_dir: Path, out_dir: Path) -> None:
    """The output folder is replaced wholesale, so it must never hold the site's own sources."""
    site, out = site_dir.resolve(), out_dir.resolve()
    if out == site or site.is_relative_to(out) or out.is_relative_to(site / "content") \
            or out.is_relative_to(site / "themes"):
        raise SsgError(SourceError(str(out_dir), 0, "the output folder must not contain or sit inside the "
                                                    "site's sources; use a folder like _site"))


def meter_script_size(theme: Theme) -> int | None:
    file = theme.static.get(METER_SCRIPT)
    return len(gzip.compress(file.read_bytes(), 9)) if file else None
