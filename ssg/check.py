"""`ssg check`: build in memory and report links to pages or files that the site does not have."""
from __future__ import annotations

import posixpath
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from datetime import datetime, timezone
from typing import Iterator

from . import urls
from .documents import read_documents
from .errors import SourceError
from .heap import Heap
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
    """Return one error per broken internal link or missing image (content errors raise BuildFailed)."""
    now = options.now or datetime.now(timezone.utc)
    inputs = read_inputs(options.site_dir, options.base_url)
    with opened_session(options.site_dir, False, None) as session:
        documents = read_documents(options.site_dir, inputs, session.cache, options.jobs, Heap())
        return _check(load_site(options, inputs, documents, session, now))


def site_files(loaded: LoadedSite) -> Iterator[tuple[str, bytes | Path]]:
    """Every output file, rendered in memory."""
    for page in loaded.pages:
        yield page.output, render_template(page, loaded.env, loaded.bodies.body_of)
    yield from copied_files(loaded)


def _check(loaded) -> list[SourceError]:
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
