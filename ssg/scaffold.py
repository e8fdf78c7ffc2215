"""`ssg new` and `ssg init`: write a skeleton article, or a whole new site that builds as it is."""
from __future__ import annotations

import unicodedata
from datetime import datetime
from pathlib import Path

from . import urls
from .config import SiteConfig
from .errors import SourceError, SsgError
from .safe_yaml import shown

MAX_NAME_BYTES = 255  # the longest file or folder name most file systems allow
# Characters that end a line or that YAML refuses outright: a title or section holding one is a mistake.
NOT_IN_A_LINE = ("Cc", "Cs", "Zl", "Zp")


def new_article(site_dir: Path, config: SiteConfig, title: str, section: str, now: datetime) -> Path:
    """Write content/<section>/<slug>.md dated now in the site's time zone; never overwrite."""
    content = site_dir / "content"
    path = content / _name_from(content, "section", section) / f"{_name_from(content, 'title', title, '.md')}.md"
    local = now.astimezone(config.tzinfo)
    author = next(iter(config.authors), "")  # the first newsroom author; the writer changes it
    text = ("---\n"
            f"title: {_quote(title)}\n"
            f"date: {local:%Y-%m-%d %H:%M}\n"
            f"section: {_quote(section)}\n"
            f"author: {_quote(author) if author else ''}\n"
            "tags: []\n"
            "summary: \"\"\n"
            "draft: true\n"
            "---\n\n"
            "Write the first paragraph here.\n")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "x", encoding="utf-8") as file:  # "x": never overwrite, even a file made just now
            file.write(text)
    except FileExistsError:
        raise SsgError(SourceError(str(path), 0, "already exists; choose another title")) from None
    except OSError as exc:
        raise SsgError(SourceError(str(path), 0, f"cannot write the article: {exc.strerror}")) from None
    return path


def _name_from(content: Path, what: str, text: str, suffix: str = "") -> str:
    """The file or folder name a title or section makes, or an error saying why it makes none."""
    if any(unicodedata.category(c) in NOT_IN_A_LINE for c in text):
        raise SsgError(SourceError(str(content), 0, f"the {what} must be one line of text, got {shown(text)}"))
    name = urls.slugify(text)
    if not name:
        raise SsgError(SourceError(str(content), 0, f"the {what} {shown(text)} needs a letter or digit "
                                                    "to make a file name"))
    if len((name + suffix).encode("utf-8")) > MAX_NAME_BYTES:
        raise SsgError(SourceError(str(content), 0, f"the {what} is too long to make a file name "
                                                    f"({MAX_NAME_BYTES} bytes at most): shorten it"))
    return name


def _quote(text: str) -> str:
    """A YAML double-quoted scalar that reads back as `text`, whatever characters it holds."""
    def escape(c: str) -> str:
        if c in '\\"':
            return "\\" + c
        if unicodedata.category(c) in NOT_IN_A_LINE or c in "\ufeff\ufffe\uffff":  # YAML would refuse or fold it
            return f"\\u{ord(c):04x}"
        return c
    return '"' + "".join(map(escape, text)) + '"'


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


PUBLISH_WORKFLOW = ".github/workflows/publish.yml"
# GitHub Pages: build on every push to main and every hour (so that an article dated in the future appears
# within the hour of its time), keeping the build cache between runs. Written by `ssg init`, tested in
# tests/test_hosting.py. `${{ }}` are GitHub's expressions, written as they are (this is no format string).
PUBLISH_YML = """\
# Publishes the site on GitHub Pages. In the repository's Settings > Pages, set Source to "GitHub Actions",
# and set base_url in site.yaml to the address Pages gives (https://USER.github.io/REPO/) or your own domain.
name: Publish

on:
  push:
    branches: [main]
  schedule:
    # Every hour, so that an article dated in the future comes out within the hour of its time.
    # `ssg build --next-change FILE` writes when the next scheduled article appears, for a finer schedule.
    - cron: "17 * * * *"
  workflow_dispatch:

permissions:
  contents: read
  pages: write
  id-token: write

concurrency:
  group: pages
  cancel-in-progress: false

jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: Install ssg
        run: |
          python -m venv .venv
          .venv/bin/pip install "ssg-news"  # or the path/URL you install ssg from
      # The build cache: parsed articles and what the last build wrote. Saved under this commit, restored
      # from the newest earlier one; a cache that cannot be used is only a slower build, never a wrong one.
      - uses: actions/cache@v4
        with:
          path: .ssg-cache
          key: ssg-cache-${{ github.sha }}
          restore-keys: |
            ssg-cache-
      - name: Build
        run: .venv/bin/ssg build --site . --out _site --format github
      - uses: actions/upload-pages-artifact@v3
        with:
          path: _site

  deploy:
    needs: build
    runs-on: ubuntu-latest
    environment:
      name: github-pages
      url: ${{ steps.deployment.outputs.page_url }}
    steps:
      - id: deployment
        uses: actions/deploy-pages@v4
"""


def init_site(target: Path, now: datetime) -> None:
    if (target / "site.yaml").exists():
        raise SsgError(SourceError(str(target / "site.yaml"), 0, "a site already exists here"))
    files = {"site.yaml": SITE_YAML.format(title=_quote(_title_from(target))),
             "content/news/welcome.md": FIRST_ARTICLE.format(date=f"{now:%Y-%m-%d %H:%M}"),
             **{f"content/pages/{name}": text for name, text in PAGES.items()},
             ".gitignore": "_site/\n.ssg-cache/\n.venv/\n",
             PUBLISH_WORKFLOW: PUBLISH_YML}
    try:
        for name, text in files.items():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            (target / name).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise SsgError(SourceError(str(target), 0, f"cannot write the new site here: {exc.strerror}")) from None


def _title_from(target: Path) -> str:
    """"evening-post" -> "Evening Post"; a name the file system holds as undecodable bytes keeps what it can."""
    name = target.resolve().name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    name = "".join(c if c.isprintable() else " " for c in name.replace("-", " "))
    return " ".join(name.split()).title() or "My Publication"
