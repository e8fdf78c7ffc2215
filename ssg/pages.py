"""Decide every page of the site: its output file, its template, what it shows and what the template sees.

The page plan is also the one list of the URLs the generator makes, from which collisions are found."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from functools import partial
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Iterator

from . import meter, urls
from .config import SiteConfig
from .errors import SourceError
from .folders import CONTENT_DIR, STATIC_DIR
from .assemble import author_of
from .model import Document, Group, Site
from .structured import article_jsonld

FEED_ENTRIES = 20
MAX_NAME_BYTES = 255  # the longest file name most file systems take
NEWS_SITEMAP_HOURS = 48
QUERY_ALIASES = "query-aliases.json"  # the output file and its template


@dataclass(frozen=True, slots=True)
class Page:
    """One output file to render: where it goes, with which template and what the template sees."""

    output: str                 # file path inside the output folder, e.g. news/vote/index.html
    template: str
    # Made on demand (a skipped page never pays for it); a page with a `document` is given that document,
    # body included, by render.render_page: bodies are read one page at a time, never all at once.
    context: Callable[..., dict[str, Any]]
    # Everything page-specific the output depends on (digests of the documents shown), or None to
    # always render. With the site digest and the templates it makes the page digest (see freshness).
    shows: str | None = None
    document: Document | None = None  # the article or standalone page this page shows in full
    owner: Document | None = None     # the document this file is made for (its page, or one of its aliases)
    recipe: Recipe | None = None      # for a page that carries bodies: how to make it again (page_again)


@dataclass(frozen=True, slots=True)
class Recipe:
    """How to make a page that carries documents' bodies (a document's own page, a feed) again from the
    documents it shows, without the rest of the site: what an incremental build stores (incremental.py).
    Documents are named by their path under content/."""

    carries: tuple[str, ...]      # the documents whose body the page shows: its document, a feed's entries
    lists: tuple[str, ...] = ()   # the documents it links to by their listing: an article's "More in"
    feed: tuple[str, str, str] = ()  # a feed's title, path and home page

    def to_json(self) -> str:
        return json.dumps([self.carries, self.lists, self.feed])

    @classmethod
    def from_json(cls, text: str) -> Recipe:
        """ValueError for anything to_json did not write."""
        carries, lists, feed = json.loads(text)
        if not all(type(value) is list and all(type(item) is str for item in value) for value in (carries, lists, feed)):
            raise ValueError("not a recipe")
        return cls(tuple(carries), tuple(lists), tuple(feed))


@dataclass(frozen=True, slots=True)
class SectionLink:
    name: str
    slug: str
    path: str


@dataclass(frozen=True, slots=True)
class PageLink:
    title: str
    path: str


@dataclass(frozen=True, slots=True)
class SiteNav:
    """What every template may know of the whole site. It is kept this small on purpose: each page's
    page digest covers it, so a theme cannot show data that an incremental build would leave stale."""

    sections: tuple[SectionLink, ...]
    pages: tuple[PageLink, ...]
    year: int
    query_aliases: bool = False  # the home and 404 pages load the script that follows old URLs like /?p=123


def site_nav(site: Site) -> SiteNav:
    return SiteNav(sections=tuple(SectionLink(g.name, g.slug, g.path) for g in site.sections),
                   pages=tuple(PageLink(d.title, d.path) for d in site.pages), year=site.built_at.year,
                   query_aliases=any("?" in alias for d in (*site.articles, *site.pages) for alias in d.aliases))


def _listed(documents) -> str:
    """What a page shows of documents it lists (see freshness: listing digest)."""
    return ",".join(d.listing for d in documents)


def _digests(documents) -> str:
    """What a page shows of documents whose body it carries (a feed)."""
    return ",".join(d.digest for d in documents)


@dataclass(frozen=True, slots=True)
class Pagination:
    number: int
    total: int
    items: tuple[Document, ...]
    first_path: str
    prev_path: str | None
    next_path: str | None


def paginate(items: tuple[Document, ...], per_page: int, base: str) -> list[Pagination]:
    total = max(1, math.ceil(len(items) / per_page))
    return [Pagination(number=n, total=total, items=items[(n - 1) * per_page:n * per_page], first_path=base,
                       prev_path=urls.paginated(base, n - 1) if n > 1 else None,
                       next_path=urls.paginated(base, n + 1) if n < total else None)
            for n in range(1, total + 1)]


def page_head(config: SiteConfig, path: str, title: str, kind: str, description: str = "",
         image: str | None = None, noindex: bool = False) -> dict[str, Any]:
    """What the <head> of every page needs: canonical URL, Open Graph and Twitter card fields."""
    full_title = config.title if kind == "home" and title == config.title else f"{title} | {config.title}"
    if image and image.startswith("/"):
        image = urls.absolute(config.base_url, urls.link(config.base_path, image))
    return {"title": title, "full_title": full_title, "path": path, "kind": kind,
            "canonical": urls.absolute(config.base_url, urls.link(config.base_path, path)),
            "description": description or config.description, "image": image, "noindex": noindex,
            "og_type": "article" if kind == "article" else "website"}


def site_pages(site: Site, config: SiteConfig) -> Iterator[Page]:
    """Every HTML, XML and text file of the site, in a fixed order. Contexts are made only for the
    pages that are rendered: most of a cached build's pages are skipped by their digest alone."""
    for pagination in paginate(site.articles, config.paginate, "/"):
        path = urls.paginated("/", pagination.number)
        title = config.title if pagination.number == 1 else f"{config.title}, page {pagination.number}"
        yield Page(urls.output_file(path), "list.html", partial(list_context, config, path, title, "home", None, pagination),
                   shows=f"home|{pagination.number}|{pagination.total}|{_listed(pagination.items)}")
    for article in site.articles:
        yield document_page(article, site, config)
    for document in site.pages:
        yield document_page(document, site, config)
    for group in (*site.sections, *site.tags, *site.by_author):
        yield from group_pages(group, config)
    yield from feeds(site, config)
    yield from sitemaps(site, config)
    yield Page("404.html", "404.html", partial(dict, page=page_head(config, "/404.html", "Page not found", "404", noindex=True)),
               shows="404")
    yield from account_pages(config)
    for document in (*site.articles, *site.pages):
        for alias in document.aliases:
            if "?" in alias:
                continue  # in query-aliases.json, below
            yield Page(urls.output_file(alias), "redirect.html",
                       partial(dict, page=page_head(config, document.path, document.title, "redirect", noindex=True),
                               target=document), shows=f"redirect|{alias}|{document.listing}", owner=document)
    yield from query_alias_map(site, config)


