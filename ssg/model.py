"""The site as data: parsed documents and the groups built from them. No I/O here."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Image:
    url: str          # site path (/news/x/lead.jpg) or an absolute http(s) URL
    alt: str
    caption: str = ""
    credit: str = ""
    width: int | None = None
    height: int | None = None
    # Resized copies (images.py) as (site path, width), narrowest first: in the image's own format, and WebP
    # (empty when the image is WebP already). Both empty: the image is shown as it is.
    srcset: tuple[tuple[str, int], ...] = ()
    webp: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Document:
    """One Markdown file after parsing: an article or a standalone page."""

    source: str                 # path as the user knows it, e.g. content/news/vote.md
    relative: str               # the same path inside content/: news/vote.md
    kind: str                   # "article" or "page"
    layout: str                 # template name without ".html"
    title: str
    date: datetime | None       # aware, in the site's time zone
    updated: datetime | None
    authors: tuple[str, ...]
    section: str
    section_slug: str
    tags: tuple[str, ...]
    summary: str
    image: Image | None
    slug: str
    path: str                   # URL path inside the site: /news/vote/
    aliases: tuple[str, ...]
    draft: bool
    access: str                 # metered, free, registered or subscribers; the site's meter has the last word
    body: str                   # rendered HTML
    toc: str
    params: dict[str, Any]
    assets: tuple[tuple[str, str], ...]  # (file under content/, output path) copied with this document
    digest: str                 # hash of the source bytes and everything that shaped this result
    source_line: int = 1        # line of the title, for errors about the whole document
    made_images: tuple[str, ...] = ()  # output files of its images' resized copies, made in the cache folder
    listing: str = ""           # listing digest: of everything but the body and its table of contents (freshness)

    @property
    def is_article(self) -> bool:
        return self.kind == "article"

    @property
    def lastmod(self) -> datetime | None:
        return self.updated or self.date


@dataclass(frozen=True, slots=True)
class Author:
    name: str
    slug: str
    bio: str
    url: str                    # the author's own link from site.yaml, may be ""
    path: str                   # the author's page in this site


@dataclass(frozen=True, slots=True)
class Group:
    """Articles that share a section, a tag or an author, newest first."""

    kind: str                   # "section", "tag" or "author"
    name: str
    slug: str
    path: str
    articles: tuple[Document, ...]
    author: Author | None = None


@dataclass(frozen=True, slots=True)
class Site:
    """Everything the templates may show, assembled once per build."""

    articles: tuple[Document, ...]            # published, newest first
    pages: tuple[Document, ...]
    sections: tuple[Group, ...]               # in navigation order
    tags: tuple[Group, ...]
    by_author: tuple[Group, ...]
    authors: dict[str, Author]
    related: dict[str, tuple[Document, ...]]  # article path -> "More in {section}" articles
    assets: tuple[tuple[str, str], ...]       # (file under content/, output path)
    built_at: datetime
    static: tuple[str, ...] = ()              # files under static/, copied to the same path under the output root
