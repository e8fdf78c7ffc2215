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
from markdown.extensions.fenced_code import FencedCodeExtension
from markdown.extensions.footnotes import FootnoteExtension
from markdown.extensions.tables import TableExtension
from markdown.extensions.toc import TocExtension, slugify_unicode
from markdown.treeprocessors import Treeprocessor
from markdown.util import HTML_PLACEHOLDER_RE
from PIL import Image, UnidentifiedImageError

# The marker the meter hides everything after; its place is decided here, once, at build time.
TEASER_CUT = '<div data-meter-cut="" hidden=""></div>'


def newsroom_extensions() -> list[Extension]:
    """Python-Markdown's own extensions, given as objects: named by string, Markdown would first scan every
    installed package's entry points for them (a tenth of a second in each process that parses)."""
    return [TableExtension(), FencedCodeExtension(), CodeHiliteExtension(guess_lang=False, css_class="highlight"),
            FootnoteExtension(UNIQUE_IDS=False), AttrListExtension(),
            TocExtension(slugify=slugify_unicode, toc_depth="2-3")]


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
                _insert_cut(root, context.teaser_paragraphs)


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


def _insert_cut(root: etree.Element, teaser_paragraphs: int) -> None:
    """Place the meter's marker after the first N top-level paragraphs of real text."""
    if teaser_paragraphs == 0:
        root.insert(0, _cut_element())
        return
    seen = 0
    for index, child in enumerate(root):
        if child.tag == "p" and not _is_placeholder(child):
            seen += 1
            if seen == teaser_paragraphs:
                if index + 1 < len(root):
                    root.insert(index + 1, _cut_element())
                return


def _is_placeholder(p: etree.Element) -> bool:
    """Raw HTML blocks and the [TOC] marker sit in the tree as paragraphs, but are not text."""
    text = (p.text or "").strip()
    return len(p) == 0 and (text == "[TOC]" or bool(HTML_PLACEHOLDER_RE.fullmatch(text)))


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
