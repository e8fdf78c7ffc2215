"""What the Jekyll and Hugo importers share: foreign front matter (YAML, TOML or JSON), dates, and the
mapping of their keys (categories, tags, excerpts, images, extra fields) onto this generator's article."""
from __future__ import annotations

import json
import re
import tomllib
from collections import Counter
from dataclasses import dataclass
from datetime import date as Date, datetime, time
from html import escape
from pathlib import Path
from typing import Any, Callable
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bs4 import BeautifulSoup, Comment, NavigableString, Tag

from .. import urls
from ..errors import SourceError, SsgError
from ..folders import unsafe_entry
from ..safe_yaml import clip, load_yaml, shown
from .writer import Note

MARKUP_SUFFIXES = (".md", ".markdown", ".mkdown", ".mkd", ".mdown", ".mkdn")
HTML_SUFFIXES = (".html", ".htm")
MORE = "<!--more-->"                      # the excerpt separator both generators know
# The URLs the build itself writes whatever the content (home, 404, feeds, sitemaps, the account page).
IMAGE_KEYS = ("image", "feature_image", "featured_image", "cover", "header", "images")


@dataclass(frozen=True, slots=True)
class FrontMatter:
    data: dict[str, Any]
    lines: dict[str, int]   # top-level key -> its line in the file (1 when unknown)
    body: str
    body_line: int          # the file's line where the body starts

    def line_of(self, key: str) -> int:
        return self.lines.get(key, 1)


# --- reading files ------------------------------------------------------------------------------------

_YAML_FENCE = re.compile(r"---[ \t]*\r?\n(.*?)(?:^|\n)(?:---|\.\.\.)[ \t]*(?:\r?\n|$)", re.S)
_TOML_FENCE = re.compile(r"\+\+\+[ \t]*\r?\n(.*?)(?:^|\n)\+\+\+[ \t]*(?:\r?\n|$)", re.S)


def read_text(path: Path, label: str) -> str:
    """A source file as text; an unreadable or non-UTF-8 file is an error naming it."""
    try:
        return path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise SsgError(SourceError(label, 0, f"cannot be read ({exc.strerror or exc})")) from None
    except UnicodeDecodeError as exc:
        raise SsgError(SourceError(label, 1, f"not UTF-8 text ({exc.reason} at byte {exc.start}); "
                                             "save it as UTF-8")) from None


def has_front_matter(path: Path) -> bool:
    """Jekyll's own test: a file is a page, not a plain file, when it starts with '---'."""
    try:
        with path.open("rb") as stream:
            start = stream.read(5)
    except OSError:
        return False
    return start.lstrip(b"\xef\xbb\xbf").startswith(b"---")


def is_unsafe(path: Path, root: str, notes: list[Note], skipped: Counter[str]) -> bool:
    """A link out of the site, a FIFO or a device is never read nor copied: it could publish a secret or hang."""
    why = unsafe_entry(str(path), root)
    if why:
        skipped["unsafe files"] += 1
        notes.append(Note(str(path), 0, f"{why}: left out"))
    return why is not None


def split_front_matter(text: str, label: str) -> FrontMatter | None:
    """Front matter between '---' (YAML), '+++' (TOML) or as a leading JSON object; None when the file
    has none. Unreadable front matter raises SsgError at label:line."""
    if text.startswith("---"):
        match = _YAML_FENCE.match(text)
        if not match:
            raise SsgError(SourceError(label, 1, "front matter starts with '---' but has no closing '---' line"))
        front = match.group(1)
        document = load_yaml(front, label, first_line=2, what="YAML in front matter")
        data, lines = document.data, {k: v for k, v in document.lines.items() if "." not in k}
    elif text.startswith("+++"):
        match = _TOML_FENCE.match(text)
        if not match:
            raise SsgError(SourceError(label, 1, "front matter starts with '+++' but has no closing '+++' line"))
        data, lines = _toml(match.group(1), label, first_line=2), _toml_lines(match.group(1), 2)
    elif text.lstrip().startswith("{"):
        start = len(text) - len(text.lstrip())
        try:
            data, end = json.JSONDecoder().raw_decode(text, start)
        except json.JSONDecodeError as exc:
            raise SsgError(SourceError(label, exc.lineno, clip(f"invalid JSON in front matter: {exc.msg}"))) from None
        lines = _json_lines(text[:end])
        match = re.compile(r"[ \t]*\r?\n?").match(text, end)
        return _front(data if data is not None else {}, lines, text[match.end():],
                      text.count("\n", 0, match.end()) + 1, label)
    else:
        return None
    return _front(data if data is not None else {}, lines, text[match.end():], text.count("\n", 0, match.end()) + 1,
                  label)


