"""From parsed documents to a Site: leave out drafts and future articles, sort, group, find neighbours."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from . import urls
from .config import SiteConfig
from .model import Author, Document, Group, Site
from .sources import Sources, bundle_of

RELATED_EACH_SIDE = 2  # "More in {section}": two newer and two older neighbours


def is_published(document: Document, now: datetime, drafts: bool, future: bool) -> bool:
    if document.draft and not drafts:
        return False
    return future or not document.is_article or document.date is None or document.date <= now


def assemble_site(documents: list[Document], sources: Sources, config: SiteConfig, now: datetime,
                  drafts: bool = False, future: bool = False) -> Site:
    published = [d for d in documents if is_published(d, now, drafts, future)]
    articles = sorted((d for d in published if d.is_article), key=lambda d: (-d.date.timestamp(), d.path))
    pages = sorted((d for d in published if not d.is_article), key=lambda d: d.path)

    sections = _group(articles, "section", lambda d: [(d.section_slug, d.section)], urls.section_path)
    order = {urls.slugify(name): index for index, name in enumerate(config.sections)}
    sections = sorted(sections, key=lambda g: (order.get(g.slug, len(order)), g.name.lower()))
    tags = sorted(_group(articles, "tag", lambda d: [(urls.slugify(t), t) for t in d.tags], urls.tag_path),
                  key=lambda g: g.slug)

    names = list(dict.fromkeys(name for d in articles for name in d.authors))
    authors = {name: author_of(name, config) for name in names}
    by_author = _group(articles, "author", lambda d: [(urls.slugify(n), n) for n in d.authors], urls.author_path)
    by_author = tuple(Group(g.kind, g.name, g.slug, g.path, g.articles, authors[g.name]) for g in by_author)

    related = {}
    for section in sections:
        for index, article in enumerate(section.articles):
            lo = max(0, index - RELATED_EACH_SIDE)
            related[article.path] = section.articles[lo:index] + section.articles[index + 1:index + 1 + RELATED_EACH_SIDE]

    document_names = frozenset(sources.documents)
    copied = [(name, "/" + name) for name in sources.assets if not bundle_of(name, document_names)]
    copied += [asset for d in published for asset in d.assets]

    return Site(articles=tuple(articles), pages=tuple(pages), sections=tuple(sections), tags=tuple(tags),
                by_author=by_author, authors=authors, related=related, assets=tuple(sorted(copied)), built_at=now,
                static=sources.static)


def author_of(name: str, config: SiteConfig) -> Author:
    info = config.authors.get(name)
    slug = urls.slugify(name)
    return Author(name=name, slug=slug, bio=info.bio if info else "", url=info.url if info else "",
                  path=urls.author_path(slug))


def _group(articles, kind, keys_of, path_of) -> list[Group]:
    members: dict[str, list[Document]] = defaultdict(list)
    display: dict[str, str] = {}
    for article in articles:
        for slug, name in dict(keys_of(article)).items():
            members[slug].append(article)
            display.setdefault(slug, name)
    return [Group(kind, display[slug], slug, path_of(slug), tuple(items)) for slug, items in members.items()]
