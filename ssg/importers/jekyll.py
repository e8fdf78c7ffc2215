"""`ssg import jekyll`: read a Jekyll site (posts, drafts, pages, static files, _config.yml) into an ImportedSite."""
from __future__ import annotations

import fnmatch
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote
from zoneinfo import ZoneInfo

from .. import urls
from ..errors import SourceError, SsgError
from ..markdown_code import Places
from ..safe_yaml import shown
from .foreign import (HTML_SUFFIXES, MARKUP_SUFFIXES, MORE, FrontMatter, fence, has_front_matter, html_body,
                      is_remote, is_unsafe, key_lines, lead_image, names, note_left_as_it_is, params_of, read_data_file,
                      read_text, remote_images, root_path, section_and_tags, site_settings, slug_from_name,
                      split_front_matter, summary_of, time_zone, title_from_slug, to_datetime)
from .writer import STATIC_DIR, Article, ImportedSite, Note, new_aliases, new_url, settle

CONFIG_FILES = ("_config.yml", "_config.yaml", "_config.toml")
DEFAULT_PERMALINK = "/{section}/{slug}/"
DEFAULT_SECTION = "News"
# The built-in permalink styles, as Jekyll expands them.
STYLES = {
    "date": "/:categories/:year/:month/:day/:title:output_ext",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "ordinal": "/:categories/:year/:y_day/:title:output_ext",
    "weekdate": "/:categories/:year/W:week/:short_day/:title:output_ext",
    "none": "/:categories/:title:output_ext",
}
# Jekyll's placeholders that this generator's permalink can express.
OURS = {"year": "{year}", "month": "{month}", "day": "{day}", "title": "{slug}", "slug": "{slug}",
        "name": "{slug}", "categories": "{section}", "slugified_categories": "{section}", "output_ext": ".html"}
# Folders that hold the old site's machinery or build output, never content.
MACHINERY = {"_layouts", "_includes", "_sass", "_site", "_plugins", "_data", "node_modules", "vendor",
             ".git", ".jekyll-cache", ".sass-cache", "gemfiles"}
NEVER_COPIED = {"Gemfile", "Gemfile.lock", "package.json", "package-lock.json", "yarn.lock", "Rakefile"}
# At the top of the site only media are copied: README, LICENSE, CNAME and configs are not the site's pages.
TOP_LEVEL_MEDIA = {".ico", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".avif", ".pdf", ".mp3", ".mp4",
                   ".webm", ".woff", ".woff2", ".ttf", ".otf", ".zip", ".csv"}
LISTING = re.compile(r"\{%-?\s*for\s+\w+\s+in\s+(paginator\.posts|site\.(posts|categories|tags|related_posts)"
                     r"|site\.collections)")
FEEDS = {"feed.xml", "atom.xml", "rss.xml", "sitemap.xml", "robots.txt"}
SLUGIFY_PRETTY = re.compile(r"[^\w._~!$&'()+,;=@]+")  # \w is \p{L}\p{Nd}_ in Python; Jekyll keeps _ too
SLUGIFY_DEFAULT = re.compile(r"[^\w]+|_+")
DATED_NAME = re.compile(r"^(\d{2,4})-(\d{1,2})-(\d{1,2})-(.*)$")


@dataclass(frozen=True, slots=True)
class JekyllConfig:
    label: str                      # the config file, as errors name it
    title: str
    url: str                        # scheme and host: "https://example.org", "" when not given
    baseurl: str                    # the site's path under the host: "" or "/blog"
    description: str
    language: str
    timezone: str
    style: str                      # `permalink:` as written (a style name or a pattern)
    permalink: str                  # the posts' URL pattern, styles expanded
    excerpt_separator: str
    author: dict[str, str]          # the site's author: {name, bio, url}, empty when none
    exclude: tuple[str, ...]
    defaults: tuple[tuple[str, str, dict[str, Any]], ...]  # (path, type, values) of `defaults:`
    collections: tuple[str, ...]    # collections other than posts: not imported


