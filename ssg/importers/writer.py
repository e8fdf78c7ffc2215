"""Write an imported site: front matter in this generator's keys, aliases for old URLs, copied files, a report."""
from __future__ import annotations

import shutil
from collections import Counter
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from zoneinfo import ZoneInfo
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

from .. import urls
from ..config import SiteConfig, load_config
from ..config_check import SettingsCheck
from ..errors import SourceError, SsgError
from ..folders import CONFIG_FILE, CONTENT_DIR, STATIC_DIR  # noqa: F401 (importers name files under STATIC_DIR)

# URLs the generator makes itself: an imported page may not take them, nor an old URL redirect from them.
GENERATED = ("/", "/404.html", "/feed.xml", "/sitemap.xml", "/news-sitemap.xml", "/robots.txt", "/account/",
             "/query-aliases.json")


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
    `old_urls` are the paths the article had on the old site, from the host's root ("/blog/2019/05/x/" for
    a site under /blog/; percent-escapes and a query like "/?p=12" allowed). Each becomes an alias, a path
    in the new site (its base path taken off once), when it differs from the new URL."""

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
    new_site = not (dest / CONFIG_FILE).is_file()
    if new_site:
        settings = dict(imported.settings)
        if imported.authors:
            settings["authors"] = imported.authors
        config = settings_of(settings, dest)
    else:
        config = load_config(dest)
    _settle_into(imported, config)
    report = ImportReport(notes=list(imported.notes), remote=sorted(set(imported.remote)),
                          skipped=imported.skipped)
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


def _settle_into(imported: ImportedSite, config: SiteConfig) -> None:
    """Settle the articles in the site they are written to. Its permalink may not be the one the importer
    chose (an existing site keeps its own): then links between imported articles, which the importer made
    with its choice, are moved to the new URLs, and a renamed bundle takes its files along."""
    chosen = imported.settings.get("permalink", config.permalink)
    chosen_tz = ZoneInfo(imported.settings.get("timezone", config.timezone))
    before = [(new_url(a, chosen, chosen_tz), a.relative) for a in imported.articles]
    settle(imported.articles, config.permalink, config.tzinfo, imported.notes)
    moved_urls, moved_folders = {}, {}
    for (url, relative), article in zip(before, imported.articles):
        if (now := new_url(article, config.permalink, config.tzinfo)) != url:
            moved_urls[url] = now
        if relative != article.relative and relative.endswith("/index.md"):
            moved_folders[f"{CONTENT_DIR}/{relative[:-len('index.md')]}"] = \
                f"{CONTENT_DIR}/{article.relative[:-len('index.md')]}"
    if moved_urls:
        for article in imported.articles:
            article.body = _LOCAL_LINK.sub(lambda m: m.group(1) + moved_urls.get(m.group(2), m.group(2)), article.body)
    if moved_folders:
        imported.files = [(source, _moved(target, moved_folders)) for source, target in imported.files]


# A root-relative link target in Markdown, ](/news/x/), or in HTML, href="/news/x/".
_LOCAL_LINK = re.compile(r"""(\]\(\s*<?|href=["'])(/[^\s)>"'#?]*)""")


def _moved(target: str, folders: dict[str, str]) -> str:
    for old, new in folders.items():
        if target.startswith(old):
            return new + target[len(old):]
    return target


def settle(articles: list[Article], permalink: str, tz: ZoneInfo, notes: list[Note]) -> None:
    """Give each article a file of its own and a URL of its own (in the site this import makes): a
    second article with the same URL gets "-2" after its slug, with a note."""
    # The generator's own pages and each section's list are URLs too: a standalone page called "news"
    # must not take /news/ from the list, nor an old URL /404.html become a redirect.
    taken_urls = {path: "a page the generator makes" for path in GENERATED}
    for article in articles:
        if article.layout != "page":
            section = urls.slugify(article.section)
            taken_urls[urls.section_path(section)] = f"the list of {article.section}"
            taken_urls[f"/{section}/feed.xml"] = f"the feed of {article.section}"
    taken_files: set[str] = set()
    for article in articles:
        first = url = new_url(article, permalink, tz)
        base, number = article.slug, 1
        while url in taken_urls:
            number += 1
            article.slug = f"{base}-{number}"
            url = new_url(article, permalink, tz)
        if number > 1:
            notes.append(Note(article.source, 0, f"{first} is already the URL of {taken_urls[first]}: "
                                                 f"this one gets the slug {article.slug}"))
        taken_urls[url] = article.source
        article.relative = _free_file(article, taken_files)
        taken_files.add(article.relative)
    _drop_taken_aliases(articles, taken_urls, permalink, tz, notes)


def _drop_taken_aliases(articles: list[Article], taken: dict[str, str], permalink: str, tz: ZoneInfo,
                        notes: list[Note]) -> None:
    """An old URL that is now another page's URL, or an earlier article's old URL, cannot redirect: the
    build would refuse two files at one path. It is dropped, with a note."""
    claimed = dict(taken)
    for article in articles:
        kept = []
        for old in article.old_urls:
            alias = new_aliases(replace(article, old_urls=(old,)), permalink, tz)
            if alias and alias[0] in claimed and claimed[alias[0]] != article.source:
                notes.append(Note(article.source, 0, f"old URL {alias[0]} is now {claimed[alias[0]]}: "
                                                     "no redirect from it"))
                continue
            if alias:
                claimed[alias[0]] = article.source
            kept.append(old)
        article.old_urls = tuple(kept)


def _free_file(article: Article, taken: set[str]) -> str:
    """The file under content/ for an article: "news/slug.md", or the bundle "news/slug/index.md"."""
    # The file's name does not make the URL (its front matter names section and slug): it needs only
    # to be free. Articles of one section with one slug but different dates get "-2", "-3"...
    folder, _, name = article.relative.rpartition("/")
    top = folder.split("/")[0]
    number, candidate = 1, ""
    while not candidate or candidate in taken:
        stem = article.slug if number == 1 else f"{article.slug}-{number}"
        candidate = f"{top}/{stem}/index.md" if name == "index.md" else f"{top}/{stem}.md"
        number += 1
    return candidate


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
    # libyaml's dumper when the system has it: writing front matter is most of an import's time.
    return yaml.dump(data, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False,
                     allow_unicode=True, default_flow_style=False, width=1000)
