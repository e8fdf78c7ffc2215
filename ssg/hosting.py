"""The files static hosts read beside the site: `_headers` and `_redirects`, in the format Netlify and Cloudflare
Pages share. Other hosts serve them as plain files: there the redirect pages and the query-alias script do the work."""
from __future__ import annotations

import hashlib
from functools import partial
from typing import Iterator

from . import urls
from .config import SiteConfig
from .model import Site
from .pages import Page

HEADERS = "_headers"      # the output file and its template
REDIRECTS = "_redirects"  # the output file and its template


def host_files(site: Site, config: SiteConfig) -> Iterator[Page]:
    """`_headers` (the security policy and cache lifetimes, from its template alone) and `_redirects` (a 301 for
    every old URL a host can match). Both are templates so that a theme can change them, e.g. a font host in the
    policy."""
    yield Page(HEADERS, HEADERS, partial(dict), shows=f"headers|{config.base_path}")
    moves = redirects(site, config)
    digest = hashlib.sha1(repr(moves).encode()).hexdigest()
    yield Page(REDIRECTS, REDIRECTS, partial(dict, redirects=moves), shows=f"redirects|{digest}")


def redirects(site: Site, config: SiteConfig) -> tuple[tuple[str, str], ...]:
    """(old path, new path) of every alias, sorted, under the base path and percent-encoded as a browser sends
    them (hosts compare the request's path with the rule's, byte for byte).

    Left out: aliases with a query (/?p=123), which only Netlify can match (Cloudflare refuses a line with a query
    condition), so query-aliases.json and its script serve them on every host; and aliases with `*` or a `:name`
    segment, which both hosts would read as a pattern matching other URLs (their redirect pages still work)."""
    moves = set()
    for document in (*site.articles, *site.pages):
        for alias in document.aliases:
            if "?" in alias or "#" in alias or "*" in alias or "/:" in alias:
                continue
            moves.add((_encoded(config.base_path, alias), _encoded(config.base_path, document.path)))
    return tuple(sorted(moves))


def _encoded(base_path: str, path: str) -> str:
    return urls.encoded(urls.link(base_path, path))