@dataclass(slots=True)
class Source:
    """One post, draft or page as read, before its body is converted."""

    relative: str                   # path under the Jekyll site, with forward slashes
    label: str                      # the file as notes name it
    kind: str                       # "post", "draft" or "page"
    front: FrontMatter
    meta: dict[str, Any]            # front matter with `defaults:` applied
    article: Article | None = None
    html: bool = False


@dataclass(slots=True)
class Survey:
    """What walking the site found."""

    posts: list[str] = field(default_factory=list)
    drafts: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    static: list[str] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    notes: list[Note] = field(default_factory=list)


def read_jekyll(src: Path) -> ImportedSite:
    """Read the Jekyll site in `src`; bad front matter anywhere is one error listing every bad file."""
    config = read_config(src)
    tz = ZoneInfo(config.timezone)
    survey = survey_site(src, config)
    sources = read_sources(src, survey, config)
    imported = ImportedSite(settings={}, skipped=survey.skipped, notes=survey.notes)
    people = read_authors(src, config)
    static = set(survey.static)
    for source in sources:
        if source.kind == "page" and is_home_or_404(source):
            imported.skipped["home and 404 pages"] += 1
        elif source.kind == "page" and is_listing(source):
            imported.skipped["listing pages"] += 1
            imported.notes.append(Note(source.label, 1, "a list of posts in Liquid: left out, the build makes "
                                                        "section, tag and author lists itself"))
        else:
            source.article = to_article(source, config, tz, people, static, imported)
    sources = [s for s in sources if s.article is not None]
    articles = [s.article for s in sources]
    permalink = choose_permalink(config.permalink, [a for a in articles if not a.draft and a.layout != "page"], tz)
    imported.settings = site_settings(config.label, "url", config.url, config.baseurl, config.title, config.description,
                                      config.language, config.timezone, permalink, imported.notes)
    settle(articles, permalink, tz, imported.notes)
    convert_bodies(sources, link_targets(sources, static, permalink, tz), imported)
    imported.articles = articles
    imported.authors = {name: info for name, info in people.bios.items()
                        if info and any(name in a.authors for a in articles)}
    imported.files = [(src / relative, f"{STATIC_DIR}/{relative}") for relative in survey.static]
    return imported


def read_sources(src: Path, survey: Survey, config: JekyllConfig) -> list[Source]:
    """Every post, draft and page; the errors of all of them at once, so one run shows every bad file."""
    sources, errors = [], []
    for relative, kind in ([(r, "post") for r in survey.posts] + [(r, "draft") for r in survey.drafts]
                           + [(r, "page") for r in survey.pages]):
        try:
            sources.append(read_source(src, relative, kind, config))
        except SsgError as exc:
            errors += exc.errors
    if errors:
        raise SsgError(errors)
    return sources


def convert_bodies(sources: list[Source], targets: dict[str, str], imported: ImportedSite) -> None:
    for source in sources:
        def note(line: int, message: str, label: str = source.label) -> None:
            imported.notes.append(Note(label, line, message))
        body = convert_liquid(source.front.body, Places(source.front.body, source.front.body_line), targets, note)
        source.article.body = html_body(body) if source.html else body
        imported.remote += remote_images(body)


# --- _config.yml --------------------------------------------------------------------------------------

