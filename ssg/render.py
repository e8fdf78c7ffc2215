"""Decide every page of the site (its file, template and context), then render it with Jinja."""
from __future__ import annotations

import dataclasses
import hashlib
import math
from functools import partial
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Iterator

from jinja2 import Environment
from markupsafe import escape

from . import meter, urls
from .config import SiteConfig
from .model import Document, Group, Site
from .structured import article_jsonld
from .theme import Theme

FEED_ENTRIES = 20
NEWS_SITEMAP_HOURS = 48


@dataclass(frozen=True, slots=True)
class Page:
    """One output file to render: where it goes, with which template and what the template sees."""

    output: str                 # file path inside the output folder, e.g. news/vote/index.html
    template: str
    context: Callable[[], dict[str, Any]]  # made on demand: a skipped page never pays for it
    # Everything page-specific the output depends on (digests of the documents shown), or None to
    # always render. With the site-wide inputs it decides whether a cached output is still current.
    key: str | None = None


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
    cache key covers it, so a theme cannot show data that an incremental build would leave stale."""

    sections: tuple[SectionLink, ...]
    pages: tuple[PageLink, ...]
    year: int


def site_nav(site: Site) -> SiteNav:
    return SiteNav(sections=tuple(SectionLink(g.name, g.slug, g.path) for g in site.sections),
                   pages=tuple(PageLink(d.title, d.path) for d in site.pages), year=site.built_at.year)


def _digests(documents) -> str:
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


def configure(env: Environment, config: SiteConfig, theme: Theme, nav: SiteNav,
              body_of: Callable[[Document], str]) -> None:
    """Filters and globals every template may use."""
    base_path = config.base_path
    env.filters["link"] = lambda path: urls.link(base_path, path) if path.startswith("/") else path
    env.filters["absolute"] = lambda path: urls.absolute(config.base_url, path) if path.startswith("/") else path
    env.filters["isodate"] = lambda when: when.isoformat(timespec="seconds")
    env.filters["humandate"] = lambda when: f"{when.day} {when:%B %Y}"
    env.filters["slugify"] = urls.slugify
    env.filters["feed_content"] = lambda document: feed_content(document, body_of(document), config)
    env.globals.update(
        config=config,
        site=nav,
        urls=urls,
        asset=lambda name: urls.link(base_path, "/" + theme.asset(name)),
        is_metered=lambda document: meter.is_metered(document, config.meter),
    )


def meta(config: SiteConfig, path: str, title: str, kind: str, description: str = "",
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
    pages that are rendered: most of a cached build's pages are skipped by their key alone."""
    for pagination in paginate(site.articles, config.paginate, "/"):
        path = urls.paginated("/", pagination.number)
        title = config.title if pagination.number == 1 else f"{config.title}, page {pagination.number}"
        yield Page(urls.output_file(path), "list.html", partial(list_context, config, path, title, "home", None, pagination),
                   key=f"home|{pagination.number}|{pagination.total}|{_digests(pagination.items)}")
    for article in site.articles:
        yield document_page(article, site, config)
    for document in site.pages:
        yield document_page(document, site, config)
    for group in (*site.sections, *site.tags, *site.by_author):
        yield from group_pages(group, config)
    yield from feeds(site, config)
    yield from sitemaps(site, config)
    yield Page("404.html", "404.html", partial(dict, page=meta(config, "/404.html", "Page not found", "404", noindex=True)),
               key="404")
    for document in (*site.articles, *site.pages):
        for alias in document.aliases:
            yield Page(urls.output_file(alias), "redirect.html",
                       partial(dict, page=meta(config, document.path, document.title, "redirect", noindex=True),
                               target=document), key=f"redirect|{alias}|{document.digest}")


def document_page(document: Document, site: Site, config: SiteConfig) -> Page:
    """The page of one article or standalone page."""
    if not document.is_article:
        return Page(urls.output_file(document.path), f"{document.layout}.html",
                    partial(page_context, document, config), key=f"page|{document.digest}")
    related = site.related.get(document.path, ())
    return Page(urls.output_file(document.path), f"{document.layout}.html",
                partial(article_context, document, related, site, config),
                key=f"article|{document.digest}|{_digests(related)}")


def list_context(config: SiteConfig, path: str, title: str, kind: str, group: Group | None,
                 pagination: Pagination, description: str = "") -> dict[str, Any]:
    # A list page shows its own items only, never the whole group, so its key can name just those.
    return {"page": meta(config, path, title, kind, description), "pagination": pagination,
            "group": dataclasses.replace(group, articles=()) if group else None}


