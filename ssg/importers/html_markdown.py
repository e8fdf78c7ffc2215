"""A WordPress post body to Markdown: blocks, shortcodes and wpautop's paragraphs undone, then markdownify.

WordPress stores what the editor saved and does the rest when a page is shown: classic posts get their
paragraphs from `wpautop`, shortcodes and embeds are expanded by PHP. This module does those steps once,
into plain HTML a reader of the new site can get without WordPress (links instead of iframes), and
converts that HTML to the Markdown this generator renders."""
from __future__ import annotations

import html
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable, Iterator
from urllib.parse import urlsplit

from bs4 import BeautifulSoup, Tag
from markdownify import ATX, MarkdownConverter

from .writer import Note

# The tags wpautop treats as blocks: text that starts with one of them is not wrapped in <p>.
BLOCK_TAGS = ("address|article|aside|blockquote|caption|col|colgroup|dd|details|div|dl|dt|fieldset|figcaption|"
              "figure|footer|form|h[1-6]|header|hgroup|hr|legend|li|map|math|menu|nav|ol|p|pre|section|summary|"
              "table|tbody|td|tfoot|th|thead|tr|ul")
_PROTECTED = re.compile(r"<(pre|script|style)\b.*?</\1\s*>", re.S | re.I)   # newlines in there are content
_BLOCK_OPEN = re.compile(rf"(<(?:{BLOCK_TAGS})\b[^>]*>)", re.I)
_BLOCK_CLOSE = re.compile(rf"(</(?:{BLOCK_TAGS})\s*>)", re.I)
_LEADING_OPEN = re.compile(rf"(?:<(?:{BLOCK_TAGS})\b[^>]*>\s*)+", re.I)
_TRAILING_CLOSE = re.compile(rf"(?:\s*</(?:{BLOCK_TAGS})\s*>)+$", re.I)
_KEPT = re.compile("\x00(\\d+)\x00")

_BLOCK_COMMENT = re.compile(r"<!--\s+(/?)wp:([\w/-]+)(\s+\{.*?\})?\s+(/?)-->", re.S)
_MORE = re.compile(r"<!--(?:more|nextpage)\b.*?-->", re.S)
_SHORTCODE = re.compile(r"\[(\[?)([A-Za-z][\w-]*)(?=[\s\]/=])([^\]]*?)(/?)\](\]?)")
_ATTRIBUTE = re.compile(r"""([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s'"]+))|"([^"]*)"|'([^']*)'|(\S+)""")
_IMG = re.compile(r"(?:<a\b[^>]*>\s*)?<img\b[^>]*>(?:\s*</a>)?", re.I)
_IFRAME_SRC = re.compile(r"<(?:iframe|embed|object)\b[^>]*?\b(?:src|data)\s*=\s*[\"']([^\"']*)", re.I)

# Shortcodes this module turns into HTML; those that enclose content are read up to their closing tag.
ENCLOSING = frozenset({"caption", "wp_caption", "embed", "video", "audio"})
HANDLED = ENCLOSING | {"gallery", "youtube", "vimeo"}
# Hosts whose URL alone on a line WordPress turned into a player (oEmbed); here it becomes a link.
EMBED_HOSTS = r"(?:[\w-]+\.)*(?:youtube\.com|youtu\.be|youtube-nocookie\.com|vimeo\.com|dailymotion\.com|" \
              r"soundcloud\.com|spotify\.com|twitter\.com|x\.com|instagram\.com|tiktok\.com|flickr\.com|ted\.com|" \
              r"facebook\.com|wordpress\.tv|tumblr\.com|reddit\.com|imgur\.com|mixcloud\.com|slideshare\.net|" \
              r"scribd\.com|issuu\.com|kickstarter\.com|speakerdeck\.com|bsky\.app|mastodon\.social)"
_BARE_URL = re.compile(rf"^[ \t]*(https?://{EMBED_HOSTS}(?:[/?#][^\s<>\"'\[\]]*)?)[ \t]*$", re.M | re.I)
VIDEO_FORMATS = ("src", "mp4", "m4v", "webm", "ogv", "wmv", "flv", "mp3", "ogg", "wav", "m4a", "wma", "url")
MEDIA_LINK = re.compile(r"\.(?:jpe?g|png|gif|webp|avif|svg|bmp|tiff?)$|[?&]attachment_id=|/attachment/", re.I)