def read_config(src: Path) -> JekyllConfig:
    if not src.is_dir():
        raise SsgError(SourceError(str(src), 0, "not a folder: give the Jekyll site's folder "
                                                "(the one with _config.yml)"))
    path = next((src / name for name in CONFIG_FILES if (src / name).is_file()), None)
    if path is None:
        raise SsgError(SourceError(str(src / "_config.yml"), 0, "not found: is this a Jekyll site? "
                                                                "Its folder holds _config.yml"))
    label = str(path)
    data = read_data_file(path, label)
    data = data if data is not None else {}
    lines = key_lines(path)
    if not isinstance(data, dict):
        raise SsgError(SourceError(label, 1, "_config.yml must be a mapping of settings"))
    url = str(data.get("url") or "").strip().rstrip("/")
    if url and not urls.is_reader_link(url + "/", absolute=True):
        raise SsgError(SourceError(label, lines.get("url", 1), f"'url' must be like https://example.org, "
                                                               f"got {shown(url)}"))
    base = str(data.get("baseurl") or "").strip().strip("/")
    style = str(data.get("permalink") or "date").strip()
    collections = data.get("collections") if isinstance(data.get("collections"), (dict, list)) else {}
    posts = collections.get("posts") if isinstance(collections, dict) else None
    if isinstance(posts, dict) and posts.get("permalink"):
        permalink = str(posts["permalink"])  # `collections: posts: permalink:` wins over the site's style
    else:
        permalink = STYLES.get(style, style)
    author = data.get("author")
    author = {"name": author} if isinstance(author, str) else author if isinstance(author, dict) else {}
    separator = data.get("excerpt_separator")
    exclude = data.get("exclude") if isinstance(data.get("exclude"), list) else []
    return JekyllConfig(
        label=label, title=str(data.get("title") or data.get("name") or src.resolve().name),
        url=url, baseurl="/" + base if base else "", description=str(data.get("description") or "").strip(),
        language=str(data.get("lang") or data.get("locale") or data.get("language") or "en").replace("_", "-"),
        timezone=time_zone(data.get("timezone"), label, lines.get("timezone", 1)),
        style=style, permalink=permalink,
        excerpt_separator=separator if isinstance(separator, str) and separator.strip() else MORE,
        author={k: str(v).strip() for k, v in author.items() if isinstance(v, (str, int))},
        exclude=tuple(str(e) for e in exclude if e),
        defaults=tuple(_defaults(data.get("defaults"))),
        collections=tuple(str(c) for c in collections if c != "posts"))


def _defaults(value: Any):
    """`defaults:` entries as (path, type, values); the ones this import can apply."""
    for entry in value if isinstance(value, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("values"), dict):
            continue
        scope = entry.get("scope") if isinstance(entry.get("scope"), dict) else {}
        yield str(scope.get("path") or "").strip("/"), str(scope.get("type") or ""), entry["values"]


def with_defaults(meta: dict[str, Any], relative: str, kind: str, config: JekyllConfig) -> dict[str, Any]:
    """Front matter over the `defaults:` whose scope takes the file, the narrower path winning."""
    kinds = {"post": ("posts", "post"), "draft": ("drafts", "posts", "post"), "page": ("pages", "page")}[kind]
    merged: dict[str, Any] = {}
    for path, type_, values in sorted(config.defaults, key=lambda entry: len(entry[0])):
        inside = not path or relative == path or relative.startswith(path + "/") or fnmatch.fnmatch(relative, path)
        if inside and (not type_ or type_ in kinds):
            merged |= values
    return merged | meta


# --- walking the site -------------------------------------------------------------------------------

