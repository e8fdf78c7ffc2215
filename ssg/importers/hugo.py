"""`ssg import hugo`: read a Hugo site (content, page bundles, static files, its config) into an ImportedSite."""
from __future__ import annotations

import os
import posixpath
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote, unquote, urlsplit
from zoneinfo import ZoneInfo

from .. import urls
from ..errors import SourceError, SsgError
from ..markdown_code import Places
from ..safe_yaml import shown
from .foreign import (HTML_SUFFIXES, MARKUP_SUFFIXES, FrontMatter, as_block, fence, html_body,
                      is_remote, is_unsafe, key_lines, lead_image, names, note_left_as_it_is, params_of, read_data_file,
                      read_text, remote_images, section_and_tags, section_name, site_settings, slug_from_name,
                      split_front_matter, summary_of, time_zone, title_from_slug, to_datetime)
from .writer import STATIC_DIR, Article, ImportedSite, Note, new_aliases, new_url, settle

CONFIG_NAMES = ("hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json", "config.toml", "config.yaml", "config.yml",
                "config.json")
DEFAULT_PERMALINK = "/{section}/{slug}/"
CONTENT_SUFFIXES = MARKUP_SUFFIXES + HTML_SUFFIXES
OTHER_FORMATS = (".org", ".adoc", ".asciidoc", ".ad", ".rst", ".pandoc", ".pdc")
BUNDLE_INDEXES = tuple("index" + suffix for suffix in CONTENT_SUFFIXES)
BRANCH_INDEXES = tuple("_index" + suffix for suffix in CONTENT_SUFFIXES)
# Hugo's permalink tokens that this generator's permalink can express.
OURS = {"year": "{year}", "month": "{month}", "day": "{day}", "slug": "{slug}", "slugorfilename": "{slug}",
        "filename": "{slug}", "title": "{slug}", "contentbasename": "{slug}", "slugorcontentbasename": "{slug}",
        "section": "{section}", "sectionslug": "{section}"}
DATA_SUFFIXES = (".toml", ".yaml", ".yml", ".json")
DATE_KEYS = ("date", "publishdate", "pubdate", "published")
UPDATED_KEYS = ("lastmod", "modified", "updated")
USED_KEYS = {"title", *DATE_KEYS, *UPDATED_KEYS, "slug", "url", "aliases", "draft", "author", "authors",
             "categories", "tags", "summary", "description", "layout"}
# Hugo's path sanitizer keeps letters, digits, marks and these; spaces become hyphens, the rest goes.
PATH_KEEPS = set("./\\_#+~-@")


@dataclass(frozen=True, slots=True)
class HugoConfig:
    label: str                      # the config file, as errors name it
    title: str
    base_url: str                   # ends with "/"; "" when the config names none
    description: str
    language: str
    timezone: str
    permalinks: dict[str, str]      # section -> Hugo permalink pattern
    lower: bool                     # URLs lowercased (not disablePathToLower)
    ugly: bool                      # uglyURLs: /posts/x.html
    content_dir: str
    static_dirs: tuple[str, ...]
    data_dir: str
    author: dict[str, str]          # the site's author from the config, empty when none


@dataclass(slots=True)
class Source:
    """One content file as read, before its body is converted."""

    relative: str                   # path under content/, with forward slashes
    label: str
    front: FrontMatter              # as written (params keep their keys' case)
    meta: dict[str, Any]            # front matter with lower-case keys (Hugo's keys ignore case)
    lines: dict[str, int]           # lower-case key -> line
    bundle: str | None              # the bundle folder under content/ ("posts/x") for an index file
    html: bool = False
    cascaded: dict[str, Any] = field(default_factory=dict)  # what its sections' _index files give it
    article: Article | None = None


@dataclass(slots=True)
class Survey:
    contents: list[str] = field(default_factory=list)       # content files, under content/
    bundles: dict[str, list[str]] = field(default_factory=dict)  # bundle folder -> its files
    static: list[tuple[Path, str]] = field(default_factory=list)  # (file, path under the new site)
    intros: list[str] = field(default_factory=list)         # _index files
    skipped: Counter[str] = field(default_factory=Counter)
    notes: list[Note] = field(default_factory=list)