@dataclass(frozen=True, slots=True)
class Picture:
    """An attachment shown as an image: its URL on the old site, its alt text and caption."""

    url: str
    alt: str = ""
    caption: str = ""


@dataclass(frozen=True, slots=True)
class BodyContext:
    """What converting one post's body needs from the rest of the export."""

    path: str                                   # the export file, for notes
    line: int                                   # the export's line where this content starts
    relink: Callable[[str, bool], str]          # (URL on the old site, is an image) -> URL in the new site
    attachment: Callable[[int], Picture | None]
    attached: tuple[Picture, ...] = ()          # the post's own images: a [gallery] without ids shows them
    reusable: Callable[[int], tuple[str, int] | None] = lambda ref: None  # reusable block -> (content, line)


@dataclass(frozen=True, slots=True)
class Body:
    markdown: str
    notes: tuple[Note, ...]


def wordpress_markdown(content: str, context: BodyContext) -> Body:
    """Markdown for a post's content:encoded, with a note for each thing only a human can decide."""
    notes = review(content, context.line, context)
    has_blocks = "<!-- wp:" in content
    text = expand_reusable_blocks(content, context)
    text = expand_shortcodes(text, context)
    text = _BLOCK_COMMENT.sub("", text)
    text = _MORE.sub("", text)
    text = link_bare_urls(text)
    if not has_blocks:
        text = autop(text)  # WordPress runs wpautop on classic posts only
    soup = BeautifulSoup(text, "lxml")  # libxml2: twice as fast as html.parser, same tree for sane HTML
    tidy(soup, context)
    return Body(to_markdown(soup), tuple(notes))


# --- what needs a human -------------------------------------------------------------------------------

def review(content: str, line: int, context: BodyContext, depth: int = 0) -> list[Note]:
    """Notes for shortcodes left as text, embeds left out and blocks WordPress draws itself, each at its line."""
    notes: dict[str, Note] = {}   # one note per kind of problem and post: the first place it occurs

    def note(key: str, offset: int, message: str) -> None:
        if key not in notes:
            notes[key] = Note(context.path, line + content.count("\n", 0, offset), message)

    for code in find_shortcodes(content):
        if code.escaped:
            continue
        if code.name not in HANDLED and code.looks_deliberate:
            note(f"[{code.name}]", code.start, f"unknown shortcode [{code.name}] left as text: "
                                               "replace it with what it showed")
        elif code.name == "gallery" and not gallery_pictures(code, context):
            note("[gallery]", code.start, "[gallery] names no image found in the export: left out")
        elif code.name in ("video", "audio") and not media_url(code):
            note(f"[{code.name}]", code.start, f"[{code.name}] without a file URL left as text")
    for match in _BLOCK_COMMENT.finditer(content):
        name = match.group(2)
        if match.group(4) and name == "block" and depth < 3:
            found = context.reusable(_block_ref(match.group(3)))
            if found is None:
                note("wp:block", match.start(), "reusable block not in the export: left out")
            else:
                notes |= {f"block:{n.message}": n for n in review(found[0], found[1], context, depth + 1)}
        elif match.group(4) and name not in ("more", "nextpage", "block"):
            note(f"wp:{name}", match.start(), f"block wp:{name} is drawn by WordPress when a page is shown and "
                                              "has no content in the export: left out")
    for match in _IFRAME_SRC.finditer(content):
        if not video_page(match.group(1)):
            host = urlsplit(html.unescape(match.group(1))).netloc or match.group(1)
            note(f"iframe:{host}", match.start(), f"embedded frame from {host} left out: link to it instead")
    return list(notes.values())


# --- WordPress's own markup -----------------------------------------------------------------------------