def survey_site(src: Path, config: JekyllConfig) -> Survey:
    """Sort every file of the site: posts, drafts, pages, static files, and what is left out."""
    survey = Survey()
    root = os.path.realpath(src)
    collections = {"_" + name for name in config.collections}
    for folder, dirnames, filenames in os.walk(src):
        here = Path(folder).relative_to(src).as_posix()
        here = "" if here == "." else here
        parts = here.split("/") if here else []
        kept = []
        for name in sorted(dirnames):
            relative = f"{here}/{name}" if here else name
            if name in collections:
                count = sum(len(files) for _, _, files in os.walk(Path(folder, name)))
                survey.skipped["collection documents"] += count
                survey.notes.append(Note(str(src / relative), 0, f"collection {name[1:]} ({count} files) left out: "
                                                                 "only posts and pages are imported"))
            elif name in MACHINERY or name.startswith(".") or _excluded(relative, config.exclude):
                continue
            elif name.startswith("_") and name not in ("_posts", "_drafts"):
                continue
            else:
                kept.append(name)
        dirnames[:] = kept
        in_posts, in_drafts = "_posts" in parts, "_drafts" in parts
        for name in sorted(filenames):
            relative = f"{here}/{name}" if here else name
            if name.startswith((".", "#", "~")) or name.endswith("~") or _excluded(relative, config.exclude):
                continue
            if is_unsafe(src / relative, root, survey.notes, survey.skipped):
                continue
            suffix = Path(name).suffix.lower()
            markup = suffix in MARKUP_SUFFIXES + HTML_SUFFIXES
            if in_posts or in_drafts:
                if not markup:
                    survey.static.append(relative)  # an image kept beside the posts: Jekyll copies it too
                elif in_drafts:
                    survey.drafts.append(relative)
                elif _has_date(Path(name).stem):
                    survey.posts.append(relative)
                else:
                    survey.skipped["undated files in _posts"] += 1
                    survey.notes.append(Note(str(src / relative), 0, "left out: Jekyll publishes only files named "
                                                                     "YYYY-MM-DD-title in _posts"))
                continue
            if name.startswith("_") or name in NEVER_COPIED:
                continue
            if has_front_matter(src / relative):
                if not markup:
                    kind = "feeds and sitemaps" if name in FEEDS else "templated files (Sass, JSON, XML)"
                    survey.skipped[kind] += 1
                elif not parts and Path(name).stem == "index":
                    survey.skipped["home and 404 pages"] += 1
                else:
                    survey.pages.append(relative)
            elif parts or suffix in TOP_LEVEL_MEDIA:
                survey.static.append(relative)
    return survey


def _has_date(stem: str) -> bool:
    dated = DATED_NAME.match(stem)
    try:
        return dated is not None and bool(datetime(*(int(g) for g in dated.groups()[:3])))
    except ValueError:  # 2024-02-30
        return False


def _excluded(relative: str, patterns: tuple[str, ...]) -> bool:
    for pattern in patterns:
        pattern = pattern.strip("/")
        if relative == pattern or relative.startswith(pattern + "/") or fnmatch.fnmatch(relative, pattern):
            return True
    return False


def is_home_or_404(source: Source) -> bool:
    """This generator makes its own home and 404 pages, wherever the old ones were kept."""
    permalink = str(source.meta.get("permalink") or "").strip()
    return Path(source.relative).stem == "404" or permalink in ("/", "/index.html", "/404.html", "/404/")


def is_listing(source: Source) -> bool:
    return bool(LISTING.search(source.front.body)) or "pagination" in source.meta


# --- one file -----------------------------------------------------------------------------------------

def read_source(src: Path, relative: str, kind: str, config: JekyllConfig) -> Source:
    label = str(src / relative)
    text = read_text(src / relative, label)
    front = split_front_matter(text, label)
    if front is None:
        front = FrontMatter({}, {}, text, 1)  # a post without front matter: Jekyll reads it all the same
    meta = with_defaults(front.data, relative, kind, config)
    return Source(relative, label, kind, front, meta, html=Path(relative).suffix.lower() in HTML_SUFFIXES)


@dataclass(frozen=True, slots=True)
class People:
    """Authors as the site knows them: data keys to display names, display names to bios."""

    names: dict[str, str]               # a key of _data/authors.yml -> the author's name
    bios: dict[str, dict[str, str]]     # name -> {bio, url}
    default: tuple[str, ...]            # the site's author (_config.yml `author`), for posts naming none


