"""Markdown to HTML: Python-Markdown with the extensions a newsroom needs, plus one tree pass of our own."""
from __future__ import annotations

import re
import xml.etree.ElementTree as etree
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import markdown
from markdown.extensions import Extension
from markdown.extensions.attr_list import AttrListExtension
from markdown.extensions.codehilite import CodeHiliteExtension
from markdown.extensions.footnotes import FootnoteExtension
from markdown.extensions.tables import TableExtension
from markdown.extensions.toc import TocExtension, slugify_unicode
from markdown.treeprocessors import Treeprocessor
from markdown.util import HTML_PLACEHOLDER_RE
from PIL import Image, UnidentifiedImageError
from pymdownx.betterem import BetterEmExtension
from pymdownx.tasklist import TasklistExtension

from .commonmark import CommonMarkExtension

# The marker the meter hides everything after; its place is decided here, once, at build time.
TEASER_CUT = '<div data-meter-cut="" hidden=""></div>'


def newsroom_extensions() -> list[Extension]:
    """Python-Markdown's own extensions and PyMdown's, given as objects: named by string, Markdown would first
    scan every installed package's entry points for them (a tenth of a second in each process that parses).
    CommonMarkExtension comes last: it replaces the block processors and inline patterns whose rules differ
    from CommonMark/GFM (lists, fences, raw HTML blocks, ...; see ssg/commonmark.py), and makes bare http://,
    www. and e-mail addresses links, as GitHub does."""
    return [TableExtension(use_align_attribute=True),  # align="right", as GitHub writes it
            CodeHiliteExtension(guess_lang=False, css_class="highlight"),  # fences are highlighted through it too
            FootnoteExtension(UNIQUE_IDS=False), AttrListExtension(),
            TocExtension(slugify=slugify_unicode, toc_depth="2-3"),
            TasklistExtension(),   # - [x] done: a disabled checkbox
            BetterEmExtension(),   # CommonMark's emphasis rules (***a*** is <em><strong>, snake_case_words stay)
            CommonMarkExtension()]


@dataclass(frozen=True, slots=True)
class Rendered:
    html: str
    toc: str  # the table of contents as an HTML list, "" when the document has no headings


@dataclass(slots=True)
class DocumentContext:
    """What the tree pass needs to know about the document being converted."""

    folder: Path                       # the source file's folder, for relative images
    url_of: Callable[[Path], str | None]  # output URL of a local file, None when it does not exist
    teaser_paragraphs: int | None      # None: the document is not metered, no cut
    # Turns a local <img> (its src already the file's URL) into a <picture> of resized copies and says True,
    # or says False and leaves it (images.py; None: `images: false`).
    picture: Callable[[etree.Element, Path], bool] | None = None


class MarkdownRenderer:
    """One configured Markdown converter, reused for many documents (building it costs more than a page)."""

    def __init__(self) -> None:
        self.newsroom = NewsroomExtension()
        self.md = markdown.Markdown(extensions=[*newsroom_extensions(), self.newsroom], output_format="html")

    def render(self, text: str, context: DocumentContext) -> Rendered:
        self.newsroom.context = context
        self.md.reset()
        html = self.md.convert(text)
        toc = self.md.toc if self.md.toc_tokens else ""  # type: ignore[attr-defined]
        return Rendered(html=html, toc=toc)