def read_hugo(src: Path) -> ImportedSite:
    """Read the Hugo site in `src`; bad front matter anywhere is one error listing every bad file."""
    config = read_config(src)
    tz = ZoneInfo(config.timezone)
    content = src / config.content_dir
    survey = survey_site(src, config)
    sources = read_sources(content, survey)
    imported = ImportedSite(settings={}, skipped=survey.skipped, notes=survey.notes)
    people = read_authors(src, config)
    static = {destination[len(STATIC_DIR) + 1:] for _, destination in survey.static}
    for source in sources:
        if is_unrendered(source):
            imported.skipped["headless pages (never rendered)"] += 1
        else:
            source.article = to_article(source, config, tz, people, static, imported)
    sources = [s for s in sources if s.article is not None]
    articles = [s.article for s in sources]
    permalink = choose_permalink(config.permalinks, [a for a in articles if not a.draft and a.layout != "page"], tz)
    imported.settings = site_settings(config.label, "baseURL", config.base_url, "", config.title, config.description,
                                      config.language, config.timezone, permalink, imported.notes)
    settle(articles, permalink, tz, imported.notes)
    convert_bodies(sources, ref_targets(sources, permalink, tz), imported)
    imported.articles = articles
    imported.files = list(survey.static) + bundle_files(sources, survey, content)
    imported.authors = {name: info for name, info in people.bios.items()
                        if info and any(name in a.authors for a in articles)}
    return imported


def is_unrendered(source: Source) -> bool:
    """A headless bundle, or `build: {render: never}`: Hugo never gave it a page of its own."""
    build = source.meta.get("_build") or source.meta.get("build")
    return source.meta.get("headless") is True or isinstance(build, dict) and build.get("render") in ("never", False)


def read_sources(content: Path, survey: Survey) -> list[Source]:
    """Every content file, with what its sections' _index files cascade onto it; the errors of all the
    files at once."""
    sources, errors, cascades = [], [], {}
    for relative in survey.intros:
        try:
            cascades[relative.rpartition("/")[0]] = read_intro(content, relative, survey)
        except SsgError as exc:
            errors += exc.errors
    for relative in survey.contents:
        try:
            sources.append(read_source(content, relative, survey))
        except SsgError as exc:
            errors += exc.errors
    if errors:
        raise SsgError(errors)
    for source in sources:
        folders = source.relative.split("/")[:-1]
        inherited: dict[str, Any] = {}
        for depth in range(len(folders) + 1):  # the outer section first, the nearest one wins
            inherited |= cascades.get("/".join(folders[:depth]), {})
        source.cascaded, source.meta = inherited, inherited | source.meta
    return sources


def convert_bodies(sources: list[Source], targets: dict[str, str], imported: ImportedSite) -> None:
    for source in sources:
        def note(line: int, message: str, label: str = source.label) -> None:
            imported.notes.append(Note(label, line, message))
        places = Places(source.front.body, source.front.body_line)
        body = convert_shortcodes(source.front.body, places, source.relative, targets, imported.remote, note)
        source.article.body = html_body(body) if source.html else body
        imported.remote += remote_images(body)


def bundle_files(sources: list[Source], survey: Survey, content: Path) -> list[tuple[Path, str]]:
    """The files of each page bundle, beside the article in its new folder."""
    files = []
    for source in sources:
        if source.bundle:
            folder = source.article.relative.rsplit("/", 1)[0]
            files += [(content / source.bundle / name, f"content/{folder}/{name}")
                      for name in survey.bundles[source.bundle]]
    return files


# --- the config ---------------------------------------------------------------------------------------