def read_authors(src: Path, config: JekyllConfig) -> People:
    names_by_key: dict[str, str] = {}
    bios: dict[str, dict[str, str]] = {}
    for name in ("authors.yml", "authors.yaml", "authors.json"):
        path = src / "_data" / name
        if not path.is_file():
            continue
        data = read_data_file(path, str(path))
        entries = data.items() if isinstance(data, dict) else (
            (str(e.get("id") or e.get("key") or e.get("name")), e) for e in data if isinstance(e, dict)) \
            if isinstance(data, list) else ()
        for key, info in entries:
            info = info if isinstance(info, dict) else {"name": info}
            display = str(info.get("name") or info.get("display_name") or key).strip()
            names_by_key[str(key)] = display
            bios[display] = _bio(info)
        break
    default: tuple[str, ...] = ()
    if config.author.get("name"):
        display = names_by_key.get(config.author["name"], config.author["name"])
        bios.setdefault(display, _bio(config.author))
        default = (display,)
    return People(names_by_key, bios, default)


def _bio(info: dict[str, Any]) -> dict[str, str]:
    bio = {}
    text = info.get("bio") or info.get("description")
    if isinstance(text, str) and text.strip():
        bio["bio"] = " ".join(text.split())
    link = next((info[k] for k in ("url", "uri", "website", "web", "homepage") if isinstance(info.get(k), str)), "")
    if link and urls.is_reader_link(link.strip(), absolute=True):
        bio["url"] = link.strip()
    return bio


UPDATED_KEYS = ("last_modified_at", "lastmod", "updated", "modified")
# Keys mapped to fields of ours; `layout` named a Jekyll template, which this generator does not have.
USED_KEYS = {"title", "date", "slug", "author", "authors", "categories", "category", "tags", "tag", "excerpt",
             "description", "summary", "published", "draft", "permalink", "redirect_from", "layout", *UPDATED_KEYS}


def to_article(source: Source, config: JekyllConfig, tz: ZoneInfo, people: People, static: set[str],
               imported: ImportedSite) -> Article:
    meta, front, label, notes = source.meta, source.front, source.label, imported.notes
    page = source.kind == "page"
    name = _name(source)
    when = _date(source, tz, notes)
    draft = source.kind == "draft" or meta.get("published") is False or meta.get("draft") is True
    categories = _categories(source)
    tags = _words(meta["tag"], split=False) if "tag" in meta else _words(meta.get("tags"), split=True)
    section, tags = section_and_tags(categories, tags, DEFAULT_SECTION, label, front.line_of("categories"), notes)
    written_slug = str(meta.get("slug") or "").strip()
    slug = (urls.slugify(written_slug) if written_slug else slug_from_name(name)) or "untitled"
    authors = tuple(people.names.get(a, a) for a in names(meta.get("authors")) or names(meta.get("author")))
    authors = tuple(a for a in authors if urls.slugify(a)) or (() if page else people.default)
    used = set(USED_KEYS)
    old_urls: tuple[str, ...] = ()
    if not draft:  # a draft was never published: it has no old URL
        try:
            old_urls = (old_url(source, when, categories, name, config),)
        except ValueError as exc:
            notes.append(Note(label, front.line_of("permalink"), f"{exc}: its old URL is not known, "
                                                                 "so no redirect is made"))
        old_urls += tuple(root_path(r) for r in names(meta.get("redirect_from")))
        # From the host's root, as a reader's browser asked for them: the writer takes the new site's
        # base path off, so an old /blog/x/ stays /x/ under the same base and /blog/x/ under another.
        old_urls = tuple(config.baseurl + url for url in old_urls)
    return Article(
        relative=f"{'pages' if page else urls.slugify(section)}/{slug}.md",
        title=str(meta.get("title") or "").strip() or title_from_slug(name), body="", source=label, slug=slug,
        section=DEFAULT_SECTION if page else section, date=None if page and "date" not in meta else when,
        updated=next((to_datetime(meta[k], tz) for k in UPDATED_KEYS if k in meta), None),
        authors=authors, tags=() if page else tags, summary=summary_of(meta, front.body, config.excerpt_separator),
        image=_image(source, static, imported, used), draft=draft, layout="page" if page else None,
        old_urls=old_urls, params=params_of(meta, used))