def page_context(document: Document, config: SiteConfig) -> dict[str, Any]:
    return {"page": meta(config, document.path, document.title, "page", document.summary,
                         document.image.url if document.image else None), "document": document}


def article_context(article: Document, related: tuple[Document, ...], site: Site, config: SiteConfig) -> dict[str, Any]:
    metered = meter.is_metered(article, config.meter)
    page = meta(config, article.path, article.title, "article", article.summary,
                article.image.url if article.image else None)
    return {
        "page": page,
        "article": article,
        "related": related,
        "authors": [site.authors[name] for name in article.authors],
        "jsonld": article_jsonld(article, config, page["canonical"], page["image"], metered),
        "meter_settings": meter.script_settings(article, config) if metered else None,
    }


def group_pages(group: Group, config: SiteConfig) -> Iterator[Page]:
    label = {"section": group.name, "tag": f"Tagged \u201c{group.name}\u201d", "author": group.name}[group.kind]
    description = group.author.bio if group.author else ""
    key = f"{group.kind}|{group.slug}|{group.name}|{group.author!r}"
    for pagination in paginate(group.articles, config.paginate, group.path):
        path = urls.paginated(group.path, pagination.number)
        title = label if pagination.number == 1 else f"{label}, page {pagination.number}"
        yield Page(urls.output_file(path), "list.html",
                   partial(list_context, config, path, title, group.kind, group, pagination, description),
                   key=f"{key}|{pagination.number}|{pagination.total}|{_digests(pagination.items)}")


def feeds(site: Site, config: SiteConfig) -> Iterator[Page]:
    """Atom feeds: the site's and one per section."""
    yield _feed("/feed.xml", config.title, "/", site.articles, site)
    for section in site.sections:
        yield _feed(f"{section.path}feed.xml", f"{section.name} | {config.title}", section.path,
                    section.articles, site)


def _feed(path: str, title: str, home: str, articles: tuple[Document, ...], site: Site) -> Page:
    entries = articles[:FEED_ENTRIES]
    updated = max((a.lastmod for a in entries), default=site.built_at)
    return Page(path.lstrip("/"), "feed.xml", partial(dict, feed={"title": title, "path": path, "home": home,
                                                                 "entries": entries, "updated": updated}),
                key=f"feed|{path}|{title}|{_digests(entries)}" if entries else None)


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
    # The key names each entry's time as a number: formatting 10,000 datetimes costs more than the rest.
    listing = "".join(f"{path}|{lastmod.timestamp() if lastmod else ''}\n" for path, lastmod in entries)
    yield Page("sitemap.xml", "sitemap.xml", partial(dict, entries=entries),
               key="sitemap|" + hashlib.sha1(listing.encode()).hexdigest())
    since = site.built_at - timedelta(hours=NEWS_SITEMAP_HOURS)
    recent = [a for a in site.articles if a.date >= since]
    yield Page("news-sitemap.xml", "news-sitemap.xml", partial(dict, articles=recent),
               key=f"news-sitemap|{_digests(recent)}")
    yield Page("robots.txt", "robots.txt", partial(dict), key="robots")


def _newest(articles: tuple[Document, ...]) -> datetime | None:
    return max((a.lastmod for a in articles), default=None)


def feed_content(document: Document, body: str, config: SiteConfig) -> str:
    """The HTML a feed reader gets: lead image and the public part of the body (never a metered article's rest)."""
    html = meter.public_html(body, document, config.meter)
    if document.image:
        src = document.image.url
        if src.startswith("/"):
            src = urls.absolute(config.base_url, urls.link(config.base_path, src))
        html = f'<p><img src="{escape(src)}" alt="{escape(document.image.alt)}"></p>\n' + html
    if meter.is_metered(document, config.meter):
        href = urls.absolute(config.base_url, urls.link(config.base_path, document.path))
        html += f'\n<p><a href="{escape(href)}">Continue reading</a></p>'
    return html


def render_page(page: Page, env: Environment, body_of: Callable[[Document], str]) -> bytes:
    """Render one page; bodies are fetched only now, so the whole site's HTML is never in memory at once."""
    context = page.context()
    for name in ("article", "document"):
        if name in context and not context[name].body:
            context = {**context, name: dataclasses.replace(context[name], body=body_of(context[name]))}
    return env.get_template(page.template).render(context).encode("utf-8")