def read_config(src: Path) -> HugoConfig:
    if not src.is_dir():
        raise SsgError(SourceError(str(src), 0, "not a folder: give the Hugo site's folder (the one with hugo.toml)"))
    path = next((src / name for name in CONFIG_NAMES if (src / name).is_file()), None)
    folder = src / "config" / "_default"
    if path is None:
        path = next((folder / name for name in CONFIG_NAMES if (folder / name).is_file()), None)
    if path is None:
        raise SsgError(SourceError(str(src / "hugo.toml"), 0, "not found: is this a Hugo site? Its folder "
                                                              "holds hugo.toml, config.toml, hugo.yaml or "
                                                              "config/_default/"))
    label = str(path)
    data = _lower(read_data_file(path, label))
    if not isinstance(data, dict):
        raise SsgError(SourceError(label, 1, "the config must be a mapping of settings"))
    if path.parent == folder:  # config/_default/params.toml holds the `params` table, and so on
        for part in sorted(folder.iterdir()):
            if part.stem.lower() not in ("hugo", "config") and part.suffix.lower() in DATA_SUFFIXES:
                value = read_data_file(part, str(part))
                data.setdefault(part.stem.lower(), value if isinstance(value, dict) else {})
    lines = {k.lower(): v for k, v in key_lines(path).items()}
    params = _lower(data.get("params")) if isinstance(data.get("params"), dict) else {}
    base_url = str(data.get("baseurl") or "").strip()
    if base_url and not urls.is_reader_link(base_url, absolute=True):
        raise SsgError(SourceError(label, lines.get("baseurl", 1), f"'baseURL' must be like https://example.org/, "
                                                                    f"got {shown(base_url)}"))
    permalinks = data.get("permalinks") if isinstance(data.get("permalinks"), dict) else {}
    if isinstance(permalinks.get("page"), dict):  # Hugo 0.120's [permalinks.page] table
        permalinks = permalinks["page"]
    author = data.get("author") or params.get("author")
    if isinstance(author, str):
        author = {"name": author}
    author = {str(k).lower(): str(v).strip() for k, v in author.items() if isinstance(v, str)} \
        if isinstance(author, dict) else {}
    static = mounted(data, "static") or data.get("staticdir") or "static"
    language = str(data.get("languagecode") or data.get("defaultcontentlanguage") or "en")
    return HugoConfig(
        label=label, title=str(data.get("title") or src.resolve().name),
        base_url=(base_url.rstrip("/") + "/") if base_url else "",
        description=" ".join(str(params.get("description") or data.get("description") or "").split()),
        language=language, timezone=time_zone(data.get("timezone"), label, lines.get("timezone", 1)),
        permalinks={str(k).strip("/"): str(v) for k, v in permalinks.items() if isinstance(v, str)},
        lower=not data.get("disablepathtolower"), ugly=bool(data.get("uglyurls") is True),
        content_dir=str(mounted(data, "content") or _language_setting(data, "contentdir") or data.get("contentdir")
                        or "content"),
        static_dirs=tuple(str(s) for s in (static if isinstance(static, list) else [static])),
        data_dir=str(data.get("datadir") or "data"), author=author)


def mounted(data: dict[str, Any], target: str) -> str | None:
    """The folder a module mount puts at `target` ("content", "static"): the first one, which is the
    default language's in a multilingual site."""
    module = data.get("module") if isinstance(data.get("module"), dict) else {}
    for mount in module.get("mounts") or []:
        if isinstance(mount, dict) and str(mount.get("target", "")).strip("/") == target and mount.get("source"):
            return str(mount["source"])
    return None


def _language_setting(data: dict[str, Any], key: str) -> Any:
    """A setting of the default language: [languages.en] contentDir = "content/en"."""
    languages = _lower(data.get("languages")) if isinstance(data.get("languages"), dict) else {}
    default = str(data.get("defaultcontentlanguage") or "en").lower()
    return _lower(languages.get(default) or {}).get(key) if isinstance(languages.get(default), dict) else None


def _lower(data: Any) -> Any:
    """Hugo reads its settings and front matter keys whatever their case: baseURL is baseurl."""
    return {str(k).lower(): v for k, v in data.items()} if isinstance(data, dict) else data


# --- walking the site ---------------------------------------------------------------------------------