def _name(source: Source) -> str:
    """The name Jekyll makes slugs of: the file name without its date, or a folder's name for its index
    page; never ending with a period."""
    path = Path(source.relative)
    dated = DATED_NAME.match(path.stem) if source.kind != "page" else None
    name = dated.group(4) if dated else path.parent.name if path.stem == "index" and "/" in source.relative \
        else path.stem
    return name.rstrip(".")


def _date(source: Source, tz: ZoneInfo, notes: list[Note]) -> datetime | None:
    """Front matter's `date` (as Jekyll, it wins over the file name's), else the file name's date at
    midnight in the site's zone; a draft without either is dated by its file's time, as Jekyll dates it."""
    meta, path = source.meta, Path(source.label)
    if "date" in meta:
        when = to_datetime(meta["date"], tz)
        if when is not None:
            return when
        notes.append(Note(source.label, source.front.line_of("date"), f"'date' {shown(meta['date'])} is no date: "
                                                                      "the file name's date is used"))
    dated = DATED_NAME.match(path.stem) if source.kind != "page" else None
    if dated:
        return datetime(*(int(g) for g in dated.groups()[:3]), tzinfo=tz)
    if source.kind == "draft":
        return datetime.fromtimestamp(path.stat().st_mtime, tz)
    return None


def _words(value: Any, split: bool) -> list[str]:
    """Jekyll's rule: a plural key given as text is a space-separated list; a singular key is one name."""
    if isinstance(value, str):
        return value.split() if split else [value.strip()] if value.strip() else []
    return names(value)


def _categories(source: Source) -> list[str]:
    """Folders above _posts (news/_posts/...), then `categories`, then `category`, each once, as Jekyll orders them."""
    parts = source.relative.split("/")
    special = "_drafts" if source.kind == "draft" else "_posts"
    above = parts[:parts.index(special)] if special in parts else []
    found = above + _words(source.meta.get("categories"), split=True) + (
        _words(source.meta["category"], split=False) if "category" in source.meta else [])
    return list(dict.fromkeys(str(c) for c in found))


def _image(source: Source, static: set[str], imported: ImportedSite, used: set[str]) -> dict[str, str] | str | None:
    """The lead image: a URL, or a root path to a file of the site (copied to the same path)."""
    found = lead_image(source.meta, static, used, imported.remote)
    if found is None:
        return None
    key, src, image = found
    if image is None:
        imported.notes.append(Note(source.label, source.front.line_of(key), f"image {shown(src)} is not a file "
                                                                            "of the site: left out"))
    return image


# --- old URLs -------------------------------------------------------------------------------------

def old_url(source: Source, when: datetime | None, categories: list[str], name: str, config: JekyllConfig) -> str:
    """The URL Jekyll gave the file, relative to the site's root (its baseurl left out), escaped as Jekyll
    escapes it. Raises ValueError for a placeholder Jekyll would refuse."""
    permalink = source.meta.get("permalink")
    path = Path(source.relative)
    if source.kind == "page":
        folder = path.parent.as_posix()
        values = {"path": "" if folder == "." else folder, "basename": path.stem, "output_ext": ".html"}
        if not permalink:
            if path.stem == "index":
                permalink = "/:path/"
            else:
                permalink = "/:path/:basename" + _suffix(config.style)
        return _expand(str(permalink), values)
    slug_value = source.meta.get("slug")
    title_source = str(slug_value) if slug_value not in (None, "") else name
    values = {
        "title": _jekyll_slug(title_source, pretty=True), "slug": _jekyll_slug(title_source, pretty=False),
        "name": _jekyll_slug(Path(source.relative).stem, pretty=False),
        "categories": "/".join(dict.fromkeys(c.lower() for c in categories)),
        "slugified_categories": "/".join(dict.fromkeys(_jekyll_slug(c, pretty=False) for c in categories)),
        "output_ext": ".html", "collection": "posts",
        "path": "/".join(source.relative.split("/")[1:]).rsplit(".", 1)[0] if "/" in source.relative else path.stem,
    }
    if when is not None:
        values |= {"year": f"{when.year:04d}", "month": f"{when.month:02d}", "i_month": str(when.month),
                   "day": f"{when.day:02d}", "i_day": str(when.day), "short_year": f"{when.year % 100:02d}",
                   "hour": f"{when.hour:02d}", "minute": f"{when.minute:02d}", "second": f"{when.second:02d}",
                   "y_day": when.strftime("%j"), "short_month": when.strftime("%b"),
                   "long_month": when.strftime("%B"), "week": when.strftime("%V"), "w_year": when.strftime("%G"),
                   "w_day": str(when.isoweekday()), "short_day": when.strftime("%a"), "long_day": when.strftime("%A")}
    return _expand(str(permalink or config.permalink), values)


