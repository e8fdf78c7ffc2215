"""Write an imported site: front matter in this generator's keys, aliases for old URLs, copied files, a report."""
from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

from .. import urls
from ..config import SiteConfig, load_config
from ..config_check import SettingsCheck
from ..errors import SourceError, SsgError
from ..folders import CONFIG_FILE, CONTENT_DIR, STATIC_DIR  # noqa: F401 (importers name files under STATIC_DIR)


@dataclass(frozen=True, slots=True)
class Note:
    """A point of an import that needs a human: printed as `path:line: message`, like a build error."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"


@dataclass(slots=True)
class Article:
    """One article or page as an importer read it, in this generator's terms.

    `relative` is the Markdown file to write under content/ ("news/my-slug.md" or "news/my-slug/index.md"
    for a page bundle). `section` and `slug` are always given, so the new URL is known without parsing.
    `old_url` is the path the article had on the old site (relative to that site's root, percent-escapes
    allowed, a query like "/?p=12" allowed); it becomes an alias when it differs from the new URL."""

    relative: str
    title: str
    body: str                                   # Markdown
    source: str                                 # where it came from, for notes: "export.xml:120"
    slug: str
    section: str = "News"
    date: datetime | None = None                # timezone-aware
    updated: datetime | None = None
    authors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    summary: str = ""
    image: str | dict[str, str] | None = None   # `image:` as front matter takes it
    draft: bool = False
    layout: str | None = None                   # "page" for standalone pages
    old_urls: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ImportedSite:
    """What an importer read. `settings` seed a new site.yaml (title, base_url, timezone, permalink,
    description, ...); an existing site.yaml is never changed. `files` are (source file, path under the
    destination site folder) pairs, e.g. (uploads/2019/05/a.jpg, "static/wp-content/uploads/2019/05/a.jpg")."""

    settings: dict[str, Any]
    articles: list[Article] = field(default_factory=list)
    files: list[tuple[Path, str]] = field(default_factory=list)
    authors: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> {bio, url}
    notes: list[Note] = field(default_factory=list)
    remote: list[str] = field(default_factory=list)   # files referenced by URL elsewhere: listed, not fetched
    skipped: Counter[str] = field(default_factory=Counter)  # what was left out on purpose, by kind


@dataclass(slots=True)
class ImportReport:
    written: Counter[str] = field(default_factory=Counter)  # articles, pages, drafts, aliases, files
    notes: list[Note] = field(default_factory=list)
    remote: list[str] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)

    def lines(self) -> list[str]:
        counts = ", ".join(f"{n} {kind}" for kind, n in self.written.items() if n) or "nothing"
        out = [f"imported {counts}"]
        if self.skipped:
            out.append("left out: " + ", ".join(f"{n} {kind}" for kind, n in self.skipped.items()))
        out += [str(note) for note in self.notes]
        if self.remote:
            out.append(f"{len(self.remote)} remote files are linked, not copied:")
            out += [f"  {url}" for url in self.remote]
        return out


def write_site(imported: ImportedSite, dest: Path, force: bool = False) -> ImportReport:
    """Write the imported site into `dest`; refuse, before writing anything, to overwrite an existing
    file unless `force`. A new site gets a site.yaml from the importer's settings."""
    report = ImportReport(notes=list(imported.notes), remote=sorted(set(imported.remote)),
                          skipped=imported.skipped)
    new_site = not (dest / CONFIG_FILE).is_file()
    if new_site:
        settings = dict(imported.settings)
        if imported.authors:
            settings["authors"] = imported.authors
        config = settings_of(settings, dest)
    else:
        config = load_config(dest)
    _give_unique_urls(imported.articles, config.permalink, config.tzinfo)
    planned = [(CONTENT_DIR + "/" + a.relative, a) for a in imported.articles]
    _refuse_clashes(dest, planned, imported.files, force)
    if new_site:
        dest.mkdir(parents=True, exist_ok=True)
        (dest / CONFIG_FILE).write_text(_yaml(settings), encoding="utf-8")
    known_authors = set(config.authors)
    for relative, article in planned:
        aliases = new_aliases(article, config.permalink, config.tzinfo, config.base_path)
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(article_text(article, aliases), encoding="utf-8")
        kind = "drafts" if article.draft else "pages" if article.layout == "page" else "articles"
        report.written[kind] += 1
        report.written["aliases"] += len(aliases)
    missing = sorted({name for a in imported.articles for name in a.authors} - known_authors)
    if not new_site and missing:
        report.notes.append(Note(str(dest / CONFIG_FILE), 0, "authors without a bio in site.yaml: "
                                 + ", ".join(missing)))
    for source, relative in imported.files:
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        report.written["files"] += 1
    return report