def survey_site(src: Path, config: HugoConfig) -> Survey:
    survey = Survey()
    site_root = os.path.realpath(src)
    content = src / config.content_dir
    for static in config.static_dirs:
        root = src / static
        for folder, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                path = Path(folder, name)
                if not name.startswith(".") and not is_unsafe(path, site_root, survey.notes, survey.skipped):
                    relative = Path(folder, name).relative_to(root).as_posix()
                    survey.static.append((Path(folder, name), f"{STATIC_DIR}/{relative}"))
    bundle: str | None = None
    for folder, dirnames, filenames in os.walk(content):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        here = Path(folder).relative_to(content).as_posix()
        here = "" if here == "." else here
        if bundle is not None and not (here == bundle or here.startswith(bundle + "/")):
            bundle = None
        index = next((n for n in BUNDLE_INDEXES if n in filenames), None)
        if bundle is None and index is not None and here \
                and not is_unsafe(content / here / index, site_root, survey.notes, survey.skipped):
            bundle = here
            survey.bundles[bundle] = []
            survey.contents.append(f"{here}/{index}")
        for name in sorted(filenames):
            relative = f"{here}/{name}" if here else name
            suffix = Path(name).suffix.lower()
            if bundle is not None and here == bundle and name == index:
                continue  # the bundle's page, checked above
            if name.startswith(".") or is_unsafe(content / relative, site_root, survey.notes, survey.skipped):
                continue
            if bundle is not None:
                if suffix in CONTENT_SUFFIXES:
                    survey.skipped["content files inside page bundles"] += 1
                    survey.notes.append(Note(str(content / relative), 0, "a page inside a page bundle is one of its "
                                                                         "resources in Hugo: left out"))
                else:
                    survey.bundles[bundle].append(relative[len(bundle) + 1:])
            elif name in BRANCH_INDEXES:
                survey.intros.append(relative)
            elif suffix in CONTENT_SUFFIXES:
                survey.contents.append(relative)
            elif suffix in OTHER_FORMATS:
                survey.skipped["content in other formats"] += 1
                survey.notes.append(Note(str(content / relative), 0, f"{suffix[1:]} content is not imported: "
                                                                     "convert it to Markdown first"))
            else:
                survey.static.append((content / relative, f"{STATIC_DIR}/{relative}"))  # Hugo publishes it there
    return survey


def read_intro(content: Path, relative: str, survey: Survey) -> dict[str, Any]:
    """A section's or the home page's _index file is no article: counted, and noted if it has text.
    Returns what its `cascade:` gives the pages below it (entries aimed at list pages left out)."""
    label = str(content / relative)
    front = split_front_matter(read_text(content / relative, label), label)
    survey.skipped["section intros (_index)"] += 1
    if front is None:
        return {}
    if front.body.strip():
        survey.notes.append(Note(label, front.body_line, "the section's intro text is not imported: this "
                                                         "generator's section pages have none"))
    cascade = _lower(front.data).get("cascade")
    entries = cascade if isinstance(cascade, list) else [cascade] if isinstance(cascade, dict) else []
    given: dict[str, Any] = {}
    for entry in (_lower(e) for e in entries if isinstance(e, dict)):
        target = _lower(entry.pop("_target", None) or entry.pop("target", None) or {})
        if not target.get("path") and "page" in str(target.get("kind") or "page"):
            given |= entry
    return given


def read_source(content: Path, relative: str, survey: Survey) -> Source:
    label = str(content / relative)
    text = read_text(content / relative, label)
    front = split_front_matter(text, label) or FrontMatter({}, {}, text, 1)
    folder, _, name = relative.rpartition("/")
    bundle = folder if name in BUNDLE_INDEXES and folder in survey.bundles else None
    return Source(relative, label, front, _lower(front.data), {k.lower(): v for k, v in front.lines.items()},
                  bundle, html=Path(name).suffix.lower() in HTML_SUFFIXES)