def query_alias_map(site: Site, config: SiteConfig) -> Iterator[Page]:
    """Old URLs with a query (/?p=123) land on the home page, or on the 404 page where the site has no page at
    their path (/index.php?p=123): static hosts ignore the query. Those two pages load a small script that
    looks the URL up in this map ({"/?p=123": "/news/vote/"}, links under the base path) and goes on."""
    targets = {}
    for document in (*site.articles, *site.pages):
        for alias in document.aliases:
            if found := urls.query_alias(alias):
                path, query = found
                targets[f"{urls.link(config.base_path, path)}?{query}"] = urls.link(config.base_path, document.path)
    if targets:
        shows = hashlib.sha1(repr(sorted(targets.items())).encode()).hexdigest()
        yield Page(QUERY_ALIASES, QUERY_ALIASES, partial(dict, targets=targets), shows=f"query-aliases|{shows}")


def account_pages(config: SiteConfig) -> Iterator[Page]:
    """Where the sign-in service sends readers with their token, and where they sign out (only when
    readers can sign in: site.yaml has `access:` and a meter)."""
    if config.access is None or config.meter is None:
        return
    for path, title, signout in ((meter.ACCOUNT_PATH, "Your account", False), (meter.SIGNOUT_PATH, "Signing out", True)):
        yield Page(urls.output_file(path), "account.html",
                   partial(dict, page=page_head(config, path, title, "account", noindex=True),
                           access_settings=meter.account_settings(config, signout)), shows=f"account|{signout}")


def document_page(document: Document, site: Site, config: SiteConfig) -> Page:
    """The page of one article or standalone page."""
    return own_page(document, site.related.get(document.path, ()), config)