def _suffix(style: str) -> str:
    """How a page's URL ends under the site's permalink style (Jekyll's add_permalink_suffix)."""
    if style == "pretty" or (style not in STYLES and style.endswith("/")):
        return "/"
    if style in ("date", "ordinal", "none", "weekdate") or style.endswith(":output_ext"):
        return ":output_ext"
    return ""


def _expand(template: str, values: dict[str, str]) -> str:
    def fill(match: re.Match) -> str:
        name = match.group(1)
        for key, rest in ((name, ""), (name[:-1], "_")) if name.endswith("_") else ((name, ""),):
            if key in values:
                return _escape(values[key]) + rest
        raise ValueError(f"the permalink placeholder :{name} is not one Jekyll knows here")
    url = re.sub(r":([a-z_]+)", fill, template)
    url = ("/" + url).replace("..", "/").replace("./", "")
    return re.sub(r"/{2,}", "/", url)


def _escape(value: str) -> str:
    """Jekyll's URL.escape_path: a path segment as a browser requests it."""
    if re.fullmatch(r"[a-zA-Z0-9./-]*", value):
        return value
    return quote(value, safe="/:@!$&'()*+,;=-._~")


def _jekyll_slug(text: str, pretty: bool) -> str:
    """Jekyll's Utils.slugify: "pretty" keeps ._~!$&'()+,;=@ and the case; the default lowers it."""
    slug = (SLUGIFY_PRETTY if pretty else SLUGIFY_DEFAULT).sub("-", text).strip("-")
    return slug if pretty else slug.lower()


def choose_permalink(pattern: str, articles: list[Article], tz: ZoneInfo) -> str:
    """The old URL scheme in this generator's placeholders when it can say it, else the default; of the
    candidates (with and without the categories' segment) the one most old URLs keep wins."""
    candidates = translate_permalink(pattern) + [DEFAULT_PERMALINK]

    def kept(candidate: str) -> int:
        return sum(1 for a in articles if a.old_urls and not new_aliases(
            Article(a.relative, a.title, "", a.source, a.slug, a.section, a.date, layout=a.layout,
                    old_urls=a.old_urls[:1]), candidate, tz))
    scores = [(kept(c), -index, c) for index, c in enumerate(candidates)]
    return max(scores)[2]


def translate_permalink(pattern: str) -> list[str]:
    """Jekyll's pattern in this generator's placeholders, [] when it uses one this generator lacks."""
    if "{" in pattern or "}" in pattern or not pattern.startswith("/"):
        return []
    missing = []

    def ours(match: re.Match) -> str:
        name = match.group(1)
        if name in OURS:
            return OURS[name]
        if name.endswith("_") and name[:-1] in OURS:
            return OURS[name[:-1]] + "_"
        missing.append(name)
        return ""
    translated = re.sub(r":([a-z_]+)", ours, pattern)
    if missing or "{slug}" not in translated:
        return []
    translated = re.sub(r"/{2,}", "/", translated)
    candidates = [translated]
    if "{section}" in translated:
        candidates.append(re.sub(r"/{2,}", "/", translated.replace("{section}", "")))
    return candidates


# --- Liquid in bodies ---------------------------------------------------------------------------------

