"""`ssg import wordpress`: read a WordPress export (WXR) into an ImportedSite.

The export is read with expat, the standard library's XML parser: it resolves no external entity, refuses
entity-expansion bombs, and this reader refuses entity declarations outright (WordPress never writes one).
Posts become articles, pages standalone pages, attachments the images they show; everything else is
counted as left out. Bodies go through html_markdown; files under the old wp-content/uploads are copied
from --uploads into static/, so their URLs stay the same."""
from __future__ import annotations

import html
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit
from xml.parsers import expat
from zoneinfo import ZoneInfo

from .. import urls
from ..errors import SourceError, SsgError
from .html_markdown import BodyContext, Picture, plain_text, text_before_more, wordpress_markdown
from .writer import STATIC_DIR, Article, ImportedSite, Note, settle

DEFAULT_PERMALINK = "/{section}/{slug}/"
UPLOADS = "/wp-content/uploads/"
SKIPPED_TYPES = {"nav_menu_item": "menu items", "revision": "revisions", "wp_block": "reusable blocks",
                 "custom_css": "custom CSS items", "customize_changeset": "customizer drafts",
                 "oembed_cache": "embed caches", "wp_navigation": "navigation menus",
                 "wp_template": "templates", "wp_template_part": "template parts", "wp_global_styles": "global styles"}
DRAFT_STATUSES = {"draft": "a draft", "pending": "pending review", "private": "private"}
# A permalink placeholder for each old URL segment it can stand for, most telling first.
PLACEHOLDERS = ("slug", "year", "month", "day", "section")


# --- the export, as read ---------------------------------------------------------------------------------

@dataclass(slots=True)
class Term:
    domain: str      # category, post_tag, post_format, author (Co-Authors Plus)...
    nicename: str
    name: str


@dataclass(slots=True)
class WxrItem:
    """One <item>: its fields by short name ("title", "wp:post_type"), the line of each, terms and meta."""

    line: int
    fields: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    terms: list[Term] = field(default_factory=list)
    meta: list[tuple[str, str]] = field(default_factory=list)
    comments: int = 0

    def get(self, name: str) -> str:
        return self.fields.get(name, "").strip()

    def line_of(self, name: str) -> int:
        return self.lines.get(name, self.line)

    @property
    def id(self) -> int:
        return _number(self.get("wp:post_id"))

    def meta_value(self, key: str) -> str:
        return next((value for k, value in self.meta if k == key), "")


@dataclass(slots=True)
class Wxr:
    channel: dict[str, str] = field(default_factory=dict)
    authors: dict[str, str] = field(default_factory=dict)       # login -> display name
    default_categories: set[str] = field(default_factory=set)   # nicenames of "Uncategorized" in any language
    items: list[WxrItem] = field(default_factory=list)


def _short_name(name: str) -> str:
    """expat's "uri}local" as the prefix an export uses: "wp:post_id", "content:encoded", "title"."""
    uri, separator, local = name.rpartition("}")
    if not separator:
        return local
    if uri.startswith(("http://wordpress.org/export/", "https://wordpress.org/export/")):  # WordPress.com: https
        return ("excerpt:" if uri.endswith("/excerpt/") else "wp:") + local
    prefix = {"http://purl.org/rss/1.0/modules/content/": "content", "http://purl.org/dc/elements/1.1/": "dc",
              "http://wellformedweb.org/CommentAPI/": "wfw"}.get(uri, uri)
    return f"{prefix}:{local}"