@dataclass(frozen=True, slots=True)
class People:
    names: dict[str, str]               # a key of data/authors -> the author's name
    bios: dict[str, dict[str, str]]     # name -> {bio, url}

    def name_of(self, written: str) -> str:
        if written in self.names:
            return self.names[written]
        slug = urls.slugify(written)
        return next((name for key, name in self.names.items() if urls.slugify(key) == slug), written)


def read_authors(src: Path, config: HugoConfig) -> People:
    """Authors from data/authors/<key>.yaml|toml|json or data/authors.yaml, and the config's author."""
    data_dir = src / config.data_dir
    entries: list[tuple[str, Any]] = []
    folder = data_dir / "authors"
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in DATA_SUFFIXES:
                entries.append((path.stem, read_data_file(path, str(path))))
    for suffix in DATA_SUFFIXES:
        path = data_dir / f"authors{suffix}"
        if path.is_file():
            data = read_data_file(path, str(path))
            entries += list(data.items()) if isinstance(data, dict) else []
    names_by_key: dict[str, str] = {}
    bios: dict[str, dict[str, str]] = {}
    for key, info in entries:
        info = _lower(info) if isinstance(info, dict) else {"name": info}
        display = str(info.get("name") or info.get("title") or key).strip()
        names_by_key[str(key)] = display
        bios[display] = _bio(info)
    if config.author.get("name"):
        bios.setdefault(config.author["name"], _bio(config.author))
    return People(names_by_key, bios)


def _bio(info: dict[str, Any]) -> dict[str, str]:
    bio = {}
    text = info.get("bio") or info.get("description") or info.get("summary")
    if isinstance(text, str) and text.strip():
        bio["bio"] = " ".join(text.split())
    link = next((info[k] for k in ("url", "website", "homepage", "link", "web") if isinstance(info.get(k), str)), "")
    if link and urls.is_reader_link(link.strip(), absolute=True):
        bio["url"] = link.strip()
    return bio


# --- one article ---------------------------------------------------------------------------------------

def to_article(source: Source, config: HugoConfig, tz: ZoneInfo, people: People, static: set[str],
               imported: ImportedSite) -> Article:
    meta, label, notes = source.meta, source.label, imported.notes
    parts = source.relative.split("/")
    container = parts[:-2] if source.bundle else parts[:-1]     # the folders above the page (or its bundle)
    stem = parts[-2] if source.bundle else Path(parts[-1]).stem
    page = not container or str(meta.get("type") or "").lower() in ("page", "pages")
    when = _date(source, page, tz, notes)
    default_section = section_name(container[0]) if container else "News"
    section, tags = section_and_tags(names(meta.get("categories")), names(meta.get("tags")), default_section,
                                     label, source.lines.get("categories", 1), notes)
    written_slug = str(meta.get("slug") or "").strip()
    slug = (urls.slugify(written_slug) if written_slug else slug_from_name(stem)) or "untitled"
    title = str(meta.get("title") or "").strip() or title_from_slug(stem)
    authors = tuple(people.name_of(a) for a in names(meta.get("authors")) or names(meta.get("author")))
    draft = meta.get("draft") is True
    used = set(USED_KEYS)
    old_urls: tuple[str, ...] = ()
    if not draft:  # a draft was never published: it has no old URL
        try:
            old_urls = (old_url(source, when, title, stem, written_slug, container, page, config),)
        except ValueError as exc:
            notes.append(Note(label, 1, f"{exc}: its old URL is not known, so no redirect is made"))
        old_urls += tuple(_alias(a, container) for a in names(meta.get("aliases")))
        # From the host's root, as a reader's browser asked for them: the writer takes the new site's
        # base path off, so an old /blog/x/ stays /x/ under the same base and /blog/x/ under another.
        base_path = urlsplit(config.base_url).path.rstrip("/")
        old_urls = tuple(base_path + url for url in old_urls)
    top = "pages" if page else urls.slugify(section)
    return Article(
        relative=f"{top}/{slug}/index.md" if source.bundle else f"{top}/{slug}.md", title=title, body="",
        source=label, slug=slug, section="News" if page else section, date=when,
        updated=next((to_datetime(meta[k], tz) for k in UPDATED_KEYS if meta.get(k) not in (None, "")), None),
        authors=tuple(dict.fromkeys(a for a in authors if urls.slugify(a))), tags=() if page else tags,
        summary=summary_of(meta, source.front.body), image=_image(source, static, imported, used), draft=draft,
        layout="page" if page else None, old_urls=old_urls,
        params=params_of({k: v for k, v in (source.cascaded | source.front.data).items()
                          if str(k).lower() not in used}, set()))


