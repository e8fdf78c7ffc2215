"""`ssg check`: build in memory and report links to pages or files that the site does not have."""
from __future__ import annotations

import dataclasses
import posixpath
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from datetime import datetime, timezone
from typing import Iterator

from . import urls
from .documents import read_documents
from .errors import SourceError, SsgError
from .folders import CONFIG_FILE, CONTENT_DIR
from .safe_yaml import load_yaml
from .heap import Heap
from .markdown_code import Places
from .output import copied_files
from .pipeline import BuildOptions, LoadedSite, load_site
from .render import render_template
from .session import opened_session
from .sources import read_inputs


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and (name == "src" or (name == "href" and tag in ("a", "link"))):
                self.links.append(value)


def check_site(options: BuildOptions) -> list[SourceError]:
    """Return one error per broken internal link or missing image, and per piece of another generator's
    template syntax left in Markdown (content errors raise BuildFailed)."""
    now = options.now or datetime.now(timezone.utc)
    inputs = read_inputs(options.site_dir, options.base_url)
    # Checking links needs no resized images: making them in a throwaway cache would cost seconds each run.
    inputs = dataclasses.replace(inputs, config=dataclasses.replace(inputs.config, images=None))
    with opened_session(options.site_dir, False, None) as session:
        documents = read_documents(options.site_dir, inputs, session.cache, options.jobs, Heap())
        loaded = load_site(options, inputs, documents, session, now)
        leftovers = [error for name in inputs.sources.documents
                     for error in template_leftovers(inputs.content_dir / name, f"{CONTENT_DIR}/{name}")]
        return _check(loaded, settings_links(options.site_dir, loaded.config)) + leftovers


# Liquid ({% include x %}, {{ page.title }}) and Hugo shortcodes ({{< figure >}}, {{% note %}}): an archive
# brought from Jekyll or Hugo keeps them, and the reader would see them as text.
_TEMPLATE_SYNTAX = re.compile(r"\{%.*?%\}|\{\{.*?\}\}")


def template_leftovers(path: Path, label: str) -> list[SourceError]:
    """Template syntax outside code in one Markdown file, each as `path:line`. Fenced and indented code
    and code spans may show template syntax on purpose (a tutorial about Liquid)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return []  # the build reports unreadable files
    places, indented = Places(text, 1), _indented_code_lines(text.splitlines())
    errors = []
    for found in _TEMPLATE_SYNTAX.finditer(text):
        line = places.line(found.start())
        if not places.in_code(found.start()) and line not in indented:
            errors.append(SourceError(label, line, f"template syntax left in Markdown: {found.group(0)[:80]} "
                                                   "(another generator's tag or shortcode: convert it, or put it in "
                                                   "`code` to show it; `ssg import` converts the usual ones)"))
    return errors


def _indented_code_lines(lines: list[str]) -> set[int]:
    """The lines of indented code blocks: indented by four spaces or a tab after a blank line, and so on."""
    found, blank_before = set(), True
    for number, line in enumerate(lines, 1):
        code = blank_before and line.startswith(("    ", "\t"))
        if code:
            found.add(number)
        blank_before = not line.strip() or code
    return found


def settings_links(site_dir: Path, config) -> dict[str, SourceError]:
    """The links site.yaml puts on many pages (the wall's sign-in, register and subscribe pages), by path,
    each with the error to report once, against its line in site.yaml, if the site lacks the page."""
    if config.meter is None:
        return {}
    path = site_dir / CONFIG_FILE
    try:
        lines = load_yaml(path.read_text(encoding="utf-8-sig"), str(path)).lines
    except (OSError, SsgError):
        lines = {}
    found = {}
    for key in ("signin_url", "register_url", "subscribe_url"):
        link = getattr(config.meter, key)
        if link and link.startswith("/") and not link.startswith("//"):
            target = urlsplit(link).path
            line = lines.get(f"meter.{key}") or lines.get("meter", 0)
            found.setdefault(target, SourceError(f"{CONFIG_FILE}", line, f"meter.{key} links to missing page {link}; "
                                                 "the paywall of every metered article leads there"))
    return found


def site_files(loaded: LoadedSite) -> Iterator[tuple[str, bytes | Path]]:
    """Every output file, rendered in memory."""
    for page in loaded.pages:
        yield page.output, render_template(page, loaded.env, loaded.bodies.body_of)
    yield from copied_files(loaded)


def _check(loaded, site_links: dict[str, SourceError]) -> list[SourceError]:
    base_path = loaded.config.base_path
    files = {}
    for name, data in site_files(loaded):
        files[name] = data
    sources = {d.path: d.source for d in (*loaded.site.articles, *loaded.site.pages)}
    errors = []
    for name, data in files.items():
        if not name.endswith(".html") or not isinstance(data, bytes):
            continue
        parser = _Links()
        parser.feed(data.decode("utf-8"))
        page_path = urls.url_path(name)
        for link in parser.links:
            target = _target(link, page_path, base_path)
            if target is None or _exists(target, files):
                continue
            if target in site_links:  # a setting's link: reported once, against site.yaml
                errors.append(site_links[target])
                continue
            where = sources.get(page_path, name)
            kind = "image" if re.search(r"\.(png|jpe?g|gif|webp|svg|avif)$", target, re.I) else "page"
            line = _line_of(link, loaded.content_dir.parent / where) if where != name else 0
            shown = link.split("#", 1)[0].split("?", 1)[0] or link  # the wall adds ?next=: not part of the page
            errors.append(SourceError(where, line, f"links to missing {kind} {shown}"))
    return sorted(set(errors), key=lambda e: (e.path, e.line, e.message))


def _line_of(link: str, source: Path) -> int:
    """The first line of the Markdown source that names the link; 0 when a template made it."""
    try:
        lines = source.read_text(encoding="utf-8").splitlines()
    except OSError:
        return 0
    return next((number for number, text in enumerate(lines, 1) if link in text), 0)


OUTSIDE = "\0"  # prefix of a link that leaves the site's folder; no output file starts with it


def _target(link: str, page_path: str, base_path: str) -> str | None:
    """The site path a link points to, or None for external links and fragments."""
    parts = urlsplit(link)
    if parts.scheme or parts.netloc or not parts.path:
        return None
    path = unquote(parts.path)
    if not path.startswith("/"):
        folder = page_path if page_path.endswith("/") else posixpath.dirname(page_path) + "/"
        path = posixpath.normpath(folder + path) + ("/" if path.endswith("/") else "")
    elif base_path:
        if not path.startswith(base_path + "/"):
            return OUTSIDE + path  # outside the site's folder: missing even if the site has that path
        path = path[len(base_path):]
    return path


def _exists(path: str, files: dict) -> bool:
    name = path.lstrip("/")
    return name in files or (name.rstrip("/") + "/index.html").lstrip("/") in files or name == ""