class _WxrReader:
    """Builds a Wxr from expat's events. WXR is flat (channel > item > field), so a stack of names and the
    text of the current element are all the state it needs."""

    def __init__(self, parser: Any, label: str):
        self.parser, self.label = parser, label
        self.wxr = Wxr()
        self.stack: list[str] = []
        self.text: list[str] = []
        self.item: WxrItem | None = None
        self.group: dict[str, str] = {}       # the fields of a wp:author, wp:category or wp:postmeta
        self.term_attrs: dict[str, str] = {}
        self.names: dict[str, str] = {}

    def start(self, name: str, attrs: dict[str, str]) -> None:
        name = self.names.get(name) or self.names.setdefault(name, _short_name(name))
        parent = self.stack[-1] if self.stack else ""
        self.stack.append(name)
        self.text = []
        if parent == "channel" and name == "item":
            self.item = WxrItem(line=self.parser.CurrentLineNumber)
        elif parent == "item" and self.item is not None:
            self.item.lines.setdefault(name, self.parser.CurrentLineNumber)
            if name == "category":
                self.term_attrs = attrs
        if name in ("wp:author", "wp:category", "wp:postmeta"):
            self.group = {}

    def end(self, name: str) -> None:
        name = self.stack.pop()
        parent = self.stack[-1] if self.stack else ""
        value = "".join(self.text)
        self.text = []
        item, wxr = self.item, self.wxr
        if parent == "item" and item is not None:
            if name == "category":
                item.terms.append(Term(self.term_attrs.get("domain", ""), self.term_attrs.get("nicename", ""), value))
            elif name == "wp:postmeta":
                item.meta.append((self.group.get("wp:meta_key", ""), self.group.get("wp:meta_value", "")))
            elif name == "wp:comment":
                item.comments += 1
            else:
                item.fields.setdefault(name, value)
        elif parent in ("wp:author", "wp:category", "wp:postmeta"):
            self.group[name] = value
        elif parent == "channel":
            if name == "item" and item is not None:
                wxr.items.append(item)
                self.item = None
            elif name == "wp:author":
                login = self.group.get("wp:author_login", "").strip()
                wxr.authors[login] = _text(self.group.get("wp:author_display_name", "")) or login
            elif name == "wp:category":
                if self.group.get("wp:term_id", "").strip() == "1":  # WordPress's default category
                    wxr.default_categories.add(self.group.get("wp:category_nicename", "").strip())
            else:
                wxr.channel.setdefault(name, value.strip())

    def data(self, text: str) -> None:
        self.text.append(text)

    def refuse_entities(self, name: str, *_: Any) -> None:
        raise SsgError(SourceError(self.label, self.parser.CurrentLineNumber,
                                   f"declares the entity '{name}': a WordPress export declares none, and "
                                   "entities are not expanded here (they can be used to exhaust memory)"))


def read_export(export: Path) -> Wxr:
    """Parse the WXR file; an unreadable or invalid file is an SsgError naming its line."""
    label = str(export)
    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)  # never load an external DTD
    reader = _WxrReader(parser, label)
    parser.StartElementHandler, parser.EndElementHandler = reader.start, reader.end
    parser.CharacterDataHandler = reader.data
    parser.EntityDeclHandler = reader.refuse_entities
    parser.buffer_text, parser.buffer_size = True, 1 << 16
    try:
        with export.open("rb") as stream:
            parser.ParseFile(stream)
    except OSError as exc:
        raise SsgError(SourceError(label, 0, f"cannot read the export: {exc.strerror or exc}")) from None
    except expat.ExpatError as exc:
        message = f"not a valid WordPress export: {expat.ErrorString(exc.code)} (column {exc.offset + 1})"
        raise SsgError(SourceError(label, exc.lineno, message)) from None
    wxr = reader.wxr
    if not wxr.items and "wp:wxr_version" not in wxr.channel:
        raise SsgError(SourceError(label, 1, "not a WordPress export: no <channel> with WordPress items; "
                                             "make one in WordPress under Tools > Export"))
    return wxr


# --- the old site ---------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class OldSite:
    base_url: str                 # "https://example.org/" or "https://example.org/blog/"
    hosts: frozenset[str]         # host names the site answered on, without "www."

    @property
    def base_path(self) -> str:
        return urlsplit(self.base_url).path.rstrip("/")

    def owns(self, url: str) -> bool:
        parts = urlsplit(url)
        if not parts.netloc:
            return not parts.scheme and url.startswith("/")
        return parts.scheme in ("http", "https", "") and _host(parts.netloc) in self.hosts

    def path_of(self, url: str) -> str:
        """The old URL relative to the site's root: "/2019/05/06/slug/", or "/?p=12" for plain permalinks."""
        parts = urlsplit(url)
        path = parts.path or "/"
        base = self.base_path
        if base and (path == base or path.startswith(base + "/")):
            path = path[len(base):] or "/"
        return path + (f"?{parts.query}" if parts.query else "")