def autop(text: str) -> str:
    """What WordPress's wpautop does when it shows a classic post: text separated by blank lines becomes
    paragraphs and single newlines inside them <br>; HTML blocks (headings, lists, tables...) stay as they are,
    and text right inside a <blockquote> gets its paragraphs too."""
    kept: list[str] = []

    def keep(match: re.Match) -> str:
        kept.append(match.group(0))
        return f"\n\n\x00{len(kept) - 1}\x00\n\n"

    text = _PROTECTED.sub(keep, text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _BLOCK_CLOSE.sub(r"\1\n\n", _BLOCK_OPEN.sub(r"\n\n\1", text))
    chunks = []
    for chunk in re.split(r"\n[ \t]*\n", text):
        chunk = chunk.strip()
        if not chunk:
            continue
        lead = _LEADING_OPEN.match(chunk)
        lead = lead.group(0) if lead else ""
        tail = _TRAILING_CLOSE.search(chunk, len(lead)) if chunk.endswith(">") else None
        tail = tail.group(0) if tail else ""
        middle = chunk[len(lead):len(chunk) - len(tail)]
        wrap = (middle.strip() and not middle.startswith(("<!--", "\x00"))
                and (not lead or re.search(r"<blockquote\b[^>]*>\s*$", lead, re.I)))
        middle = _line_breaks(middle.strip())
        chunks.append(f"{lead}<p>{middle}</p>{tail}" if wrap else f"{lead}{middle}{tail}")
    return _KEPT.sub(lambda m: kept[int(m.group(1))], "\n\n".join(chunks))


def _line_breaks(text: str) -> str:
    """A newline in text (not inside a tag) is a <br>, unless one is already there."""
    parts = re.split(r"(<[^>]*>)", text)
    for index in range(0, len(parts), 2):  # the even parts are the text between tags
        parts[index] = re.sub(r"[ \t]*\n[ \t]*", "<br />\n", parts[index])
    joined = "".join(parts)
    return re.sub(r"(<br\s*/?>)\s*<br />\n", r"\1\n", joined, flags=re.I)


@dataclass(frozen=True, slots=True)
class Shortcode:
    start: int
    end: int                 # after the closing tag for enclosing shortcodes handled here, else the opening
    name: str
    attrs: dict[str, str]
    positional: tuple[str, ...]
    inner: str | None        # what an enclosing shortcode wraps
    escaped: bool            # [[name]] shows "[name]" as text
    looks_deliberate: bool   # not "[sic]" in a sentence: attributes, a closing tag, or alone on its line


def find_shortcodes(text: str) -> Iterator[Shortcode]:
    """Shortcodes in WordPress's grammar, left to right. An unknown enclosing shortcode ends at its
    opening tag, so the shortcodes it wraps are found too."""
    position = 0
    while match := _SHORTCODE.search(text, position):
        name, raw, self_closing = match.group(2), match.group(3), match.group(4)
        escaped = bool(match.group(1) and match.group(5))
        attrs, positional = _attributes(raw)
        closing = -1 if self_closing or escaped else text.find(f"[/{name}]", match.end())
        end, inner = match.end(), None
        if closing >= 0 and name in ENCLOSING:
            inner, end = text[match.end():closing], closing + len(name) + 3
        line_start = text.rfind("\n", 0, match.start()) + 1
        line_end = text.find("\n", match.end())
        alone = (_plain_edges(text[line_start:match.start()]) and
                 _plain_edges(text[match.end():len(text) if line_end < 0 else line_end]) and name.islower())
        deliberate = bool("=" in raw or closing >= 0 or self_closing or "_" in name or "-" in name or alone)
        yield Shortcode(match.start(), end, name, attrs, positional, inner, escaped, deliberate)
        position = end


def _plain_edges(text: str) -> bool:
    """Nothing but whitespace and paragraph tags: what surrounds a shortcode that stands on its own line."""
    return not re.sub(r"</?p\b[^>]*>", "", text).strip()


def _attributes(raw: str) -> tuple[dict[str, str], tuple[str, ...]]:
    raw = raw.strip()
    if raw.startswith("="):  # [youtube=https://...]
        return {}, (raw[1:].strip().strip("\"'"),)
    named, positional = {}, []
    for m in _ATTRIBUTE.finditer(raw.rstrip("/")):
        if m.group(1):
            named[m.group(1).lower()] = html.unescape(next(g for g in m.groups()[1:4] if g is not None))
        else:
            positional.append(html.unescape(next(g for g in m.groups()[4:] if g is not None)))
    return named, tuple(positional)


def expand_shortcodes(text: str, context: BodyContext) -> str:
    """Captions, galleries and embeds as HTML; any other shortcode stays as it was written."""
    out, position = [], 0
    for code in find_shortcodes(text):
        out.append(text[position:code.start])
        out.append(_expanded(code, text[code.start:code.end], context))
        position = code.end
    out.append(text[position:])
    return "".join(out)


def _expanded(code: Shortcode, written: str, context: BodyContext) -> str:
    if code.escaped:
        return written[1:-1]
    if code.name in ("caption", "wp_caption"):
        return caption_figure(code)
    if code.name == "gallery":
        return "".join(picture_figure(p) for p in gallery_pictures(code, context))
    if code.name == "embed" and code.inner:
        return link_paragraph(html.unescape(code.inner.strip()))
    if code.name in ("youtube", "vimeo") and code.positional:
        return link_paragraph(_video_address(code.name, code.positional[0]))
    if code.name in ("video", "audio") and (url := media_url(code)):
        return link_paragraph(url)
    return written


def link_bare_urls(text: str) -> str:
    """A video or post URL alone on its line, which WordPress showed as a player, as a link (not in code)."""
    parts = re.split(r"(<(?:pre|script|style)\b.*?</(?:pre|script|style)\s*>)", text, flags=re.S | re.I)
    for index in range(0, len(parts), 2):
        parts[index] = _BARE_URL.sub(lambda m: link_paragraph(m.group(1)), parts[index])
    return "".join(parts)


def caption_figure(code: Shortcode) -> str:
    """[caption]<img> Caption[/caption] as <figure><img><figcaption>, which tidy() makes a titled image."""
    inner = code.inner or ""
    image = _IMG.search(inner)
    if image is None:
        return inner
    caption = html.escape(code.attrs.get("caption", "")) or (inner[:image.start()] + inner[image.end():]).strip()
    return f"\n\n<figure>{image.group(0)}<figcaption>{caption}</figcaption></figure>\n\n"


def gallery_pictures(code: Shortcode, context: BodyContext) -> list[Picture]:
    """The images a [gallery] shows: those it names by id, else the post's own, as WordPress does."""
    names = code.attrs.get("ids") or code.attrs.get("include")
    if not names:
        return list(context.attached)
    ids = [int(n) for n in re.findall(r"\d+", names)]
    return [p for p in map(context.attachment, ids) if p is not None]


def picture_figure(picture: Picture) -> str:
    esc = html.escape
    caption = f"<figcaption>{esc(picture.caption)}</figcaption>" if picture.caption else ""
    return f'\n\n<figure><img src="{esc(picture.url)}" alt="{esc(picture.alt)}">{caption}</figure>\n\n'


def media_url(code: Shortcode) -> str:
    for key in VIDEO_FORMATS:
        if code.attrs.get(key):
            return code.attrs[key]
    for value in (*code.positional, (code.inner or "").strip()):  # [audio URL], [video]URL[/video]
        if re.fullmatch(r"https?://\S+", value):
            return value
    return ""


def _video_address(kind: str, value: str) -> str:
    """Jetpack's [youtube ID] and [vimeo ID] take a bare id as well as a URL."""
    if value.startswith(("http://", "https://")):
        return value
    return f"https://www.youtube.com/watch?v={value}" if kind == "youtube" else f"https://vimeo.com/{value}"


def link_paragraph(url: str) -> str:
    """An embed as a plain link: no third-party frame, so no script source to allow and no tracking."""
    url = html.escape(url)
    return f'\n\n<p><a href="{url}">{url}</a></p>\n\n'


def expand_reusable_blocks(content: str, context: BodyContext, depth: int = 0) -> str:
    """A reusable block is stored once and referenced by id; the new site has its text in each post."""
    def inline(match: re.Match) -> str:
        if match.group(2) != "block" or not match.group(4) or depth >= 3:
            return match.group(0)
        found = context.reusable(_block_ref(match.group(3)))
        return expand_reusable_blocks(found[0], context, depth + 1) if found else ""

    return _BLOCK_COMMENT.sub(inline, content)


def _block_ref(attributes: str | None) -> int:
    try:
        return int(json.loads(attributes or "{}").get("ref", 0))
    except (ValueError, TypeError, AttributeError):
        return 0


def video_page(src: str) -> str:
    """The page of a YouTube or Vimeo player URL (what a reader can open), or "" for other frames."""
    parts = urlsplit(html.unescape(src.strip()))
    host = parts.netloc.lower().removeprefix("www.")
    if host in ("youtube.com", "youtube-nocookie.com") and parts.path.startswith("/embed/"):
        video = parts.path.split("/")[2]
        return f"https://www.youtube.com/watch?v={video}" if video else ""
    if host == "player.vimeo.com" and parts.path.startswith("/video/"):
        return f"https://vimeo.com/{parts.path.split('/')[2]}"
    if host in ("youtube.com", "m.youtube.com", "youtu.be", "vimeo.com"):
        return parts.geturl()
    return ""


# --- the HTML, tidied for Markdown -------------------------------------------------------------------

def tidy(soup: BeautifulSoup, context: BodyContext) -> None:
    """Make the HTML say in Markdown's terms what the page showed: scripts out, players as links,
    figures as titled images, local URLs relinked, empty paragraphs gone."""
    for tag in soup.find_all(["script", "style", "noscript", "iframe", "embed", "object", "video", "audio"]):
        if tag.decomposed:
            continue
        src = tag.get("src") or tag.get("data") or ""
        if tag.name in ("video", "audio") and not src and (source := tag.find("source", src=True)):
            src = source["src"]
        target = video_page(src) if tag.name in ("iframe", "embed", "object") else src
        if target and tag.name not in ("script", "style", "noscript"):
            tag.replace_with(BeautifulSoup(link_paragraph(target), "html.parser").p)
        else:
            tag.decompose()
    tags: dict[str, list[Tag]] = defaultdict(list)  # one walk of the tree: each find_all() is another
    for tag in soup.find_all(True):
        tags[tag.name].append(tag)
    for img in tags["img"]:
        # Lazy-loading plugins keep the real image in data-src; a title is not a caption in WordPress.
        lazy = img.get("data-src") or img.get("data-lazy-src")
        if lazy:
            img["src"] = lazy
        img.attrs.pop("title", None)
    for wrapper in tags["div"]:  # a Gutenberg embed block: the URL alone, which WordPress made a player
        url = wrapper.get_text().strip()
        if "wp-block-embed__wrapper" in wrapper.get("class", []) and re.fullmatch(r"https?://\S+", url):
            wrapper.clear()
            wrapper.append(BeautifulSoup(link_paragraph(url), "html.parser").p)
            tags["a"].append(wrapper.a)
    # URLs first: a link to an attachment page becomes a link to the image, which a figure may then drop.
    for link in tags["a"]:
        if link.get("href") is not None:
            shown_as_text = link["href"] == link.get_text()
            link["href"] = _safe_url(context.relink(link["href"], False))
            if shown_as_text:
                link.string = link["href"]
    for img in tags["img"]:
        if img.get("src"):
            img["src"] = _safe_url(context.relink(img["src"], True))
    for figure in reversed(tags["figure"]):  # the innermost first: a gallery holds figures
        flatten_figure(figure, soup)
    for cite in tags["cite"]:
        if cite.parent is not None and cite.parent.name == "blockquote":
            cite.name = "p"
            cite.insert(0, "— ")
    for paragraph in tags["p"]:
        if not paragraph.decomposed and not paragraph.get_text(strip=True) and not paragraph.find(["img", "a", "br"]):
            paragraph.decompose()


def flatten_figure(figure: Tag, soup: BeautifulSoup) -> None:
    """A figure of one image becomes a paragraph holding only that image, titled with the caption: this
    generator's Markdown makes that a <figure> with a <figcaption> again. Other figures (galleries, tables,
    embeds) give up their wrapper and keep their caption as a paragraph."""
    caption_tag = figure.find("figcaption")
    images = figure.find_all("img")
    others = figure.find(["table", "figure", "p", "ul", "ol", "blockquote", "pre"])
    if caption_tag is not None:
        caption_tag.extract()
    if len(images) != 1 or others is not None or figure.get_text(strip=True):
        if "gallery" in " ".join(figure.get("class", [])):  # a gallery block's grid: one image per paragraph
            for item in figure.find_all(["ul", "li"]):
                item.unwrap()
        if caption_tag is not None:
            caption_tag.name = "p"
            figure.append(caption_tag)
        figure.unwrap()
        return
    caption = " ".join(caption_tag.get_text(" ").split()) if caption_tag is not None else ""
    image, link = images[0], images[0].find_parent("a")
    if link is not None and figure not in link.parents:
        link = None  # a link around the whole figure is not the figure's to change
    paragraph = soup.new_tag("p")
    if link is None or MEDIA_LINK.search(link.get("href", "")):
        # A link to the image file or its attachment page only enlarged the picture.
        paragraph.append(image.extract())
        if caption:
            image["title"] = caption
        figure.replace_with(paragraph)
        return
    paragraph.append(link.extract())
    figure.replace_with(paragraph)
    if caption:
        note = soup.new_tag("p")
        note.append(soup.new_tag("em"))
        note.em.string = caption
        paragraph.insert_after(note)


def _safe_url(url: str) -> str:
    """Characters that end a Markdown link destination, escaped so that the URL stays one."""
    url = url.strip()
    for character, escaped in ((" ", "%20"), ("(", "%28"), (")", "%29"), ("<", "%3C"), (">", "%3E")):
        url = url.replace(character, escaped)
    return url


# --- Markdown ------------------------------------------------------------------------------------------

_LINE_START = re.compile(r"^([ \t]*)([#>+-]|\d+(?=\.(?:\s|$)))", re.M)
_LINE_STARTERS = tuple("#>+-0123456789")
_ENTITY_LIKE = re.compile(r"&(#?[A-Za-z0-9]+;)")


class NewsroomMarkdown(MarkdownConverter):
    """markdownify, tuned to what Python-Markdown (this generator's engine) reads back the same way."""

    def __init__(self) -> None:
        super().__init__(heading_style=ATX, bullets="-", code_language_callback=code_language,
                         sub_symbol="<sub>", sup_symbol="<sup>")

    def escape(self, text: str, parent_tags) -> str:
        """Text that Markdown would read as markup is escaped, so it shows as written."""
        if not text:
            return ""
        text = text.replace("\\", "\\\\")
        text = super().escape(text, parent_tags)   # * and _
        if "&" in text:
            text = _ENTITY_LIKE.sub(r"&amp;\1", text)   # "&amp;" written as text stays text
        text = text.replace("<", "&lt;").replace("`", "\\`").replace("{", "\\{").replace("[^", "\\[^")
        if "\n" in text or text.lstrip()[:1] in _LINE_STARTERS:
            text = _LINE_START.sub(lambda m: m.group(1) + (m.group(2) + "\\." if m.group(2)[0].isdigit()
                                                           else "\\" + m.group(2)), text)
        if "td" in parent_tags or "th" in parent_tags:
            text = text.replace("|", "\\|")
        return text

    def convert_li(self, el, text, parent_tags):
        """Python-Markdown nests by four spaces, where markdownify indents by the bullet's width."""
        text = (text or "").strip()
        if not text:
            return "\n"
        parent = el.parent
        if parent is not None and parent.name == "ol":
            start = str(parent.get("start", "1"))
            bullet = f"{(int(start) if start.isdigit() else 1) + len(el.find_previous_siblings('li'))}."
        else:
            bullet = "-"
        indented = re.sub(r"^(?=.)", "    ", text, flags=re.M)
        return f"{bullet} {indented[4:]}\n"

    def convert_br(self, el, text, parent_tags):
        if "pre" in parent_tags:  # preformatted text: a line break is a newline, not Markdown's "  \n"
            return "\n" + text
        return super().convert_br(el, text, parent_tags)

    def convert_img(self, el, text, parent_tags):
        alt = " ".join((el.get("alt") or "").split()).replace("[", "\\[").replace("]", "\\]")
        src = el.get("src") or ""
        if "_inline" in parent_tags or not src:
            return alt
        title = " ".join((el.get("title") or "").split()).replace('"', '\\"')
        return f'![{alt}]({src}{f" {chr(34)}{title}{chr(34)}" if title else ""})'

    def convert_table(self, el, text, parent_tags):
        """A table Markdown can say (a header row, one line per cell) as a Markdown table; any other as HTML."""
        if simple_table(el):
            return super().convert_table(el, text, parent_tags)
        return "\n\n" + raw_html(el) + "\n\n"

    def convert_dl(self, el, text, parent_tags):
        """Definition lists need an extension this generator's Markdown does not load: kept as HTML."""
        return "\n\n" + raw_html(el) + "\n\n"


def simple_table(table: Tag) -> bool:
    rows = table.find_all("tr")
    cells = table.find_all(["td", "th"])
    if not rows or table.find(["table", "ul", "ol", "pre", "img", "blockquote", "br"]):
        return False
    if any(cell.get("colspan", "1") != "1" or cell.get("rowspan", "1") != "1" or len(cell.find_all("p")) > 1
           for cell in cells):
        return False
    head = table.find("thead")
    first = rows[0].find_all(["td", "th"])
    has_header = (head is not None and len(head.find_all("tr")) == 1) or all(c.name == "th" for c in first)
    return has_header and len({len(row.find_all(["td", "th"])) for row in rows}) == 1


def raw_html(element: Tag) -> str:
    """The element as raw HTML, which Python-Markdown passes through: structure kept, presentation dropped."""
    keep = ("colspan", "rowspan", "scope", "href", "src", "alt", "title")
    for tag in [element, *element.find_all(True)]:
        tag.attrs = {k: v for k, v in tag.attrs.items() if k in keep}
    return re.sub(r">\s+<", ">\n<", str(element))


def code_language(pre: Tag) -> str:
    """The language of a code block, from class="language-x" (Prism, Gutenberg plugins), "lang-x",
    SyntaxHighlighter's "brush: x" or WP-Syntax's lang attribute."""
    for node in (pre, pre.find("code")):
        if node is None:
            continue
        if node.get("lang"):
            return re.sub(r"[^\w+#.-]", "", node["lang"])
        classes = " ".join(node.get("class", []))
        found = re.search(r"(?:language|lang)-([\w+#.-]+)", classes) or re.search(r"brush:\s*([\w+#-]+)", classes)
        if found:
            return found.group(1)
    return ""


def to_markdown(soup: BeautifulSoup) -> str:
    markdown = NewsroomMarkdown().convert_soup(soup)
    markdown = re.sub(r"[ \t]+\n(?=\n)", "\n", markdown)  # spaces on blank lines
    return re.sub(r"\n{3,}", "\n\n", markdown).strip() + "\n"


# --- plain text, for summaries ---------------------------------------------------------------------------

_DROPPED = re.compile(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->", re.S | re.I)
_BREAKING_TAG = re.compile(rf"</?(?:{BLOCK_TAGS}|br)\b[^>]*>", re.I)
_TAG = re.compile(r"<[^>]*>")


def plain_text(fragment: str) -> str:
    """The text of an HTML fragment on one line: for summaries and titles. Captions, embeds and
    shortcode tags are left out, they are not part of the prose."""
    text = _DROPPED.sub(" ", fragment)
    out, position = [], 0
    for code in find_shortcodes(text):
        out.append(text[position:code.start])
        if code.escaped:
            out.append(text[code.start + 1:code.end - 1])
        elif not code.looks_deliberate and code.name not in HANDLED:
            out.append(text[code.start:code.end])
        position = code.end
    out.append(text[position:])
    text = re.sub(r"\[/[A-Za-z][\w-]*\]", " ", "".join(out))
    text = _TAG.sub("", _BREAKING_TAG.sub(" ", text))
    return " ".join(html.unescape(text).split())


def text_before_more(content: str) -> str:
    """The HTML before <!--more-->, or "" when the post has none."""
    match = re.search(r"<!--more\b", content)
    return content[:match.start()] if match else ""
