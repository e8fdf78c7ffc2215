"""Schema.org JSON-LD for article pages, as search engines read it (paywall markup included)."""
from __future__ import annotations

from typing import Any

from . import urls
from .config import SiteConfig
from .model import Document

# Search engines read only class selectors here, so the body container carries this class beside
# the data-meter-body attribute the script uses.
METER_BODY_SELECTOR = ".article-body"


def article_jsonld(article: Document, config: SiteConfig, canonical: str, image: str | None,
                   metered: bool) -> dict[str, Any]:
    def author_url(name: str) -> str:
        return urls.absolute(config.base_url, urls.link(config.base_path, urls.author_path(urls.slugify(name))))

    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article.title,
        "mainEntityOfPage": canonical,
        "url": canonical,
        "datePublished": article.date.isoformat(timespec="seconds"),
        "dateModified": article.lastmod.isoformat(timespec="seconds"),
        "author": [{"@type": "Person", "name": name, "url": author_url(name)} for name in article.authors],
        "publisher": {"@type": "Organization", "name": config.title, "url": config.base_url},
        "articleSection": article.section,
        "isAccessibleForFree": not metered,
    }
    if article.summary:
        data["description"] = article.summary
    if image:
        data["image"] = [image]
    if article.tags:
        data["keywords"] = list(article.tags)
    if metered:
        data["hasPart"] = {"@type": "WebPageElement", "isAccessibleForFree": False,
                           "cssSelector": METER_BODY_SELECTOR}
    return data