def _page_key(path: str) -> str:
    """An old path as it is looked up: "/2019/05/a/b" and "/2019/05/a/b/" are one page; queries stay."""
    return path if "?" in path else urls.normalize_path(unquote(path))


def _host(netloc: str) -> str:
    return netloc.lower().removeprefix("www.")


def old_site_of(wxr: Wxr, label: str, notes: list[Note]) -> OldSite:
    channel = wxr.channel
    link = channel.get("link") or channel.get("wp:base_blog_url") or ""
    if not re.match(r"https?://[^/\s]+", link):
        notes.append(Note(label, 0, "the export names no site address (<link>): base_url is "
                                    "https://example.org/ in site.yaml, set yours"))
        link = "https://example.org/"
    hosts = {_host(urlsplit(u).netloc) for u in (link, channel.get("wp:base_site_url", ""),
                                                 channel.get("wp:base_blog_url", "")) if u}
    return OldSite(base_url=link.rstrip("/") + "/", hosts=frozenset(hosts - {""}))


# --- uploads ----------------------------------------------------------------------------------------------

@dataclass(slots=True)
class Uploads:
    """Maps URLs of the old site's uploads to files in the --uploads folder. Each file found is copied to
    static/wp-content/uploads/ (the build copies static/ to the output root, so the URL stays the same);
    what is not found, and images on other hosts, stay absolute URLs and are listed as remote."""

    folder: Path | None
    site: OldSite
    attachment_pages: dict[str, str] = field(default_factory=dict)  # old page of an upload -> the upload's URL
    files: dict[str, Path] = field(default_factory=dict)   # path under the new site -> source file
    remote: set[str] = field(default_factory=set)
    found: dict[str, str | None] = field(default_factory=dict)

    def relink(self, url: str, is_image: bool) -> str:
        """The URL to write in the new site: a root path ("/wp-content/uploads/...", "/2019/05/post/") for
        what the new site has, else the URL as it was."""
        url = html.unescape(url.strip())
        parts = urlsplit(url)
        if not self.site.owns(url):
            if is_image and parts.scheme in ("http", "https", ""):
                self.remote.add(url if parts.scheme else "https:" + url)
            return url
        at = parts.path.find(UPLOADS)
        if at < 0:
            path = self.site.path_of(url)
            upload = self.attachment_pages.get(_page_key(path))
            if upload is not None:  # WordPress's page for one image: the new site has only the image
                return self.relink(upload, is_image)
            # Another page of the old site: root-relative, so it works on any host (and `ssg check` sees it).
            return path + (f"#{parts.fragment}" if parts.fragment else "")
        relative = self.find(unquote(parts.path[at + len(UPLOADS):]))
        if relative is None:
            absolute = urljoin(self.site.base_url, url)
            self.remote.add(absolute)
            return absolute
        self.files[f"{STATIC_DIR}/wp-content/uploads/{relative}"] = self.folder / relative
        return UPLOADS + quote(relative)

    def find(self, relative: str) -> str | None:
        """The file under the uploads folder for "2019/05/a-300x200.jpg": that size if it was kept, else
        the original upload (resized copies are often left out of backups)."""
        if relative not in self.found:
            self.found[relative] = self._look_up(relative)
        return self.found[relative]

    def _look_up(self, relative: str) -> str | None:
        parts = relative.split("/")
        if self.folder is None or any(p in ("", ".", "..") for p in parts) or "\\" in relative or "\0" in relative:
            return None  # never a path outside the uploads folder
        if (self.folder / relative).is_file():
            return relative
        original = re.fullmatch(r"(.+?)(?:-\d+x\d+|-scaled)(\.\w+)", relative)
        if original and (self.folder / (original.group(1) + original.group(2))).is_file():
            return original.group(1) + original.group(2)
        return None