def _date(source: Source, page: bool, tz: ZoneInfo, notes: list[Note]) -> datetime | None:
    """`date`, else `publishDate` (Hugo's order); an article with neither is dated by its file's time."""
    for key in DATE_KEYS:
        if source.meta.get(key) not in (None, ""):
            when = to_datetime(source.meta[key], tz)
            if when is not None:
                return when
            notes.append(Note(source.label, source.lines.get(key, 1), f"'{key}' {shown(source.meta[key])} "
                                                                      "is no date: left out"))
    if page:
        return None
    notes.append(Note(source.label, 1, "no date: the file's modification time is used"))
    return datetime.fromtimestamp(Path(source.label).stat().st_mtime, tz)


def _image(source: Source, static: set[str], imported: ImportedSite, used: set[str]) -> dict[str, str] | str | None:
    """The lead image: a URL, a file of the page bundle, or a root path to a file of static/."""
    found = lead_image(source.meta, static, used, imported.remote,
                       in_bundle=lambda src: bool(source.bundle) and src in set(_bundle_files(source)))
    if found is None:
        return None
    key, src, image = found
    if image is None:
        imported.notes.append(Note(source.label, source.lines.get(key, 1), f"image {shown(src)} is neither in the "
                                                                            "page bundle nor in static/: left out"))
    return image


def _bundle_files(source: Source) -> list[str]:
    folder = Path(source.label).parent
    return [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()]


# --- old URLs ---------------------------------------------------------------------------------------

def old_url(source: Source, when: datetime | None, title: str, stem: str, slug: str, container: list[str],
            page: bool, config: HugoConfig) -> str:
    """The URL Hugo gave the page, relative to the site's root: `url:`, else the section's permalink
    pattern, else its folders and slug (or file name); escaped as Hugo escapes it."""
    written = str(source.meta.get("url") or "").strip()
    if written:
        return _escape("/" + urlsplit(written).path.lstrip("/"))
    section = container[0] if container else ""
    pattern = config.permalinks.get(section) if section and not page else None
    if pattern:
        return _escape(_expand(pattern, source, when, title, stem, slug, container, config))
    path = "/".join([*container, slug or stem])
    path = _sanitize(path, config.lower)
    return _escape("/" + path + (".html" if config.ugly else "/"))


def _sanitize(text: str, lower: bool) -> str:
    """Hugo's MakePathSanitized: letters, digits, marks and ./\\_#+~-@ kept, spaces to one hyphen."""
    out: list[str] = []
    hyphen = False
    for character in text:
        if character.isalnum() or character in PATH_KEEPS or character == "%":
            if hyphen and character != "-":
                out.append("-")
            hyphen = False
            out.append(character)
        elif character.isspace() and out and out[-1] != "-":
            hyphen = True
    result = "".join(out)
    return result.lower() if lower else result


def _expand(pattern: str, source: Source, when: datetime | None, title: str, stem: str, slug: str,
            container: list[str], config: HugoConfig) -> str:
    def urlize(text: str) -> str:
        return _sanitize(text, config.lower)
    values = {
        "title": urlize(title), "slug": urlize(slug) if slug else urlize(title),
        "slugorfilename": urlize(slug) if slug else urlize(stem), "filename": urlize(stem),
        "contentbasename": urlize(stem), "slugorcontentbasename": urlize(slug) if slug else urlize(stem),
        "section": container[0] if container else "", "sectionslug": urlize(container[0]) if container else "",
        "sections": "/".join(container), "sectionslugs": "/".join(urlize(c) for c in container),
    }
    if when is not None:
        values |= {"year": str(when.year), "month": f"{when.month:02d}", "day": f"{when.day:02d}",
                   "monthname": when.strftime("%B"), "weekday": str((when.weekday() + 1) % 7),
                   "weekdayname": when.strftime("%A"), "yearday": str(when.timetuple().tm_yday)}

    def fill(match: re.Match) -> str:
        if match.group(1) not in values:
            raise ValueError(f"the permalink token :{match.group(1)} is not one this import knows")
        return values[match.group(1)]
    path = re.sub(r":([a-z]+)", fill, pattern)
    return "/" + re.sub(r"/{2,}", "/", path).lstrip("/")


