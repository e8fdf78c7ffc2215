"""`ssg new` and `ssg init`: write a skeleton article, or a whole new site that builds as it is."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from . import urls
from .config import SiteConfig
from .errors import SourceError, SsgError


def new_article(site_dir: Path, config: SiteConfig, title: str, section: str, now: datetime) -> Path:
    """Write content/<section>/<slug>.md dated now in the site's time zone; never overwrite."""
    slug = urls.slugify(title) or "untitled"
    path = site_dir / "content" / urls.slugify(section) / f"{slug}.md"
    if path.exists():
        raise SsgError(SourceError(str(path), 0, "already exists; choose another title"))
    local = now.astimezone(config.tzinfo)
    author = next(iter(config.authors), "")  # the first newsroom author; the writer changes it
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "---\n"
        f"title: {_quote(title)}\n"
        f"date: {local:%Y-%m-%d %H:%M}\n"
        f"section: {_quote(section)}\n"
        f"author: {_quote(author) if author else ''}\n"
        "tags: []\n"
        "summary: \"\"\n"
        "draft: true\n"
        "---\n\n"
        "Write the first paragraph here.\n",
        encoding="utf-8")
    return path


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


SITE_YAML = """\
title: {title}
base_url: https://example.org/
language: en
theme: default
timezone: UTC
paginate: 10
description: A new publication.

authors:
  Editor:
    bio: Edits this publication.

meter:
  limit: 5
  window_days: 30
  teaser_paragraphs: 2
  signin_url: /signin/
  subscribe_url: /subscribe/
"""

FIRST_ARTICLE = """\
---
title: "Welcome to the new site"
date: {date}
author: Editor
section: News
tags: [announcements]
summary: "The first article of a new publication."
---

This is the first article. Edit it in content/news/welcome.md, or write a new one with
`ssg new "Headline"`.

Articles are Markdown with a few lines of settings at the top. The first two paragraphs
are the teaser that readers see when their free articles are used up.

## What next

Run `ssg serve` and keep the browser beside your editor: every save shows up at once.
"""

PAGES = {
    "about.md": "---\ntitle: About\nsummary: Who we are.\n---\n\nTell readers who you are.\n",
    "subscribe.md": "---\ntitle: Subscribe\nsummary: Support our journalism.\n---\n\nHow to subscribe.\n",
    "signin.md": "---\ntitle: Sign in\nsummary: Sign in to read on.\n---\n\nSign in here.\n",
}


def init_site(target: Path, now: datetime) -> None:
    if (target / "site.yaml").exists():
        raise SsgError(SourceError(str(target / "site.yaml"), 0, "a site already exists here"))
    (target / "content" / "news").mkdir(parents=True, exist_ok=True)
    (target / "content" / "pages").mkdir(parents=True, exist_ok=True)
    (target / "site.yaml").write_text(SITE_YAML.format(title=target.resolve().name.replace("-", " ").title()
                                                       or "My Publication"), encoding="utf-8")
    (target / "content" / "news" / "welcome.md").write_text(
        FIRST_ARTICLE.format(date=f"{now:%Y-%m-%d %H:%M}"), encoding="utf-8")
    for name, text in PAGES.items():
        (target / "content" / "pages" / name).write_text(text, encoding="utf-8")
    (target / ".gitignore").write_text("_site/\n.ssg-cache/\n", encoding="utf-8")