# --- dates and the site's settings ----------------------------------------------------------------------

def wp_time(text: str) -> datetime | None:
    """WordPress's "2019-05-06 12:00:00"; None for its "0000-00-00 00:00:00" (a draft never published)."""
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        return None


def offset_of(item: WxrItem) -> timedelta | None:
    """post_date minus post_date_gmt: the offset the post was written in, to the minute."""
    local, gmt = wp_time(item.get("wp:post_date")), wp_time(item.get("wp:post_date_gmt"))
    if local is None or gmt is None:
        return None
    return timedelta(minutes=round((local - gmt).total_seconds() / 60))


def choose_timezone(items: list[WxrItem]) -> tuple[str, str | None]:
    """The site's timezone: the one constant offset of the posts as a fixed zone, else UTC with a reason."""
    offsets = Counter(o for item in items if (o := offset_of(item)) is not None and abs(o) < timedelta(hours=15))
    if not offsets:
        return "UTC", None
    if len(offsets) == 1:
        offset = next(iter(offsets))
        hours, rest = divmod(offset.total_seconds(), 3600)
        if offset == timedelta(0):
            return "UTC", None
        if not rest and -12 <= hours <= 14:
            return f"Etc/GMT{-int(hours):+d}", None  # POSIX names count the other way: UTC+2 is Etc/GMT-2
        return "UTC", (f"posts were written at UTC{_offset_text(offset)}, which no fixed zone name holds: "
                       "timezone is UTC; set your zone (e.g. Asia/Kolkata) in site.yaml")
    shown = ", ".join(f"UTC{_offset_text(o)}" for o in sorted(offsets))
    return "UTC", (f"posts were written at several offsets ({shown}: daylight saving time?): timezone is UTC; "
                   "set your zone (e.g. Europe/Berlin) in site.yaml. Each date keeps its own offset.")