def _escape(path: str) -> str:
    """As Hugo's URLs carry it: non-ASCII letters percent-encoded, escapes already there kept."""
    return quote(path, safe="/%:@!$&'()*+,;=~-._#")


def _alias(alias: str, container: list[str]) -> str:
    """An alias as Hugo reads it: a path from the site's root, or relative to the content file's folder
    (posts/new.md's alias "old-path" is /posts/old-path/)."""
    alias = alias.strip()
    if alias.startswith("/") or is_remote(alias):
        return urlsplit(alias).path or "/"
    return posixpath.normpath(posixpath.join("/" + "/".join(container), alias)) + ("/" if alias.endswith("/") else "")


def choose_permalink(permalinks: dict[str, str], articles: list[Article], tz: ZoneInfo) -> str:
    """Hugo's default URLs are /section/slug/, as ours are; a section's permalink pattern this generator
    can say is a candidate too. The candidate that keeps most old URLs wins."""
    candidates = [DEFAULT_PERMALINK] + [c for pattern in permalinks.values() if (c := translate_permalink(pattern))]

    def kept(candidate: str) -> int:
        return sum(1 for a in articles if a.old_urls and not new_aliases(
            Article(a.relative, a.title, "", a.source, a.slug, a.section, a.date, old_urls=a.old_urls[:1]),
            candidate, tz))
    return max((kept(c), -index, c) for index, c in enumerate(candidates))[2]


def translate_permalink(pattern: str) -> str | None:
    missing = []

    def ours(match: re.Match) -> str:
        if match.group(1) in OURS:
            return OURS[match.group(1)]
        missing.append(match.group(1))
        return ""
    translated = "/" + re.sub(r":([a-z]+)", ours, pattern).lstrip("/")
    if missing or "{slug}" not in translated or translated.count("{") != translated.count("}"):
        return None
    return translated


# --- shortcodes in bodies ---------------------------------------------------------------------------

_SHORTCODE = re.compile(r"\{\{(<|%)(.*?)(>|%)\}\}", re.S)
_ARGUMENT = re.compile(r'(?:([\w-]+)=)?("(?:[^"\\]|\\.)*"|`[^`]*`|[^\s"`]+)')


def ref_targets(sources: list[Source], permalink: str, tz: ZoneInfo) -> dict[str, str]:
    """What `ref` and `relref` may name, with its new URL: a path under content/ (with or without its
    extension, a bundle by its folder), or a file name alone when only one file has it."""
    targets: dict[str, str] = {}
    by_name: dict[str, list[str]] = {}
    for source in sources:
        url = new_url(source.article, permalink, tz)
        keys = [source.relative, source.relative.rsplit(".", 1)[0]]
        if source.bundle:
            keys.append(source.bundle)
        for key in keys:
            targets[key] = url
        name = source.bundle.rsplit("/", 1)[-1] if source.bundle else source.relative.rsplit("/", 1)[-1]
        for key in {name, name.rsplit(".", 1)[0]}:
            by_name.setdefault(key, []).append(url)
    for name, found in by_name.items():
        if len(set(found)) == 1:
            targets.setdefault(name, found[0])
    return targets