def own_page(document: Document, related: tuple[Document, ...], config: SiteConfig) -> Page:
    recipe = Recipe((document.relative,), tuple(d.relative for d in related))
    if not document.is_article:
        return Page(urls.output_file(document.path), f"{document.layout}.html",
                    partial(page_context, config=config), shows=f"page|{document.digest}", document=document,
                    owner=document, recipe=recipe)
    return Page(urls.output_file(document.path), f"{document.layout}.html",
                partial(article_context, related=related, config=config),
                shows=f"article|{document.digest}|{_listed(related)}", document=document, owner=document,
                recipe=recipe)


def page_again(recipe: Recipe, documents: dict[str, Document], config: SiteConfig, built_at: datetime) -> Page:
    """The page a recipe describes, from the documents it names (KeyError if one is missing)."""
    if recipe.feed:
        title, path, home = recipe.feed
        return feed_page(home, path.rpartition("/")[2], title, tuple(documents[r] for r in recipe.carries), built_at)
    return own_page(documents[recipe.carries[0]], tuple(documents[r] for r in recipe.lists), config)


def list_context(config: SiteConfig, path: str, title: str, kind: str, group: Group | None,
                 pagination: Pagination, description: str = "") -> dict[str, Any]:
    # A list page shows its own items only, never the whole group, so `shows` can name just those.
    return {"page": page_head(config, path, title, kind, description), "pagination": pagination,
            "group": dataclasses.replace(group, articles=()) if group else None}


def page_context(document: Document, config: SiteConfig) -> dict[str, Any]:
    return {"page": page_head(config, document.path, document.title, "page", document.summary,
                         document.image.url if document.image else None), "document": document}


def article_context(article: Document, related: tuple[Document, ...], config: SiteConfig) -> dict[str, Any]:
    metered = meter.is_metered(article, config.meter)
    page = page_head(config, article.path, article.title, "article", article.summary,
                article.image.url if article.image else None)
    return {
        "page": page,
        "article": article,
        "related": related,
        "authors": [author_of(name, config) for name in article.authors],
        "jsonld": article_jsonld(article, config, page["canonical"], page["image"], metered),
        "meter_settings": meter.script_settings(article, config) if metered else None,
        "wall_links": meter.wall_links(article, config) if metered else None,
    }


def group_pages(group: Group, config: SiteConfig) -> Iterator[Page]:
    label = {"section": group.name, "tag": f"Tagged \u201c{group.name}\u201d", "author": group.name}[group.kind]
    description = group.author.bio if group.author else ""
    group_shows = f"{group.kind}|{group.slug}|{group.name}|{group.author!r}"
    for pagination in paginate(group.articles, config.paginate, group.path):
        path = urls.paginated(group.path, pagination.number)
        title = label if pagination.number == 1 else f"{label}, page {pagination.number}"
        yield Page(urls.output_file(path), "list.html",
                   partial(list_context, config, path, title, group.kind, group, pagination, description),
                   shows=f"{group_shows}|{pagination.number}|{pagination.total}|{_listed(pagination.items)}")


FEED_FILES = ("feed.xml", "feed.json")  # Atom and JSON Feed 1.1, each its own template of the same name


def feeds(site: Site, config: SiteConfig) -> Iterator[Page]:
    """The site's feeds and those of every section, tag and author (/tags/x/feed.xml beside
    /tags/x/index.html), each in both formats, of the newest FEED_ENTRIES articles."""
    yield from _feeds("/", config.title, site.articles, site)
    for group in (*site.sections, *site.tags, *site.by_author):
        yield from _feeds(group.path, f"{group.name} | {config.title}", group.articles, site)


def _feeds(home: str, title: str, articles: tuple[Document, ...], site: Site) -> Iterator[Page]:
    for name in FEED_FILES:
        yield feed_page(home, name, title, articles[:FEED_ENTRIES], site.built_at)


def feed_page(home: str, name: str, title: str, entries: tuple[Document, ...], built_at: datetime) -> Page:
    path = home + name
    updated = max((a.lastmod for a in entries), default=built_at)
    context = partial(dict, feed={"title": title, "path": path, "home": home, "entries": entries, "updated": updated})
    if not entries:  # an empty feed shows the build time, so it is always rendered (shows=None)
        return Page(path.lstrip("/"), name, context)
    return Page(path.lstrip("/"), name, context, shows=f"feed|{path}|{title}|{_digests(entries)}",
                recipe=Recipe(tuple(d.relative for d in entries), feed=(title, path, home)))