def settings_of(settings: dict[str, Any], dest: Path) -> SiteConfig:
    """Check the settings an importer chose exactly as a build will, before any file is written."""
    checker = SettingsCheck(str(dest / CONFIG_FILE), {}, dest)
    config = checker.site(settings)
    if checker.errors:
        raise SsgError(checker.errors)
    return config


def _give_unique_urls(articles: list[Article], permalink: str, tz) -> None:
    """Old sites reuse slugs (two "hello-world" posts in different years); where two articles would get
    one file or one URL here, the later one gets "-2", "-3"... in its slug and file name (its old URL
    becomes an alias, so links to it still land). Bundles keep their folder: a clash there is refused."""
    files, taken = set(), set()
    for article in articles:
        base, number = article.slug, 1
        while (article.relative in files or new_url(article, permalink, tz) in taken) and \
                not article.relative.endswith("/index.md"):
            number += 1
            folder, _, _ = article.relative.rpartition("/")
            article.slug = f"{base}-{number}"
            article.relative = f"{folder}/{article.slug}.md" if folder else f"{article.slug}.md"
        files.add(article.relative)
        taken.add(new_url(article, permalink, tz))


def _refuse_clashes(dest: Path, planned: list[tuple[str, Article]], files: list[tuple[Path, str]],
                    force: bool) -> None:
    errors, seen = [], {}
    for relative, origin in [(r, a.source) for r, a in planned] + [(r, str(s)) for s, r in files]:
        if relative in seen:
            errors.append(SourceError(origin, 0, f"would write {relative}, as {seen[relative]} does: "
                                                 "give one of them another slug"))
            continue
        seen[relative] = origin
        if not force and (dest / relative).exists():
            errors.append(SourceError(str(dest / relative), 0, "already exists; the import overwrites nothing "
                                                               "(run it again with --force to replace it)"))
    if errors:
        raise SsgError(errors)


def new_url(article: Article, permalink: str, tz) -> str:
    """The URL the article gets in this site: the rule parse.py applies to its front matter."""
    if article.layout == "page" or article.relative.startswith("pages/"):
        return urls.page_path(article.slug)
    when = article.date.astimezone(tz) if article.date else None
    return urls.article_path(permalink, urls.slugify(article.section), article.slug, when)


def new_aliases(article: Article, permalink: str, tz, base_path: str = "") -> tuple[str, ...]:
    """Old URLs that differ from the new one, as alias paths (decoded once, as the server decodes them)."""
    new = new_url(article, permalink, tz)
    aliases = []
    for old in article.old_urls:
        parts = urlsplit(old)
        path = unquote(parts.path or "/")
        if base_path and (path == base_path or path.startswith(base_path + "/")):
            path = path[len(base_path):] or "/"
        alias = urls.normalize_path(path) + (f"?{parts.query}" if parts.query else "")
        if alias != new and alias not in aliases:
            aliases.append(alias)
    return tuple(aliases)


def article_text(article: Article, aliases: tuple[str, ...]) -> str:
    """The Markdown file: front matter in this generator's keys (empty ones left out), then the body."""
    front: dict[str, Any] = {"title": article.title}
    if article.date:
        front["date"] = article.date.isoformat()
    if article.updated:
        front["updated"] = article.updated.isoformat()
    if len(article.authors) == 1:
        front["author"] = article.authors[0]
    elif article.authors:
        front["authors"] = list(article.authors)
    if article.layout != "page":
        front["section"] = article.section
    front["slug"] = article.slug
    optional = {"tags": list(article.tags), "summary": article.summary, "image": article.image,
                "draft": article.draft, "layout": article.layout, "aliases": list(aliases),
                "params": article.params}
    front |= {key: value for key, value in optional.items() if value}
    body = article.body.strip("\n")
    return f"---\n{_yaml(front)}---\n\n{body}\n"


def _yaml(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1000)