def _front(data: Any, lines: dict[str, int], body: str, body_line: int, label: str) -> FrontMatter:
    if not isinstance(data, dict):
        raise SsgError(SourceError(label, 2, "front matter must be 'key: value' lines"))
    return FrontMatter(data, lines, body, body_line)


def read_data_file(path: Path, label: str) -> Any:
    """A whole YAML, TOML or JSON file (site config, data files), errors at label:line."""
    text = read_text(path, label)
    suffix = path.suffix.lower()
    if suffix == ".toml":
        return _toml(text, label, 1)
    if suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise SsgError(SourceError(label, exc.lineno, clip(f"invalid JSON: {exc.msg}"))) from None
    return load_yaml(text, label).data


def key_lines(path: Path) -> dict[str, int]:
    """Lines of a config file's top-level keys, for errors that point at a setting."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return {}
    if path.suffix.lower() == ".toml":
        return _toml_lines(text, 1)
    if path.suffix.lower() == ".json":
        return _json_lines(text)
    found: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        match = re.match(r"([A-Za-z_][\w-]*)\s*:", line)
        if match:
            found.setdefault(match.group(1), number)
    return found


def _toml(text: str, label: str, first_line: int) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib puts the place in the message: "Invalid value (at line 3, column 9)"
        place = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        if place:
            line = first_line + int(place.group(1)) - 1
        else:  # "(at end of document)": the last line
            line = first_line + text.rstrip("\n").count("\n") if "end of document" in str(exc) else first_line
        message = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", str(exc)) or "unreadable"
        raise SsgError(SourceError(label, line, clip(f"invalid TOML: {message}"))) from None


def _toml_lines(text: str, first_line: int) -> dict[str, int]:
    found: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), first_line):
        if line.lstrip().startswith("["):
            break  # keys after a [table] header belong to that table
        match = re.match(r"\s*([\w-]+|\"[^\"]+\")\s*=", line)
        if match:
            found.setdefault(match.group(1).strip('"'), number)
    return found


def _json_lines(text: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        for key in re.findall(r'"((?:[^"\\]|\\.)*)"\s*:', line):
            found.setdefault(key, number)
    return found


def time_zone(name: Any, label: str, line: int) -> str:
    """The source's time zone as an IANA name ("UTC" when it names none)."""
    if name in (None, ""):
        return "UTC"
    try:
        ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise SsgError(SourceError(label, line, f"unknown time zone {shown(name)}: use an IANA name "
                                                "like Europe/London")) from None
    return str(name)


# --- values -------------------------------------------------------------------------------------------

_RUBY_OFFSET = re.compile(r"^(.*\d)\s+(Z|[+-]\d{2}:?\d{2})$")


def to_datetime(value: Any, tz: ZoneInfo) -> datetime | None:
    """A date as YAML, TOML or a string gives it, timezone-aware; a date without an offset is in the
    source's zone (`tz`), a bare date is midnight there. None when it is no date."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=tz) if value.tzinfo is None else value
    if isinstance(value, Date):
        return datetime.combine(value, time(0, 0), tzinfo=tz)
    if not isinstance(value, str):
        return None
    text = value.strip()
    # Jekyll writes Ruby's "2020-05-01 10:00:00 +0100": the offset after a space.
    text = _RUBY_OFFSET.sub(r"\1\2", text).replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=tz) if parsed.tzinfo is None else parsed


def names(value: Any) -> list[str]:
    """A field that may be one name or a list of them: `author: Jane` or `authors: [Jane, Omar]`."""
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if v is not None and str(v).strip()]
    if isinstance(value, dict):
        return [str(value.get("name") or "").strip()] if value.get("name") else []
    return [str(value).strip()] if str(value).strip() else []


def section_name(category: str) -> str:
    """A category written in lower case as a URL segment reads as a heading: "local-news" -> "Local News";
    one written with capitals is kept as written."""
    if category == category.lower():
        return category.replace("-", " ").replace("_", " ").title()
    return category


def section_and_tags(categories: list[str], tags: list[str], default_section: str,
                     label: str, line: int, notes: list[Note]) -> tuple[str, tuple[str, ...]]:
    """The FIRST category is the section; the other categories, then the tags, become tags, each once
    whatever its case. A name with no letter or digit could not have a page, so it is left out."""
    usable = [c for c in categories if urls.slugify(c)]
    section = section_name(usable[0]) if usable else default_section
    kept, seen = [], set()
    for tag in usable[1:] + tags:
        if not urls.slugify(tag):
            notes.append(Note(label, line, f"tag {shown(tag)} left out: it has no letter or digit to make its URL"))
            continue
        if tag.casefold() not in seen:
            seen.add(tag.casefold())
            kept.append(tag)
    for category in categories:
        if category not in usable:
            notes.append(Note(label, line, f"category {shown(category)} left out: it has no letter or digit"))
    return section, tuple(kept)


def slug_from_name(stem: str) -> str:
    """A slug from a file name: percent-escapes decoded once (as Jekyll decodes them when it writes
    the page), then slugified: "caf%C3%A9-opens" -> "cafe-opens"."""
    return urls.slugify(unquote(stem))


def title_from_slug(stem: str) -> str:
    """Jekyll's title for a post that has none: "bus-lane-opens" -> "Bus Lane Opens"."""
    return " ".join(word.capitalize() for word in unquote(stem).split("-") if word) or stem


