"""Site search (`search: true`): the search page, and a Pagefind index of what any reader may read.

The index is the one place a search results page draws from, so it holds no more than a reader who has not
paid may see: the whole text of free articles and pages, and of a metered article only its title, summary
and teaser (what its feed entry carries, meter.public_html). Only the documents this build publishes are
in it. Pagefind writes the index into the build cache, in a folder named by the digest of what it holds; a
build whose documents give the same digest reuses that folder, and the write stage copies its files into
the output under /pagefind/ like any other file (LoadedSite.made_files).
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Callable, Iterable, Iterator

from markupsafe import escape

from . import meter, urls
from .config import SiteConfig
from .errors import BuildFailed, SourceError
from .folders import CONFIG_FILE
from .model import Document, Site
from .pages import Page, page_head

SEARCH_PATH = "/search/"     # the search page
INDEX_FOLDER = "pagefind"    # where the index's files go in the output: /pagefind/pagefind.js, ...
CACHE_FOLDER = "search"      # in the cache folder: one folder per index digest
SCRIPT = "js/search.js"      # the theme's script on the search page
ABANDONED_SECONDS = 3600     # a half-made index this old was left by a killed build, not one under way


def search_pages(site: Site, config: SiteConfig) -> Iterator[Page]:
    """The search page. It is not in the sitemap and asks search engines not to index it: with no query
    it has nothing to show, and every query would be a page of its own."""
    if not config.search:
        return
    page = page_head(config, SEARCH_PATH, "Search", "search", f"Search {config.title}", noindex=True)
    yield Page(urls.output_file(SEARCH_PATH), "search.html", partial(dict, page=page), shows="search")


def claimed_outputs(config: SiteConfig) -> list[Page]:
    """What the page plan must keep free for the index: its whole folder, so that a content or static file
    at /pagefind/x is a collision (find_collisions treats a claimed file as a folder no one else may use).
    These are claims only, never rendered."""
    if not config.search:
        return []
    return [Page(INDEX_FOLDER, "", dict)]


def indexed_documents(site: Site) -> tuple[Document, ...]:
    """Every article and page this build publishes (drafts and future articles are not in `site`)."""
    return (*site.articles, *site.pages)


def index_files(site: Site, config: SiteConfig, body_of: Callable[[Document], str],
                cache_folder: Path) -> tuple[tuple[str, Path], ...]:
    """The index's files as (output file, file in the cache), made by Pagefind only when what the index
    holds changed since the index kept in the cache folder was made. Records are made twice rather than kept:
    once for the digest, once more only when Pagefind must read them (the site's text is never all in
    memory, as for rendering)."""
    if not config.search:
        return ()
    documents = indexed_documents(site)
    records = partial(_records, documents, config, body_of)
    root = cache_folder / CACHE_FOLDER
    folder = root / index_digest(records(), config.language)
    if not _complete(folder):
        root.mkdir(parents=True, exist_ok=True)
        write_index(records(), len(documents), config.language, root, folder)
    _forget_other_indexes(root, keep=folder)
    # Everything Pagefind writes is shipped: a theme may prefer Pagefind's own UI (pagefind-ui.js) to ours.
    return tuple((f"{INDEX_FOLDER}/{name}", folder / name) for name in _files_under(folder))


def index_digest(records: Iterable[tuple[str, str]], language: str) -> str:
    """What decides the index's bytes: every record, the settings Pagefind is given and its version. About
    0.1 s for 1,000 articles, where Pagefind takes seconds: an edit past a metered article's teaser, or a
    change to a template, leaves the index as it was."""
    digest = hashlib.sha1(repr((_pagefind_version(), language)).encode())
    for name, html in records:
        digest.update(f"\0{name}\0{html}".encode())
    return digest.hexdigest()[:20]


def _records(documents: tuple[Document, ...], config: SiteConfig,
             body_of: Callable[[Document], str]) -> Iterator[tuple[str, str]]:
    for document in documents:
        yield record_page(document, body_of(document), config)


def record_page(document: Document, body: str, config: SiteConfig) -> tuple[str, str]:
    """One document as the HTML page Pagefind reads: (file, HTML). Not the page readers get, whose
    theme could show anything: only the title, the summary and what meter.public_html lets leave the page.
    The file's place gives the result's URL (news/x/index.html -> /news/x/, without the base path, which
    the search script adds)."""
    meta = {"section": document.section if document.is_article else "",
            "date": document.date.date().isoformat() if document.is_article and document.date else "",
            "image": urls.link(config.base_path, document.image.url) if document.image else "",
            "image_alt": document.image.alt if document.image else ""}
    tags = "".join(f'<meta data-pagefind-meta="{key}[content]" content="{escape(value)}">\n'
                   for key, value in meta.items() if value)
    summary = f"<p>{escape(document.summary)}</p>\n" if document.summary else ""
    html = (f'<!doctype html>\n<html lang="{escape(config.language)}">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{escape(document.title)}</title>\n{tags}</head>\n<body>\n<main data-pagefind-body>\n"
            f'<h1 data-pagefind-meta="title">{escape(document.title)}</h1>\n{summary}'
            f"{meter.public_html(body, document, config.meter)}\n</main>\n</body>\n</html>\n")
    return urls.output_file(document.path), html


def write_index(records: Iterable[tuple[str, str]], count: int, language: str, root: Path, folder: Path) -> None:
    """Have Pagefind index the record pages into `folder`. Everything is made in a temporary folder beside
    it and renamed into place at the end, so a folder named by a digest is always a whole index."""
    work = Path(tempfile.mkdtemp(prefix=".new-", dir=root))
    try:
        pages = work / "records"
        pages.mkdir()  # a site with nothing published yet still gets an (empty) index
        for name, html in records:
            file = pages / name
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(html, encoding="utf-8")
        # In a thread of its own: asyncio.run() refuses a thread whose caller already runs an event loop
        # (an embedding application, a test driving a browser).
        import asyncio  # here: a build without search must not pay for importing them
        import concurrent.futures

        with concurrent.futures.ThreadPoolExecutor(1) as thread:
            counted = thread.submit(asyncio.run, _run_pagefind(pages, work / "index", language)).result()
        if counted != count:
            raise _failure(f"Pagefind indexed {counted} of {count} documents")
        os.replace(work / "index", folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)


async def _run_pagefind(pages: Path, out: Path, language: str) -> int:
    """One directory for Pagefind to read: its Python API answers one request per 0.1 s, so a record per
    request (add_custom_record) would cost 100 s on a 1,000-article site; one add_directory costs one."""
    try:
        from pagefind.index import PagefindIndex
    except ImportError:
        raise _failure("needs Pagefind: pip install 'pagefind[bin]'") from None
    try:
        # The index is written when the block ends (Pagefind's own rule: without an output_path it would
        # write a second copy into the working directory).
        async with PagefindIndex(config=_pagefind_settings(language, out)) as index:
            indexed = await index.add_directory(str(pages))
    except FileNotFoundError:  # the wrapper without its binary (pip install pagefind, without [bin])
        raise _failure("needs Pagefind's program: pip install 'pagefind[bin]'") from None
    except BuildFailed:
        raise
    except Exception as exc:  # the service reports its errors as plain Exceptions
        raise _failure(f"Pagefind could not index the site: {exc}") from None
    return int(indexed["page_count"])


def _pagefind_settings(language: str, out: Path) -> dict:
    # Every record is in the site's language, as its search page is.
    return {"force_language": language, "output_path": str(out)}


def _failure(message: str) -> BuildFailed:
    return BuildFailed([SourceError(CONFIG_FILE, 0, f"search: {message}")])


def _pagefind_version() -> str:
    import importlib.metadata  # here: only a site with search asks

    try:
        return importlib.metadata.version("pagefind")
    except importlib.metadata.PackageNotFoundError:
        return ""


def _complete(folder: Path) -> bool:
    """A folder renamed into place by write_index, with the files the search page loads first."""
    return (folder / "pagefind.js").is_file() and (folder / "pagefind-entry.json").is_file()


def _files_under(folder: Path) -> list[str]:
    return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file())


def _forget_other_indexes(root: Path, keep: Path) -> None:
    """Earlier indexes (the output holds copies of what it uses), and what a killed build left half made."""
    for entry in root.iterdir():
        if entry == keep:
            continue
        if entry.name.startswith(".new-") and time.time() - entry.stat().st_mtime < ABANDONED_SECONDS:
            continue  # perhaps another build's, under way
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
