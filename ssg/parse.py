"""Turn one Markdown file into a Document: split and validate the front matter, render the body."""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date as Date, datetime, time, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from . import urls

from .errors import SourceError, SsgError
from .config import ACCESS_LEVELS
from .images import BODY_SIZES, ImageSettings, Variants, to_picture, variants_of
from .markup import DocumentContext, MarkdownRenderer, image_size
from .model import Document, Image
from .safe_yaml import clip, load_yaml, shown
from .sources import bundle_of, is_bundle_index

FRONT_MATTER_KEYS = ("title", "date", "author", "authors", "section", "tags", "summary", "image", "slug",
                     "draft", "metered", "access", "updated", "aliases", "layout", "params")
IMAGE_KEYS = ("src", "alt", "caption", "credit")
# Keys other generators read, and what this one calls them: an archive brought from Jekyll, Hugo or
# WordPress uses them everywhere, and an edit-distance guess ("description" -> "section") would mislead.
FOREIGN_KEYS = {
    "description": "'summary'", "excerpt": "'summary'", "categories": "'tags' (and 'section' for the first)",
    "category": "'section'", "lastmod": "'updated'", "last_modified_at": "'updated'", "modified": "'updated'",
    "published": "'draft: true' (for 'published: false')", "redirect_from": "'aliases'",
    "permalink": "'slug' (the URL pattern is site.yaml's 'permalink')", "url": "'slug' (and 'aliases' for old URLs)",
    "tag": "'tags'", "publishDate": "'date'", "featured_image": "'image'", "cover": "'image'",
}
# The build works out times around a date (the news sitemap keeps an article for 48 hours), so a date
# keeps a week clear of the ends of Python's calendar, in any time zone.
DATE_RANGE = (datetime(1, 1, 8, tzinfo=timezone.utc), datetime(9999, 12, 24, tzinfo=timezone.utc))


@dataclass(frozen=True, slots=True)
class ParseSettings:
    """The part of the site's settings that shapes a parsed document (sent to worker processes)."""

    content_dir: Path
    content_label: str              # how paths are shown in errors, e.g. "content"
    timezone: str
    permalink: str
    teaser_paragraphs: int | None   # None when the site has no meter
    layouts: frozenset[str]         # templates a document may name in `layout:`
    documents: frozenset[str]       # every Markdown file, to know which folders are page bundles
    assets: frozenset[str]          # every other file under content/, as discover_sources found them
    base_path: str = ""             # base_url's path ("" or "/project"): links in bodies live under it
    signed_in: bool = False         # readers can sign in (site.yaml has `access:` and a meter)
    images: ImageSettings | None = None  # resized copies of local images; None: `images: false`

    def digest(self) -> str:
        return (f"{self.timezone}|{self.permalink}|{self.teaser_paragraphs}|{sorted(self.layouts)}|{self.base_path}"
                f"|{self.signed_in}|{self.images.digest() if self.images else None}")


class _Invalid(Exception):
    def __init__(self, key: str, message: str):
        self.key, self.message = key, message


def parse_document(relative: str, raw: bytes, settings: ParseSettings,
                   renderer: MarkdownRenderer) -> tuple[Document | None, list[SourceError]]:
    """Parse content/<relative>; return the document or every error found in it."""
    label = f"{settings.content_label}/{relative}"
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [SourceError(label, 1, f"not UTF-8 text ({exc.reason} at byte {exc.start})")]
    front, body, body_line = split_front_matter(text)
    if front is None:
        return None, [SourceError(label, 1, "missing front matter: start the file with a '---' line, "
                                            "then 'title: ...', then another '---' line")]
    try:
        loaded = load_yaml(front, label, first_line=2, what="YAML in front matter")
    except SsgError as exc:
        return None, exc.errors
    meta = loaded.data if loaded.data is not None else {}
    if not isinstance(meta, dict):
        return None, [SourceError(label, 2, "front matter must be 'key: value' lines")]

    fields = _FieldReader(meta, label, loaded.lines)
    document = fields.document(relative, body, settings, renderer)
    if fields.errors:
        return None, fields.errors
    return document, []