class NewsroomExtension(Extension):
    def __init__(self) -> None:
        super().__init__()
        self.context: DocumentContext | None = None

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (Markdown's API name)
        # After inline parsing and attr_list (8), before the table of contents (5) reads the headings.
        md.treeprocessors.register(NewsroomTreeprocessor(md, self), "newsroom", 7)


class NewsroomTreeprocessor(Treeprocessor):
    """Smart quotes, image sizes and local URLs, captioned figures, and the teaser cut."""

    def __init__(self, md: markdown.Markdown, extension: NewsroomExtension):
        super().__init__(md)
        self.extension = extension

    def run(self, root: etree.Element) -> None:
        context = self.extension.context
        smarten_tree(root)
        for parent in root.iter():
            for index, child in enumerate(parent):
                if child.tag == "p" and _only_image(child):
                    parent[index] = _figure_from(child)
        if context is not None:
            for element in root.iter():
                if element.tag in ("img", "a"):
                    _localize(element, context)
            if context.teaser_paragraphs is not None:
                _insert_cut(root, context.teaser_paragraphs, self.md.htmlStash.rawHtmlBlocks)


def _only_image(p: etree.Element) -> bool:
    """A paragraph holding one titled image and nothing else becomes a figure with a caption."""
    return (len(p) == 1 and p[0].tag == "img" and p[0].get("title")
            and not (p.text or "").strip() and not (p[0].tail or "").strip())


def _figure_from(p: etree.Element) -> etree.Element:
    img = p[0]
    figure = etree.Element("figure")
    caption = img.attrib.pop("title")
    img.tail = None
    figure.append(img)
    etree.SubElement(figure, "figcaption").text = caption
    figure.tail = p.tail
    return figure


def _localize(element: etree.Element, context: DocumentContext) -> None:
    """Point relative links at the copied file's URL and give local images their size (no layout shift)."""
    attribute = "src" if element.tag == "img" else "href"
    reference = element.get(attribute, "")
    if not reference or re.match(r"^([a-z][a-z0-9+.-]*:|/|#)", reference, re.I):
        return
    target = (context.folder / reference.split("#")[0].split("?")[0])
    url = context.url_of(target)
    if url is None:
        return
    element.set(attribute, url)
    if element.tag == "img" and not element.get("width"):
        if context.picture is not None and not element.get("srcset") and context.picture(element, target):
            return  # a <picture> now, with the size and loading="lazy" on its <img>
        size = image_size(target)
        if size:
            element.set("width", str(size[0]))
            element.set("height", str(size[1]))
        element.set("loading", "lazy")


def image_size(path: Path) -> tuple[int, int] | None:
    """Read an image's size from its header only."""
    try:
        with Image.open(path) as image:
            return image.size
    except (OSError, UnidentifiedImageError):
        return None


def _insert_cut(root: etree.Element, teaser_paragraphs: int, stash: list) -> None:
    """Place the meter's marker after the first N top-level blocks a reader sees: paragraphs, lists, quotes,
    tables, figures, code, and raw HTML blocks (a WordPress import is all <div>s and <figure>s). Headings,
    rules and [TOC] are not counted: a teaser of a headline alone is no teaser. The marker never goes inside
    an element that raw HTML opened and has not closed yet, so the teaser stays balanced HTML."""
    if teaser_paragraphs == 0:
        root.insert(0, _cut_element())
        return
    seen = depth = 0
    for index, child in enumerate(root):
        raw = _raw_html(child, stash)
        if raw is None:
            seen += child.tag in _COUNTED and not _is_toc_marker(child)
        else:
            change = _depth_change(raw)
            seen += depth == 0 and change == 0 and _is_visible(raw)
            depth = max(0, depth + change)
        if seen >= teaser_paragraphs and depth == 0:
            if index + 1 < len(root):
                root.insert(index + 1, _cut_element())
            return


_COUNTED = {"p", "ul", "ol", "blockquote", "figure", "table", "pre", "dl"}
# Elements whose end tag is left out or never written: they do not open anything the cut must stay out of.
_NOT_NESTING = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
                "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option", "thead", "tbody", "tfoot",
                "colgroup", "optgroup", "rb", "rt", "rp"}
_TAG = re.compile(r"<!--.*?-->|<(/?)([A-Za-z][A-Za-z0-9-]*)(?:[^>\"']|\"[^\"]*\"|'[^']*')*?(/?)>", re.S)
_INVISIBLE = re.compile(r"<!--.*?-->|<(script|style|template)\b.*?</\1\s*>|\s+", re.S | re.I)


def _raw_html(element: etree.Element, stash: list) -> str | None:
    """The HTML a raw block placeholder stands for (None for any other element)."""
    if element.tag != "p" or len(element):
        return None
    match = HTML_PLACEHOLDER_RE.fullmatch((element.text or "").strip())
    return str(stash[int(match.group(1))]) if match else None


def _depth_change(html: str) -> int:
    """How many elements the HTML opens and leaves open (negative: closes ones opened before)."""
    change = 0
    for tag in _TAG.finditer(html):
        if tag.group(2) and tag.group(2).lower() not in _NOT_NESTING and not tag.group(3):
            change += -1 if tag.group(1) else 1
    return change


def _is_visible(html: str) -> bool:
    return bool(_INVISIBLE.sub("", html))


def _is_toc_marker(p: etree.Element) -> bool:
    return p.tag == "p" and len(p) == 0 and (p.text or "").strip() == "[TOC]"


def _cut_element() -> etree.Element:
    element = etree.Element("div", {"data-meter-cut": "", "hidden": ""})
    element.tail = "\n"
    return element


# Smart quotes. Python-Markdown's smarty extension costs more than the parse itself on a news
# article (about +3.8 ms on 3.4 ms), so the same typography is done here in one regex pass per text node.
_SKIP = {"code", "pre", "kbd", "samp", "script", "style", "math"}
# A quote at the very end of a text node is followed by an inline element ("*no*"), so it opens.
_DOUBLE_OPEN = re.compile(r'(?<=[\s(\[{\u2014\u2013-])"(?=\S|$)')
_SINGLE_OPEN = re.compile(r"(?<=[\s(\[{\u2014\u2013\u201c-])'(?=\S|$)")
_DASHES = (("---", "\u2014"), ("--", "\u2013"), ("...", "\u2026"))


def smarten(text: str, at_start: bool) -> str:
    """Straight quotes to curly ones. A quote opens after a space or bracket, or at the start of a
    block; at the start of the text after an inline element (a tail) it closes."""
    if '"' in text or "'" in text:
        text = (" " if at_start else "x") + text  # the sentinel gives the lookbehinds a left neighbour
        text = _DOUBLE_OPEN.sub("\u201c", text).replace('"', "\u201d")
        text = _SINGLE_OPEN.sub("\u2018", text).replace("'", "\u2019")
        text = text[1:]
    if "--" in text or "..." in text:
        for plain, typographic in _DASHES:
            text = text.replace(plain, typographic)
    return text


def smarten_tree(element: etree.Element, at_start: bool = True) -> None:
    if element.tag in _SKIP:
        return
    if element.text and not isinstance(element.text, markdown.util.AtomicString):
        element.text = smarten(element.text, at_start)
    for child in element:
        smarten_tree(child, at_start=True)
        if child.tail:
            child.tail = smarten(child.tail, at_start=False)