def summary_of(meta: dict[str, Any], body: str, separator: str = MORE) -> str:
    """`excerpt`, `description` or `summary`, else the text before the excerpt separator when the body
    has one; as plain text."""
    for key in ("summary", "excerpt", "description"):
        value = meta.get(key)
        if isinstance(value, str) and value.strip():
            return plain_text(value)
    if separator and separator in body:
        return plain_text(body.split(separator, 1)[0])
    return ""


_TAG = re.compile(r"<[^>]+>")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_TEMPLATE_TAG = re.compile(r"\{%.*?%\}|\{\{.*?\}\}", re.S)


def plain_text(markdown: str) -> str:
    """Markdown or HTML reduced to one line of text, for a summary."""
    text = _TEMPLATE_TAG.sub("", markdown)
    text = _IMAGE.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _TAG.sub("", text)
    text = re.sub(r"^\s{0,3}(#{1,6}|>|[-*+]|\d+\.)\s+", "", text, flags=re.M)
    text = re.sub(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1", r"\2", text)
    return " ".join(text.split())


def params_of(meta: dict[str, Any], used: set[str]) -> dict[str, Any]:
    """Every key not mapped to a field of ours, kept under `params:` in values YAML can write back."""
    return {str(key): yaml_value(value) for key, value in meta.items() if str(key) not in used}


def yaml_value(value: Any) -> Any:
    """A value as plain YAML: keys as text, a TOML local time as "10:30:00", anything odd as text."""
    if isinstance(value, dict):
        return {str(k): yaml_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [yaml_value(v) for v in value]
    if value is None or isinstance(value, (str, bool, int, float, datetime, Date)):
        return value
    return str(value)


def featured_image(meta: dict[str, Any]) -> tuple[str, dict[str, str]] | None:
    """The lead image, and the key it came from, under any of the names themes use: `image` (text or
    {path|src|url, alt}), `feature_image`, `featured_image`, `cover.image`, `header.image`, and Hugo's
    `images: [...]` (the first)."""
    for key in IMAGE_KEYS:
        value = meta.get(key)
        if key == "images":
            value = value[0] if isinstance(value, list) and value else None
        elif key in ("cover", "header"):
            value = value if isinstance(value, dict) and value.get("image") else None
        if isinstance(value, str) and value.strip():
            return key, {"src": value.strip()}
        if isinstance(value, dict):
            src = next((value[k] for k in ("src", "path", "url", "image", "feature") if isinstance(value.get(k), str)
                        and value[k].strip()), None)
            if src:
                image = {"src": src.strip()}
                image |= {k: value[k].strip() for k in ("alt", "caption", "credit")
                          if isinstance(value.get(k), str) and value[k].strip()}
                return key, image
    return None


# Jekyll themes write image paths after {{ site.url }} or {{ site.baseurl }}: the file's path is what is left.
_SITE_ROOT_TAG = re.compile(r"\{\{\s*site\.(url|baseurl)\s*\}\}")


def lead_image(meta: dict[str, Any], static: set[str], used: set[str], remote: list[str],
               in_bundle: Callable[[str], bool] = lambda src: False
               ) -> tuple[str, str, dict[str, str] | str | None] | None:
    """The lead image as front matter writes it, with the key and the address it came from: a URL (listed
    in `remote`), a file beside the article in its bundle, or a root path to a file copied to static/. The
    image is None when its file is in none of those places; None alone when the front matter names none."""
    found = featured_image(meta)
    if found is None:
        return None
    key, image = found
    used.add(key)
    src = image["src"] = _SITE_ROOT_TAG.sub("", image["src"]).strip()
    if is_remote(src):
        remote.append(src)
        image["src"] = src if src.startswith("http") else "https:" + src
    elif not src.startswith("/") and in_bundle(src):
        pass  # beside the article in its bundle, where the file is copied
    elif urlsplit(src).path.lstrip("/") in static:
        image["src"] = "/" + urlsplit(src).path.lstrip("/")  # Jekyll themes read "assets/x.jpg" from the root
    else:
        return key, src, None
    return key, src, image if len(image) > 1 else image["src"]


def root_path(reference: Any) -> str:
    """An old address as a path from the site's root: "old/page" -> "/old/page", a full URL -> its path."""
    text = str(reference).strip()
    return urlsplit(text).path or "/" if is_remote(text) else "/" + text.lstrip("/")


def is_remote(reference: str) -> bool:
    return bool(re.match(r"^(https?:)?//", reference))


_BODY_IMAGES = re.compile(r"!\[[^\]]*\]\(\s*<?((?:https?:)?//[^)\s>]+)|<img\b[^>]*?\bsrc=[\"']((?:https?:)?//[^\"']+)",
                          re.I)


def remote_images(body: str) -> list[str]:
    """Images a body shows from another host: listed in the report, never fetched."""
    return [a or b for a, b in _BODY_IMAGES.findall(body)]


# --- the text of bodies ---------------------------------------------------------------------------------

def fence(language: str, code: str) -> str:
    """Fenced code, with a fence longer than any run of backticks inside."""
    longest = max((len(run) for run in re.findall(r"`{3,}", code)), default=2)
    marker = "`" * (longest + 1)
    return f"{marker}{language}\n{code.strip(chr(10))}\n{marker}"


def as_block(before: str, markdown: str, after: str) -> str:
    """`markdown` as a paragraph of its own: blank lines around it unless they are there already."""
    lead = "" if not before or before.endswith("\n\n") else "\n" if before.endswith("\n") else "\n\n"
    tail = "" if not after or after.startswith("\n\n") else "\n" if after.startswith("\n") else "\n\n"
    return lead + markdown + tail


# Elements that stand as blocks of their own; anything else at the top of a body (text, <b>, <a>) flows
# into a paragraph with its neighbours.
BLOCK_TAGS = frozenset({"address", "article", "aside", "blockquote", "details", "div", "dl", "fieldset",
                        "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "iframe",
                        "main", "nav", "ol", "p", "pre", "section", "table", "ul", "video", "audio", "picture"})
_BLANK_LINES = re.compile(r"\n[ \t]*(?:\n[ \t]*)+")
_PRE = re.compile(r"(<pre\b.*?</pre>)", re.S | re.I)


def html_body(html: str) -> str:
    """An HTML body kept as it was written, one raw block per top-level element, separated by blank lines
    and holding none: Markdown never reads their indented lines as code or their asterisks as emphasis,
    and the meter's teaser counts them as the blocks a reader sees."""
    blocks, inline = [], []
    for node in BeautifulSoup(html, "html.parser").contents:
        if isinstance(node, Comment):
            continue
        if isinstance(node, Tag) and node.name in BLOCK_TAGS:
            if "".join(inline).strip():
                blocks.append(f"<p>{_one_block(''.join(inline).strip())}</p>")
            inline = []
            blocks.append(_one_block(str(node)))
        else:
            inline.append(escape(str(node), quote=False) if isinstance(node, NavigableString) else str(node))
    if "".join(inline).strip():
        blocks.append(f"<p>{_one_block(''.join(inline).strip())}</p>")
    return "\n\n".join(blocks)


def _one_block(html: str) -> str:
    """The element without blank lines, which would end its raw block; inside <pre>, where they are text,
    each becomes a character reference."""
    parts = _PRE.split(html)
    return "".join(part.replace("\n\n", "\n&#10;") if index % 2 else _BLANK_LINES.sub("\n", part)
                   for index, part in enumerate(parts))


# --- settling the articles --------------------------------------------------------------------------


PLACEHOLDER_URL = "https://example.org/"  # base_url of a site whose config names no address


def site_settings(label: str, address_key: str, address: str, base_path: str, title: str, description: str,
                  language: str, timezone: str, permalink: str, notes: list[Note]) -> dict[str, str]:
    """site.yaml for a new site: the old site's address (and base path), words, zone and URL scheme, empty
    ones left out."""
    base_url = (address or PLACEHOLDER_URL).rstrip("/") + base_path.rstrip("/") + "/"
    if not address:
        notes.append(Note(label, 0, f"no '{address_key}' here: site.yaml says base_url: {base_url} "
                                    "until you write the site's address there"))
    settings = {"title": title, "base_url": base_url, "description": description, "language": language,
                "timezone": timezone, "permalink": permalink}
    return {key: value for key, value in settings.items() if value}


def note_left_as_it_is(note: Callable[[int, str], None], line: int, written: str, reason: str) -> None:
    """Report a tag or shortcode the import could not convert, shown on one line as it was written."""
    note(line, f"{clip(' '.join(written.split()), 80)} left as it is: it {reason}; rewrite it by hand")