def split_front_matter(text: str) -> tuple[str | None, str, int]:
    """Return (front matter, body, line number where the body starts)."""
    match = re.match(r"---[ \t]*\r?\n(.*?)(?:^|\n)---[ \t]*(?:\r?\n|$)", text, re.S)
    if not match:
        return None, text, 1
    front = match.group(1)
    return front, text[match.end():], front.count("\n") + 3


class _FieldReader:
    """Reads and checks front matter fields, collecting errors with the line of each bad key."""

    def __init__(self, meta: dict, label: str, lines: dict[str, int]):
        self.meta, self.label, self.lines = meta, label, lines
        self.errors: list[SourceError] = []

    def line_of(self, key: str) -> int:
        """Line of a top-level key in the file, or 1 for a key that is missing."""
        return self.lines.get(key, 1)

    def fail(self, key: str, message: str) -> None:
        self.errors.append(SourceError(self.label, self.line_of(key), clip(message)))

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = None, describe: str = "") -> Any:
        value = self.meta.get(key, default)
        if value is not None and not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            self.fail(key, f"'{key}' must be {describe}, got {shown(value)}")
            return default
        return value

    def text(self, key: str, default: str = "") -> str:
        value = self.meta.get(key, default)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)  # a title like 1984 is text to the reader
        if not isinstance(value, str):
            self.fail(key, f"'{key}' must be text, got {shown(value)}")
            return default
        return value.strip()

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.meta.get(key, [])
        if value is None:
            value = []  # `author:` left empty, as `ssg new` writes it
        elif isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
            self.fail(key, f"'{key}' must be a list like [a, b], got {shown(value)}")
            return ()
        return tuple(str(v).strip() for v in value if str(v).strip())

    def check_named(self, key: str, names: tuple[str, ...]) -> None:
        """Sections, tags and authors get a page at a URL made from their name, so it needs a letter or digit."""
        for name in names:
            if not urls.slugify(name):
                self.fail(key, f"'{key}' value {shown(name)} needs a letter or digit to make its page's URL")

    def when(self, key: str, tz: ZoneInfo, required: bool) -> datetime | None:
        value = self.meta.get(key)
        if value is None:
            if required:
                self.fail(key, f"'{key}' is required for articles: add a line like "
                               f"'{key}: 2026-11-20 09:30' (or 'layout: page' for a standalone page)")
            return None
        parsed = parse_date(value, tz)
        written = value.isoformat() if isinstance(value, Date) else value
        if parsed is None and not (isinstance(value, Date) or _is_iso_date(value)):
            self.fail(key, f"'{key}' must be a date like 2026-11-20 or 2026-11-20 09:30, got {shown(written)}")
        elif parsed is None or not DATE_RANGE[0] <= parsed <= DATE_RANGE[1]:
            self.fail(key, f"'{key}' must be a date between the years 1 and 9999, with a week to spare once "
                           f"time zones apply, got {shown(written)}")
            return None
        return parsed

    def document(self, relative: str, body: str, settings: ParseSettings,
                 renderer: MarkdownRenderer) -> Document | None:
        meta = self.meta
        for key in meta:
            if key not in FRONT_MATTER_KEYS:
                self.fail(str(key), unknown_key(str(key)))
        title = self.text("title")
        if not title:
            self.fail("title", "'title' is required: add a line like 'title: \"Headline\"'")
        parts = relative.split("/")
        in_pages = parts[0] == "pages" and len(parts) > 1
        layout = self.text("layout", "page" if in_pages else "article") or "article"
        if layout not in settings.layouts:
            self.fail("layout", f"unknown layout '{layout}': the theme has no template {layout}.html "
                                f"(available: {', '.join(sorted(settings.layouts))})")
        kind = "page" if layout == "page" or in_pages else "article"
        tz = ZoneInfo(settings.timezone)
        when = self.when("date", tz, required=kind == "article")
        updated = self.when("updated", tz, required=False)

        if "author" in meta and "authors" in meta:
            self.fail("authors", "use either 'author' or 'authors', not both")
        authors = self.strings("authors") if "authors" in meta else self.strings("author")
        self.check_named("authors" if "authors" in meta else "author", authors)

        folder_parts = parts[:-2] if is_bundle_index(relative) else parts[:-1]
        default_section = folder_parts[0].replace("-", " ").replace("_", " ").title() if folder_parts else "News"
        section = self.text("section", default_section) or default_section
        section_slug = urls.slugify(section)
        self.check_named("section", (section,))

        stem = parts[-2] if is_bundle_index(relative) and len(parts) > 1 else parts[-1].rsplit(".", 1)[0]
        # Jekyll and WordPress keep escapes like "%e2%80%93" in file names and slugs; decoded once, as
        # Jekyll does, the page is served at the URL a reader's browser asks for.
        slug = unquote(self.text("slug")) or urls.slugify(unquote(stem))
        if not slug or "/" in slug or "\\" in slug or slug in (".", ".."):
            self.fail("slug", f"'slug' must be one URL segment with no '/' or '..', got {shown(slug)}")
            slug = urls.slugify(stem) or "untitled"

        if kind == "article":
            path = urls.article_path(settings.permalink, section_slug, slug, when)
        else:
            path = urls.page_path(slug)
        if not urls.is_safe_path(path):
            self.fail("slug", f"the URL {shown(path)} would leave the output folder")

        aliases = self.strings("aliases")
        for alias in aliases:
            # is_reader_link refuses "//host" and "/x\tjavascript:", which normalize_path would hide.
            inside = alias.startswith("/") and urls.is_reader_link(alias) and urls.is_safe_path(urls.normalize_path(alias))
            if not inside:
                self.fail("aliases", f"alias {shown(alias)} must be a path inside the site starting with '/', "
                                     "like /2026/11/old-slug/")
            elif "?" in alias and not urls.query_alias(alias):
                self.fail("aliases", f"alias {shown(alias)} has a query a static host cannot tell apart: an old "
                                     "URL with a query must be one name and value, like /?p=123 or /?page_id=7")
        aliases = tuple(alias if "?" in alias else urls.normalize_path(alias) for alias in aliases)

        draft = self.get("draft", bool, False, "true or false")
        access = self.access(kind, settings.signed_in)
        params = self.get("params", dict, {}, "a mapping of custom fields")
        tags = self.strings("tags")
        self.check_named("tags", tags)
        summary = self.text("summary")

        folder = settings.content_dir / "/".join(parts[:-1])
        bundle = "/".join(parts[:-1]) + "/" if is_bundle_index(relative) else None

        def url_of(target: Path) -> str | None:
            try:
                inside = target.resolve().relative_to(settings.content_dir.resolve()).as_posix()
                if not target.is_file():
                    return None
            except (ValueError, OSError):  # outside content/ (never copied, never linked), or a name too long to exist
                return None
            if bundle and inside.startswith(bundle):
                return path + inside[len(bundle):]
            if bundle_of(inside, settings.documents):
                return None  # another article's bundle: its URL is not known here
            return "/" + inside

        made: list[str] = []  # output files of the resized copies this document uses

        def variants(target: Path) -> Variants | None:
            found = variants_of(target, settings.images) if settings.images else None
            made.extend(found.files if found else ())
            return found

        def picture(img, target: Path) -> bool:
            found = variants(target)
            if found:
                to_picture(img, found, settings.base_path, BODY_SIZES)
            return found is not None

        image = self.image(folder, url_of, variants)
        if self.errors:
            return None
        rendered = renderer.render(body, DocumentContext(
            folder=folder, url_of=lambda target: settings.base_path + url if (url := url_of(target)) else None,
            teaser_paragraphs=settings.teaser_paragraphs if access != "free" else None,
            picture=picture if settings.images else None))
        assets = ()
        if bundle:
            assets = tuple((name, path + name[len(bundle):]) for name in sorted(settings.assets)
                           if bundle_of(name, settings.documents) == relative)
        return Document(
            source=self.label, relative=relative, kind=kind, layout=layout, title=title, date=when, updated=updated,
            authors=authors, section=section, section_slug=section_slug, tags=tags, summary=summary,
            image=image, slug=slug, path=path, aliases=aliases, draft=draft, access=access,
            body=rendered.html, toc=rendered.toc, params=params, assets=assets, digest="",
            source_line=self.line_of("slug") if "slug" in meta else self.line_of("title"),
            made_images=tuple(dict.fromkeys(made)),
        )

    def access(self, kind: str, signed_in: bool) -> str:
        """Who may read it in full: `access:`, or the older `metered: false` (free). Pages are always free."""
        if "access" in self.meta and "metered" in self.meta:
            self.fail("metered", "use 'access' alone ('metered: false' is the older spelling of 'access: free')")
        if "metered" in self.meta:
            return "metered" if self.get("metered", bool, True, "true or false") and kind == "article" else "free"
        level = self.get("access", str, "metered" if kind == "article" else "free", "a word")
        if level not in ACCESS_LEVELS:
            self.fail("access", f"'access' must be {', '.join(ACCESS_LEVELS)}, got {shown(level)}")
            return "free"
        if kind != "article" and level != "free":
            self.fail("access", "pages are always free; only articles take 'access'")
        elif level in ("registered", "subscribers") and not signed_in:
            self.fail("access", f"'access: {level}' needs readers who can sign in: add 'access:' (issuer and keys) "
                                "and a 'meter:' to site.yaml")
        return level if kind == "article" else "free"

    def image(self, folder: Path, url_of, variants) -> Image | None:
        value = self.meta.get("image")
        if value is None:
            return None
        if isinstance(value, str):
            value = {"src": value}
        if not isinstance(value, dict):
            self.fail("image", "'image' must be a file name or {src, alt, caption, credit}")
            return None
        for key in value:
            if key not in IMAGE_KEYS:
                self.fail("image", f"unknown key 'image.{key}' (use {', '.join(IMAGE_KEYS)})")
        src = value.get("src")
        if not isinstance(src, str) or not src.strip():
            self.fail("image", "'image.src' is required: the image file, relative to the article's folder")
            return None
        texts = {k: str(value.get(k) or "") for k in ("alt", "caption", "credit")}
        if re.match(r"^https?://", src):
            return Image(url=src, **texts)
        target = folder / src if not src.startswith("/") else None
        url = url_of(target) if target is not None else src
        if url is None:
            self.fail("image", f"image file '{src}' not found next to the article")
            return None
        found = variants(target) if target is not None else None
        if found:
            return Image(url=url, width=found.width, height=found.height, **texts,
                         srcset=tuple(("/" + name, width) for name, width in found.fallback),
                         webp=tuple(("/" + name, width) for name, width in found.webp))
        size = image_size(target) if target is not None else None
        return Image(url=url, width=size[0] if size else None, height=size[1] if size else None, **texts)


def unknown_key(key: str) -> str:
    """The message for a front matter key this generator does not read, with the key it does read."""
    if key in FOREIGN_KEYS:
        return (f"unknown front matter key '{key}': here it is {FOREIGN_KEYS[key]}; to convert a whole site "
                "from Jekyll, Hugo or WordPress, run `ssg import`")
    hint = difflib.get_close_matches(key, FRONT_MATTER_KEYS, n=1, cutoff=0.8)
    return f"unknown front matter key '{key}'" + (f" (did you mean '{hint[0]}'?)" if hint else
                                                 "; put custom fields under 'params:'")


def _is_iso_date(value: Any) -> bool:
    try:
        datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return False
    return True


def parse_date(value: Any, tz: ZoneInfo) -> datetime | None:
    """Dates without an offset are in the site's zone; a bare date is midnight there, never the day before."""
    if isinstance(value, datetime):
        try:
            return value.replace(tzinfo=tz) if value.tzinfo is None else value.astimezone(tz)
        except OverflowError:  # 9999-12-31T23:59-12:00 is in year 10000 in UTC
            return None
    if isinstance(value, Date):
        return datetime.combine(value, time(0, 0), tzinfo=tz)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        return parse_date(parsed, tz)
    return None