_LIQUID = re.compile(r"\{%-?\s*(\w+)\s*(.*?)\s*-?%\}|\{\{-?\s*(.*?)\s*-?\}\}", re.S)
_BLOCKS = {"raw": "endraw", "highlight": "endhighlight", "comment": "endcomment"}
_CLOSERS = re.compile(r"end\w+|else|elsif|when")
_SITE_ROOT = re.compile(r"site\.(url|baseurl)")
_FILTERED_PATH = re.compile(r"""(["'])(.*?)\1\s*\|\s*(relative_url|absolute_url)""")


def link_targets(sources: list[Source], static: set[str], permalink: str, tz: ZoneInfo) -> dict[str, str]:
    """What `{% post_url %}` and `{% link %}` may name, with the URL each now has: a post by its file name
    without extension (with or without the folder under _posts), any file by its path in the site."""
    targets = {}
    for source in sources:
        url = new_url(source.article, permalink, tz)
        targets["link:" + source.relative] = url
        if source.kind == "post":
            inside = source.relative.split("_posts/", 1)[-1]
            targets["post:" + inside.rsplit(".", 1)[0]] = url
            targets.setdefault("post:" + Path(inside).stem, url)
    for relative in static:
        targets["link:" + relative] = "/" + relative
    return targets


def convert_liquid(body: str, places: Places, targets: dict[str, str], note: Callable[[int, str], None]) -> str:
    """Convert the Liquid a reader saw as plain output (raw, highlight, comment, site.url and baseurl,
    post_url, link, relative_url); leave the rest as written, each with a note at its line."""
    out: list[str] = []
    position = 0
    while (match := _LIQUID.search(body, position)):
        start = match.start()
        out.append(body[position:start])
        position = match.end()
        tag, arguments, expression = match.groups()
        if places.in_code(start):
            out.append(match.group(0))
            continue
        if tag in _BLOCKS:
            closing = re.compile(r"\{%-?\s*" + _BLOCKS[tag] + r"\s*-?%\}").search(body, match.end())
            if closing is None:
                note(places.line(start), f"{{% {tag} %}} has no {{% {_BLOCKS[tag]} %}}: left as it is")
                out.append(match.group(0))
                continue
            inner = body[match.end():closing.start()]
            position = closing.end()
            if tag == "raw":
                out.append(inner)
            elif tag == "highlight":
                before = "".join(out[-1:])
                language = arguments.split()[0] if arguments.split() else ""
                out.append(("" if not before or before.endswith("\n") else "\n") + fence(language, inner))
            continue
        replacement = _replacement(tag, arguments, expression, body, position, targets)
        if replacement is None:
            out.append(match.group(0))
            if not (tag and _CLOSERS.fullmatch(tag)):
                reason = ("names no post or page of this site" if tag in ("post_url", "link")
                          else "is Liquid, which this generator does not run")
                note_left_as_it_is(note, places.line(start), match.group(0), reason)
        else:
            out.append(replacement)
    out.append(body[position:])
    return "".join(out)


def _replacement(tag: str | None, arguments: str, expression: str | None, body: str, end: int,
                 targets: dict[str, str]) -> str | None:
    if tag == "post_url":
        name = arguments.strip().strip("'\"")
        return targets.get("post:" + name) or targets.get("post:" + name.rsplit("/", 1)[-1])
    if tag == "link":
        return targets.get("link:" + arguments.strip().strip("'\"").lstrip("/"))
    if expression is None:
        return None
    if _SITE_ROOT.fullmatch(expression):
        # The site's address before a path goes; on its own as a link ("({{ site.url }})") it meant the home page.
        follower = body[end:end + 1]
        if follower in ("/", "{"):
            return ""
        return "/" if follower in (")", '"', "'", "") else None
    filtered = _FILTERED_PATH.fullmatch(expression)
    if filtered:
        path = filtered.group(2)
        return path if is_remote(path) else "/" + path.lstrip("/")
    return None