def convert_shortcodes(body: str, places: Places, relative: str, targets: dict[str, str], remote: list[str],
                       note: Callable[[int, str], None]) -> str:
    """Convert figure, youtube, ref, relref and highlight; leave every other shortcode as written, each
    with a note at its line."""
    out: list[str] = []
    position = 0
    while (match := _SHORTCODE.search(body, position)):
        start = match.start()
        out.append(body[position:start])
        position = match.end()
        opener, inner, closer = match.groups()
        if inner.startswith("/*") and inner.endswith("*/"):
            out.append("{{" + opener + inner[2:-2] + closer + "}}")  # Hugo shows a commented shortcode as written
            continue
        if places.in_code(start) or closer != {"<": ">", "%": "%"}[opener]:
            out.append(match.group(0))
            continue
        name, arguments = _parse(inner)
        if name == "highlight":
            closing = re.compile(r"\{\{[<%]\s*/highlight\s*[>%]\}\}").search(body, position)
            if closing:
                before = "".join(out[-1:])
                language = arguments[0][1] if arguments else ""
                out.append(("" if not before or before.endswith("\n") else "\n")
                           + fence(language, body[position:closing.start()]))
                position = closing.end()
                continue
        replacement = _replacement(name, arguments, relative, targets, remote, "".join(out[-1:]), body[position:])
        if replacement is None:
            out.append(match.group(0))
            if not name.startswith("/"):
                reason = ("names no page of this site" if name in ("ref", "relref")
                          else "is a Hugo shortcode this import does not convert")
                note_left_as_it_is(note, places.line(start), match.group(0), reason)
        else:
            out.append(replacement)
    out.append(body[position:])
    return "".join(out)


def _parse(inner: str) -> tuple[str, list[tuple[str | None, str]]]:
    """A shortcode's name and its arguments as (name or None for positional, value)."""
    inner = inner.strip().rstrip("/").strip()
    name, _, rest = inner.partition(" ")
    arguments = []
    for key, value in _ARGUMENT.findall(rest):
        if value[:1] in ('"', "`"):
            value = value[1:-1].replace('\\"', '"') if value[0] == '"' else value[1:-1]
        arguments.append((key or None, value))
    return name.strip(), arguments


def _argument(arguments: list[tuple[str | None, str]], key: str, position: int | None = None) -> str:
    named = next((v for k, v in arguments if k == key), None)
    if named is not None:
        return named
    positional = [v for k, v in arguments if k is None]
    return positional[position] if position is not None and position < len(positional) else ""


def _replacement(name: str, arguments: list[tuple[str | None, str]], relative: str, targets: dict[str, str],
                 remote: list[str], before: str, after: str) -> str | None:
    if name == "figure":
        src = _argument(arguments, "src")
        if not src:
            return None
        if is_remote(src):
            remote.append(src)
        alt = _argument(arguments, "alt").replace("]", "\\]")
        caption = (_argument(arguments, "caption") or _argument(arguments, "title")).replace('"', "&quot;")
        image = f'![{alt}](<{src}> "{caption}")' if caption else f"![{alt}](<{src}>)"
        return as_block(before, image, after)
    if name == "youtube":
        video = _argument(arguments, "id", 0)
        if not re.fullmatch(r"[\w-]+", video):
            return None
        text = _argument(arguments, "title") or "Watch the video on YouTube"
        return as_block(before, f"[{text}](https://www.youtube.com/watch?v={video})", after)
    if name in ("ref", "relref"):
        target = _argument(arguments, "path", 0)
        path, _, anchor = target.partition("#")
        url = _resolve(path, relative, targets) if path else None
        return None if url is None else url + (f"#{anchor}" if anchor else "")
    return None


def _resolve(path: str, relative: str, targets: dict[str, str]) -> str | None:
    """Hugo's lookup: from the content root, then beside the page, then by the file name alone."""
    path = unquote(path)
    here = relative.rsplit("/", 1)[0] if "/" in relative else ""
    candidates = [path.lstrip("/"), posixpath.normpath(posixpath.join(here, path)), path.rsplit("/", 1)[-1]]
    for candidate in candidates:
        for key in (candidate, candidate.rstrip("/"), candidate.rsplit(".", 1)[0]):
            if key in targets:
                return targets[key]
    return None