def _offset_text(offset: timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    return f"{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def item_date(item: WxrItem, tz: ZoneInfo) -> datetime | None:
    """The instant is the GMT date; its offset, the one the post was written in. A draft has no GMT date:
    its local date is taken in the site's timezone."""
    local = wp_time(item.get("wp:post_date"))
    offset = offset_of(item)
    if local is not None and offset is not None and abs(offset) < timedelta(hours=24):
        return local.replace(tzinfo=timezone(offset))
    if local is not None:
        return local.replace(tzinfo=tz)
    modified = wp_time(item.get("wp:post_modified"))
    return modified.replace(tzinfo=tz) if modified else None


def modified_date(item: WxrItem, tz: ZoneInfo) -> datetime | None:
    """When the post was last changed, with the offset it was changed in (as item_date)."""
    local, gmt = wp_time(item.get("wp:post_modified")), wp_time(item.get("wp:post_modified_gmt"))
    if local is None:
        return None
    offset = timedelta(minutes=round((local - gmt).total_seconds() / 60)) if gmt else None
    if offset is not None and abs(offset) < timedelta(hours=24):
        return local.replace(tzinfo=timezone(offset))
    return local.replace(tzinfo=tz)


def infer_permalink(posts: list[tuple[str, dict[str, str]]]) -> str:
    """The permalink pattern that gives every published post its old URL, if one does; else the default.

    `posts` are (old path, {slug, year, month, day, section} as the old site had them). Each old URL
    segment could be a literal or any placeholder whose value it equals; a segment must mean the same for
    every post, e.g. /%year%/%monthnum%/%postname%/ -> "/{year}/{month}/{slug}/"."""
    shape: list[set[str]] | None = None
    for path, values in posts:
        if "?" in path:
            return DEFAULT_PERMALINK  # plain permalinks (/?p=12): no pattern to keep
        segments = [unquote(s) for s in path.strip("/").split("/")]
        options = [_segment_options(s, values) for s in segments]
        if shape is None:
            shape = options
        elif len(shape) != len(options):
            return DEFAULT_PERMALINK
        else:
            shape = [a & b for a, b in zip(shape, options)]
        if not all(shape):
            return DEFAULT_PERMALINK
    if not shape:
        return DEFAULT_PERMALINK
    chosen = [min(s, key=lambda o: PLACEHOLDERS.index(o[1:-1].split("}")[0]) if o.startswith("{") else 99)
              for s in shape]
    if not any(c.startswith("{slug}") for c in chosen):
        return DEFAULT_PERMALINK
    return "/" + "/".join(chosen) + ("" if chosen[-1].endswith(".html") else "/")


def _segment_options(segment: str, values: dict[str, str]) -> set[str]:
    stem, html_suffix = (segment[:-5], ".html") if segment.endswith(".html") else (segment, "")
    options = {f"{{{name}}}{html_suffix}" for name in PLACEHOLDERS if values.get(name) == stem}
    if segment and not re.search(r"[{}]", segment) and segment not in (".", ".."):
        options.add(segment)
    return options


# --- items ----------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ExportIndex:
    """What converting one item needs from the rest of the export."""

    label: str
    site: OldSite
    tz: ZoneInfo
    authors: dict[str, str]
    pictures: dict[int, Picture]                 # attachment id -> image
    attached: dict[int, tuple[Picture, ...]]     # post id -> its attachments' images, in menu order
    reusable: dict[int, tuple[str, int]]         # wp_block id -> (content, line)
    default_categories: frozenset[str]
    uploads: Uploads


def index_export(wxr: Wxr, label: str, site: OldSite, tz: ZoneInfo, uploads: Uploads) -> ExportIndex:
    pictures, children = {}, defaultdict(list)
    reusable = {}
    for item in wxr.items:
        kind = item.get("wp:post_type")
        if kind == "attachment":
            url = item.get("wp:attachment_url") or item.get("guid")
            picture = Picture(url=url, alt=_text(item.meta_value("_wp_attachment_image_alt")),
                              caption=plain_text(item.fields.get("excerpt:encoded", "")))
            pictures[item.id] = picture
            if url:
                uploads.attachment_pages[f"/?attachment_id={item.id}"] = url
                if item.get("link"):
                    uploads.attachment_pages[_page_key(site.path_of(item.get("link")))] = url
            parent = _number(item.get("wp:post_parent"))
            if parent and _is_image(url):
                children[parent].append((_number(item.get("wp:menu_order")), item.id, picture))
        elif kind == "wp_block":
            reusable[item.id] = (item.fields.get("content:encoded", ""), item.line_of("content:encoded"))
    return ExportIndex(label=label, site=site, tz=tz, authors=wxr.authors, pictures=pictures,
                       attached={k: tuple(p for _, _, p in sorted(v)) for k, v in children.items()},
                       reusable=reusable, default_categories=frozenset(wxr.default_categories | {"uncategorized"}),
                       uploads=uploads)


def _is_image(url: str) -> bool:
    return bool(re.search(r"\.(?:jpe?g|png|gif|webp|avif|svg)$", urlsplit(url).path, re.I))


def convert_item(item: WxrItem, index: ExportIndex, notes: list[Note]) -> Article | None:
    """A post or page as an Article; None when it cannot be dated (noted)."""
    label = index.label
    is_page = item.get("wp:post_type") == "page"
    status = item.get("wp:status")
    title = _text(item.fields.get("title", ""))
    slug = _slug(item.get("wp:post_name"))
    date = item_date(item, index.tz)
    if date is None:
        notes.append(Note(label, item.line_of("wp:post_date"), f"'{title or slug}' has no date: left out"))
        return None
    if not title:
        title = slug.replace("-", " ").capitalize() if slug else f"Untitled, {date:%Y-%m-%d}"
        notes.append(Note(label, item.line_of("title"), f"a {'page' if is_page else 'post'} without a title: "
                                                        f"titled '{title}'"))
    slug = slug or urls.slugify(title) or f"post-{item.id}"

    draft = status in DRAFT_STATUSES or bool(item.get("wp:post_password"))
    if item.get("wp:post_password"):
        notes.append(Note(label, item.line_of("wp:post_password"), f"'{title}' was protected by a password: imported "
                                                                  "as a draft (a static page has no password)"))
    elif status in ("pending", "private"):
        notes.append(Note(label, item.line_of("wp:status"), f"'{title}' was {DRAFT_STATUSES[status]}: imported "
                                                            "as a draft"))
    elif status == "future":
        notes.append(Note(label, item.line_of("wp:status"), f"'{title}' is scheduled for {date.isoformat()}: "
                                                            "the first build after that time publishes it"))
    elif status not in ("publish", "draft"):
        draft = True
        notes.append(Note(label, item.line_of("wp:status"), f"'{title}' has the status '{status}': imported "
                                                            "as a draft"))

    categories = [t for t in item.terms if t.domain == "category"]
    sections = [t for t in categories if t.nicename not in index.default_categories]
    section = _text(sections[0].name) if sections else "News"
    if not urls.slugify(section):
        section = "News"
    post_tags = [_text(t.name) for t in item.terms if t.domain == "post_tag"]
    tags = _unique([_text(t.name) for t in sections[1:]] + post_tags)

    content = item.fields.get("content:encoded", "")
    body = wordpress_markdown(content, BodyContext(
        path=label, line=item.line_of("content:encoded"),
        relink=lambda url, is_image: urls.link(index.site.base_path, index.uploads.relink(url, is_image)),
        attachment=index.pictures.get, attached=index.attached.get(item.id, ()),
        reusable=index.reusable.get))
    notes.extend(body.notes)
    summary = plain_text(item.fields.get("excerpt:encoded", "")) or plain_text(text_before_more(content))

    old_urls = ()
    if status == "publish" and item.get("link"):
        old_urls = (index.site.base_path + index.site.path_of(item.get("link")),)  # from the host's root
    relative = f"pages/{slug}.md" if is_page else f"{urls.slugify(section)}/{slug}.md"
    return Article(
        relative=relative, title=title, body=body.markdown, source=f"{label}:{item.line}", slug=slug,
        section=section, date=date, updated=_later(modified_date(item, index.tz), date),
        authors=_authors(item, index.authors), tags=tags, summary=summary, image=featured_image(item, index),
        draft=draft, layout="page" if is_page else None, old_urls=old_urls, params=params_of(item))


def _text(value: str) -> str:
    """A title or name as text: WordPress stores them with HTML entities, sometimes with tags."""
    return " ".join(html.unescape(re.sub(r"<[^>]*>", "", value)).split())


def _slug(post_name: str) -> str:
    """post_name is stored percent-escaped ("caf%c3%a9"): decoded once it is the slug the reader saw."""
    slug = unquote(post_name.strip())
    return "" if "/" in slug or "\\" in slug or slug in (".", "..") else slug


def _number(text: str) -> int:
    return int(text) if text.strip().isdigit() else 0


def _unique(names: list[str]) -> tuple[str, ...]:
    """Names once each: two that make the same URL slug ("COVID-19", "Covid 19") are one tag."""
    seen: dict[str, str] = {}
    for name in names:
        key = urls.slugify(name)
        if key and key not in seen:
            seen[key] = name
    return tuple(seen.values())


def _later(updated: datetime | None, date: datetime) -> datetime | None:
    return updated if updated is not None and updated > date else None


def _authors(item: WxrItem, authors: dict[str, str]) -> tuple[str, ...]:
    """The author's display name; Co-Authors Plus lists its authors as terms of the "author" domain."""
    names = [_text(t.name) for t in item.terms if t.domain == "author"]
    login = item.get("dc:creator")
    if not names and login:
        names = [authors.get(login) or login]
    return tuple(name for name in _unique(names))


def featured_image(item: WxrItem, index: ExportIndex) -> dict[str, str] | None:
    picture = index.pictures.get(_number(item.meta_value("_thumbnail_id")))
    if picture is None or not picture.url:
        return None
    image = {"src": index.uploads.relink(picture.url, True), "alt": picture.alt, "caption": picture.caption}
    return {key: value for key, value in image.items() if value}


def params_of(item: WxrItem) -> dict[str, Any]:
    """What a template might still want: the WordPress id and guid, sticky, comment status, post format,
    and the custom fields (meta keys without the "_" WordPress and plugins use for their own)."""
    params: dict[str, Any] = {}
    for key, value in item.meta:
        if key and not key.startswith("_"):
            if key in params:
                params[key] = (params[key] if isinstance(params[key], list) else [params[key]]) + [value]
            else:
                params[key] = value
    params["wordpress_id"] = item.id
    if item.get("guid"):
        params["guid"] = item.get("guid")
    if item.get("wp:is_sticky") == "1":
        params["sticky"] = True
    if item.get("wp:comment_status"):
        params["comment_status"] = item.get("wp:comment_status")
    formats = [t.nicename.removeprefix("post-format-") for t in item.terms if t.domain == "post_format"]
    if formats:
        params["format"] = formats[0]
    return params


# --- the whole import -----------------------------------------------------------------------------------

def read_wordpress(export: Path, uploads: Path | None) -> ImportedSite:
    """Read a WXR export (and the files its posts use from `uploads`) into an ImportedSite."""
    label = str(export)
    if uploads is not None and not uploads.is_dir():
        raise SsgError(SourceError(str(uploads), 0, "--uploads must be the old site's wp-content/uploads folder"))
    wxr = read_export(export)
    notes: list[Note] = []
    site = old_site_of(wxr, label, notes)
    skipped: Counter[str] = Counter()
    chosen: list[WxrItem] = []
    for item in wxr.items:
        kind, status = item.get("wp:post_type"), item.get("wp:status")
        skipped["comments"] += item.comments
        if kind not in ("post", "page"):
            if kind != "attachment":
                skipped[SKIPPED_TYPES.get(kind, f"'{kind}' items")] += 1
        elif status == "trash":
            skipped[f"trashed {kind}s"] += 1
        elif status in ("auto-draft", "inherit"):
            skipped["automatic drafts"] += 1
        else:
            chosen.append(item)
    if not skipped["comments"]:
        del skipped["comments"]

    timezone_name, timezone_note = choose_timezone(chosen)
    if timezone_note:
        notes.append(Note(label, 0, timezone_note))
    tz = ZoneInfo(timezone_name)
    files = Uploads(folder=uploads.resolve() if uploads else None, site=site)
    index = index_export(wxr, label, site, tz, files)
    converted = [(item, a) for item in chosen if (a := convert_item(item, index, notes)) is not None]
    articles = [article for _, article in converted]

    published = [(item, article) for item, article in converted
                 if item.get("wp:post_type") == "post" and article.old_urls]
    permalink = infer_permalink([(site.path_of(article.old_urls[0]), _url_values(item, article))
                                 for item, article in published])
    settle(articles, permalink, tz, notes)

    left_behind = [url for url in files.remote if UPLOADS in url and site.owns(url)]
    if uploads is None and left_behind:
        notes.append(Note(label, 0, f"{len(left_behind)} uploaded files the posts use stay on the old site: run "
                                    "again with --uploads DIR (its wp-content/uploads folder) to copy them"))
    channel = wxr.channel
    settings = {"title": _text(channel.get("title", "")) or urlsplit(site.base_url).netloc,
                "base_url": site.base_url, "description": _text(channel.get("description", "")),
                "language": channel.get("language", "").strip(), "timezone": timezone_name, "permalink": permalink}
    settings = {key: value for key, value in settings.items() if value}
    authors = {name: {} for article in articles for name in article.authors}
    copies = sorted((source, target) for target, source in files.files.items())
    return ImportedSite(settings=settings, articles=articles, files=copies, authors=dict(sorted(authors.items())),
                        notes=notes, remote=sorted(files.remote), skipped=skipped)


def _url_values(item: WxrItem, article: Article) -> dict[str, str]:
    """What each permalink placeholder stood for on the old site: WordPress used the local date."""
    local = wp_time(item.get("wp:post_date")) or article.date
    return {"slug": article.slug, "section": urls.slugify(article.section), "year": f"{local.year:04d}",
            "month": f"{local.month:02d}", "day": f"{local.day:02d}"}