def sitemaps(site: Site, config: SiteConfig) -> Iterator[Page]:
    entries: list[tuple[str, datetime | None]] = []
    per_page = config.paginate
    for base, articles in (("/", site.articles),
                           *((group.path, group.articles) for group in (*site.sections, *site.tags, *site.by_author))):
        for start in range(0, max(1, len(articles)), per_page):
            entries.append((urls.paginated(base, start // per_page + 1), _newest(articles[start:start + per_page])))
        if base == "/":
            entries += [(a.path, a.lastmod) for a in site.articles]
            entries += [(p.path, p.lastmod) for p in site.pages]
    # `shows` names each entry's time as a number: formatting 10,000 datetimes costs more than the rest.
    listing = "".join(f"{path}|{lastmod.timestamp() if lastmod else ''}\n" for path, lastmod in entries)
    yield Page("sitemap.xml", "sitemap.xml", partial(dict, entries=entries),
               shows="sitemap|" + hashlib.sha1(listing.encode()).hexdigest())
    since = site.built_at - timedelta(hours=NEWS_SITEMAP_HOURS)
    recent = [a for a in site.articles if a.date >= since]
    yield Page("news-sitemap.xml", "news-sitemap.xml", partial(dict, articles=recent),
               shows=f"news-sitemap|{_listed(recent)}")
    yield Page("robots.txt", "robots.txt", partial(dict), shows="robots")


def _newest(articles: tuple[Document, ...]) -> datetime | None:
    return max((a.lastmod for a in articles), default=None)




def find_collisions(pages: list[Page], copied: tuple[tuple[str, str], ...],
                    static: tuple[str, ...] = ()) -> list[SourceError]:
    """Two inputs must never claim one output file (last writer wins would lose one silently), nor a file
    where another needs a folder (/robots.txt/ beside robots.txt). `copied` is (content path, URL path) of
    the files copied from content/, `static` the files of static/. Each error names both claimants, with
    their lines."""
    owners: dict[str, Document | str | None] = {}
    claims = [(page.output, page.owner) for page in pages]
    claims += [(url.lstrip("/"), f"{CONTENT_DIR}/{name}") for name, url in copied]
    claims += [(name, f"{STATIC_DIR}/{name}") for name in static]
    errors = []
    for output, owner in claims:
        if output in owners:
            errors += _collision(output, owner, owners[output])
        else:
            owners[output] = owner
    for output, owner in owners.items():
        if len(output) > MAX_NAME_BYTES // 4 and any(len(part.encode()) > MAX_NAME_BYTES for part in output.split("/")):
            path, line = _where(owner)
            errors.append(SourceError(path, line, f"URL {urls.url_path(output)} needs a file or folder name longer "
                                                  f"than {MAX_NAME_BYTES} bytes, more than file systems allow; "
                                                  "choose a shorter 'slug', tag or name"))
        folder = output.rpartition("/")[0]
        while folder:
            if folder in owners:
                errors += _collision(urls.url_path(folder) + "/", owner, owners[folder])
            folder = folder.rpartition("/")[0]
    return errors


def _where(owner: Document | str | None) -> tuple[str, int]:
    if isinstance(owner, Document):
        return owner.source, owner.source_line
    return (owner, 0) if owner else (CONTENT_DIR, 0)  # a file copied as it is; a tag or author page


def _collision(output: str, owner: Document | str | None, other: Document | str | None) -> list[SourceError]:
    url = output if output.startswith("/") else urls.url_path(output)
    if owner is None:  # the generator's own page comes first in the plan; blame the input
        owner, other = other, owner
    if owner is None:
        return []
    path, line = _where(owner)
    if other is None and isinstance(owner, str) and owner.startswith(STATIC_DIR + "/"):
        return [SourceError(path, line, f"URL {url} is a file the generator makes from the theme's template of "
                                        "that name: override the template in the site's theme instead")]
    if other is None:
        return [SourceError(path, line, f"URL {url} is reserved for a page the generator makes; choose another "
                                        "'slug' or alias")]
    where = f"{other.source}:{other.source_line}" if isinstance(other, Document) else other
    return [SourceError(path, line, f"URL {url} is also produced by {where}; give one of them a different "
                                    "'slug' or 'aliases'")]
