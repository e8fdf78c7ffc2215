"""CommonMark's block and inline rules where Python-Markdown's differ in ways authors hit (lists, fences, HTML blocks)."""
from __future__ import annotations

import re
import string
import xml.etree.ElementTree as etree
from dataclasses import dataclass
from html import unescape

import markdown
from markdown.blockprocessors import (BlockProcessor, HashHeaderProcessor, HRProcessor, ParagraphProcessor)
from markdown.extensions import Extension
from markdown.extensions.codehilite import CodeHilite, CodeHiliteExtension
from markdown.extensions.tables import TableProcessor
from markdown.inlinepatterns import (AutolinkInlineProcessor, AutomailInlineProcessor, BacktickInlineProcessor,
                                     HtmlInlineProcessor, InlineProcessor, SimpleTagInlineProcessor,
                                     SubstituteTagInlineProcessor)
from markdown.postprocessors import Postprocessor, RawHtmlPostprocessor
from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString

# Python-Markdown hands block processors the text split at blank lines ("blocks"). CommonMark's containers are
# defined line by line, so the processors below join the blocks they need back into lines: joining with "\n\n"
# gives back the text exactly, and what they do not use is split again into blocks.


def take_lines(blocks: list[str]) -> list[str]:
    """All the remaining lines of the container being parsed (the caller puts back what it does not use)."""
    lines = "\n\n".join(blocks).split("\n")
    blocks.clear()
    return lines


def give_back(blocks: list[str], lines: list[str]) -> None:
    while lines and not lines[0].strip():
        lines = lines[1:]
    if lines:
        blocks[0:0] = "\n".join(lines).split("\n\n")


# --- what starts a block ---------------------------------------------------------------------------
# Tabs are already spaces here: Python-Markdown expands them (to 4 columns) before any processor runs.

LIST_ITEM = re.compile(r"( {0,3})(?:([-+*])|(\d{1,9})([.)]))(?= |$)")
THEMATIC_BREAK = re.compile(r" {0,3}(?:(?:\*[ ]*){3,}|(?:-[ ]*){3,}|(?:_[ ]*){3,})$")
ATX_HEADING = re.compile(r" {0,3}#{1,6}(?: |$)")
FENCE = re.compile(r"( {0,3})(`{3,}(?=[^`]*$)|~{3,})(.*)$")
BLOCKQUOTE = re.compile(r" {0,3}>")
SETEXT_UNDERLINE = re.compile(r" {0,3}(?:=+|-+) *$")
TABLE_DELIMITER_ROW = re.compile(r" {0,3}\|? *:?-+:? *(?:\| *:?-+:? *)*\|? *$")

_BLOCK_TAGS = ("address|article|aside|base|basefont|blockquote|body|caption|center|col|colgroup|dd|details|dialog|"
               "dir|div|dl|dt|fieldset|figcaption|figure|footer|form|frame|frameset|h[1-6]|head|header|hr|html|"
               "iframe|legend|li|link|main|menu|menuitem|nav|noframes|ol|optgroup|option|p|param|search|section|"
               "summary|table|tbody|td|tfoot|th|thead|title|tr|track|ul")
_ATTRIBUTE = r"""(?:\s+[A-Za-z_:][A-Za-z0-9_.:-]*(?:\s*=\s*(?:[^\s"'=<>`]+|'[^']*'|"[^"]*"))?)"""
OPEN_TAG = rf"<[A-Za-z][A-Za-z0-9-]*{_ATTRIBUTE}*\s*/?>"
CLOSING_TAG = r"</[A-Za-z][A-Za-z0-9-]*\s*>"
# CommonMark's seven kinds of HTML block: how each starts and, for the first five, the line that ends it
# (the last two end at a blank line). Only the seventh, a lone tag of any name, cannot interrupt a paragraph.
HTML_BLOCK_STARTS = [
    (re.compile(r" {0,3}<(?:script|pre|style|textarea)(?:\s|>|$)", re.I),
     re.compile(r"</(?:script|pre|style|textarea)>", re.I)),
    (re.compile(r" {0,3}<!--"), re.compile(r"-->")),
    (re.compile(r" {0,3}<\?"), re.compile(r"\?>")),
    (re.compile(r" {0,3}<![A-Za-z]"), re.compile(r">")),
    (re.compile(r" {0,3}<!\[CDATA\["), re.compile(r"\]\]>")),
    (re.compile(rf" {{0,3}}</?(?:{_BLOCK_TAGS})(?:\s|/?>|$)", re.I), None),
    (re.compile(rf" {{0,3}}(?:{OPEN_TAG}|{CLOSING_TAG})\s*$"), None),
]


def indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def html_block_kind(line: str) -> int | None:
    """Index into HTML_BLOCK_STARTS of the HTML block this line starts, if any."""
    if "<" not in line[:4]:
        return None
    for kind, (start, _) in enumerate(HTML_BLOCK_STARTS):
        if start.match(line):
            return kind
    return None


def starts_block(line: str) -> bool:
    """Does the line start something other than a paragraph (so it cannot be a paragraph's first line)?"""
    return (indent_of(line) >= 4 or bool(LIST_ITEM.match(line) or THEMATIC_BREAK.match(line)
            or ATX_HEADING.match(line) or FENCE.match(line) or BLOCKQUOTE.match(line))
            or html_block_kind(line) is not None)


def interrupts_paragraph(line: str, next_line: str | None = None) -> bool:
    """Can the line end the paragraph above it without a blank line? In CommonMark a list can (when it starts
    with an item that is not empty and, if numbered, numbered 1), and so can headings, rules, quotes, fences
    and HTML blocks other than a lone inline tag; in GFM a table too."""
    if indent_of(line) >= 4:
        return False
    item = LIST_ITEM.match(line)
    if item and line[item.end():].strip() and item.group(3) in (None, "1"):
        return True
    if THEMATIC_BREAK.match(line) or ATX_HEADING.match(line) or FENCE.match(line) or BLOCKQUOTE.match(line):
        return True
    kind = html_block_kind(line)
    if kind is not None and kind < 6:
        return True
    return next_line is not None and "|" in line and bool(TABLE_DELIMITER_ROW.match(next_line)) \
        and "-" in next_line


def ends_in_paragraph(lines: list[str]) -> bool:
    """Is the last of these lines (a container's content so far) paragraph text, so that a lazy line may
    continue it? Looks through nested list markers and quote markers; fenced code, indented code, headings
    and rules are not paragraphs."""
    if not lines or not lines[-1].strip():
        return False
    fence = None
    for line in lines:  # an open fence at the end means the last line is code
        stripped = line.lstrip(" >-+*0123456789.)")
        opened = FENCE.match(stripped)
        if fence is None and opened:
            fence = opened.group(2)[0] * len(opened.group(2))
        elif fence is not None and stripped.strip().startswith(fence) and not stripped.strip(fence[0]).strip():
            fence = None
    if fence is not None:
        return False
    last = _without_container_markers(lines[-1])
    if not last.strip() or THEMATIC_BREAK.match(last) or ATX_HEADING.match(last):
        return False
    if SETEXT_UNDERLINE.match(last) and len(lines) > 1:
        return False
    if indent_of(last) >= 4:  # indented code, unless it continues a paragraph begun above the indented lines
        i = len(lines) - 1
        while i > 0 and lines[i - 1].strip() and indent_of(lines[i - 1]) >= 4:
            i -= 1
        return i > 0 and ends_in_paragraph(lines[:i])
    return True


def _without_container_markers(line: str) -> str:
    """The line without the list markers and quote markers that open it ("> - text" -> "text")."""
    while True:
        item = LIST_ITEM.match(line)
        quote = BLOCKQUOTE.match(line)
        if item and not THEMATIC_BREAK.match(line):
            line = line[item.end():].lstrip(" ")
        elif quote:
            line = line[quote.end():]
            line = line[1:] if line.startswith(" ") else line
        else:
            return line


# --- lists -----------------------------------------------------------------------------------------

@dataclass(slots=True)
class Marker:
    kind: str          # "-", "+", "*" for bullets; "." or ")" for numbered items
    start: int | None  # the number of a numbered item
    offset: int        # the column where the item's content starts
    first: str         # the content on the marker's line


def list_marker(line: str) -> Marker | None:
    m = LIST_ITEM.match(line)
    if not m or THEMATIC_BREAK.match(line):  # "* * *" is a rule, not three nested items
        return None
    after = line[m.end():]
    spaces = indent_of(after)
    if not after.strip():
        offset, first = m.end() + 1, ""
    elif spaces > 4:  # the item starts with indented code: its content begins one space after the marker
        offset, first = m.end() + 1, after[1:]
    else:
        offset, first = m.end() + spaces, after[spaces:]
    kind = m.group(2) or m.group(4)
    return Marker(kind, int(m.group(3)) if m.group(3) else None, offset, first)


@dataclass(slots=True)
class ParsedList:
    ordered: bool
    start: int
    items: list[list[str]]  # each item's lines, unindented by the item's content offset
    loose: bool
    end: int                # index of the first line after the list (blank lines after it not included)


def parse_list(lines: list[str], i: int) -> ParsedList:
    """CommonMark's list rules: an item's content is what is indented to its content column (2 for "- ",
    3 for "1. "), plus lazy paragraph lines; an item of another kind starts a new list."""
    first = list_marker(lines[i])
    assert first is not None
    items: list[list[str]] = []
    loose = False
    while i < len(lines):
        while items and i < len(lines) - 1 and not lines[i].strip():
            i += 1
        marker = list_marker(lines[i])
        if marker is None or marker.kind != first.kind:
            break
        if items and not lines[i - 1].strip():
            loose = True  # a blank line between two items
        content = [marker.first]
        i += 1
        while i < len(lines):
            line = lines[i]
            if not line.strip():
                if content == [""]:
                    break  # an item may begin with at most one blank line
                content.append("")
            elif indent_of(line) >= marker.offset:
                content.append(line[marker.offset:])
            elif content[-1] and not list_marker(line) and not interrupts_paragraph(line) \
                    and ends_in_paragraph(content):
                content.append(line)  # a lazy continuation of the item's last paragraph
            else:
                break
            i += 1
        while content and not content[-1].strip():
            content.pop()
        while content and not content[0].strip():
            content.pop(0)
        items.append(content)
        if _blank_inside(content):
            loose = True
    return ParsedList(ordered=first.start is not None, start=1 if first.start is None else first.start,
                      items=items, loose=loose, end=_end_of(lines, i))


def _end_of(lines: list[str], i: int) -> int:
    while i > 0 and not lines[i - 1].strip():
        i -= 1
    return i


def _blank_inside(content: list[str]) -> bool:
    """Does an item hold two blocks with a blank line between them (which makes its list loose)? Blank lines
    inside fenced or indented code and inside a nested list do not count."""
    i = 0
    fence = None
    while i < len(content):
        line = content[i]
        if fence is not None:
            if line.strip().startswith(fence) and not line.strip().strip(fence[0]):
                fence = None
        elif FENCE.match(line):
            fence = FENCE.match(line).group(2)
        elif list_marker(line):
            i = parse_list(content, i).end
            if i < len(content):
                return True  # the nested list ended at a blank line and the item goes on
            continue
        elif not line.strip():
            following = next((x for x in content[i:] if x.strip()), None)
            if following is not None and not (indent_of(following) >= 4 and indent_of(content[i - 1]) >= 4):
                return True
        i += 1
    return False


class ListProcessor(BlockProcessor):
    """Bullet and numbered lists by CommonMark's rules (Python-Markdown's need 4-space nesting and flatten
    2-space nested lists, changing their meaning). Item content is parsed by the whole block parser."""

    def test(self, parent: etree.Element, block: str) -> bool:
        return list_marker(block.split("\n", 1)[0]) is not None

    def run(self, parent: etree.Element, blocks: list[str]) -> None:
        lines = take_lines(blocks)
        parsed = parse_list(lines, 0)
        give_back(blocks, lines[parsed.end:])
        element = etree.SubElement(parent, "ol" if parsed.ordered else "ul")
        if parsed.ordered and parsed.start != 1:
            element.set("start", str(parsed.start))
        for item in parsed.items:
            li = etree.SubElement(element, "li")
            # In the "list" state Python-Markdown's paragraph processor puts text straight into the <li>.
            self.parser.state.set("looselist" if parsed.loose else "list")
            self.parser.parseBlocks(li, "\n".join(item).split("\n\n") if item else [])
            self.parser.state.reset()
            if li.text and len(li):
                li.text = li.text.rstrip() + "\n"  # "foo\n<ul>" as CommonMark writes it: a space when read


# --- quotes, fences, HTML blocks, headings -----------------------------------------------------------

class BlockquoteProcessor(BlockProcessor):
    """A quote goes on while lines start with ">" or lazily continue its last paragraph; a blank line ends it
    (Python-Markdown would merge two quotes separated by a blank line, and take any following line)."""

    def test(self, parent: etree.Element, block: str) -> bool:
        return bool(BLOCKQUOTE.match(block))

    def run(self, parent: etree.Element, blocks: list[str]) -> None:
        lines = blocks.pop(0).split("\n")
        content: list[str] = []
        i = 0
        while i < len(lines):
            line = lines[i]
            quote = BLOCKQUOTE.match(line)
            if quote:
                rest = line[quote.end():]
                content.append(rest[1:] if rest.startswith(" ") else rest)
            elif ends_in_paragraph(content) and not interrupts_paragraph(line):
                content.append(line)
            else:
                break
            i += 1
        give_back(blocks, lines[i:])
        quote_element = etree.SubElement(parent, "blockquote")
        self.parser.state.set("blockquote")
        self.parser.parseChunk(quote_element, "\n".join(x if x.strip() else "" for x in content))
        self.parser.state.reset()


class FenceProcessor(BlockProcessor):
    """Fenced code by CommonMark's rules: indented fences, ~~~, a fence left open runs to the end of its
    container, and fences inside lists and quotes. Highlighted by Pygments through CodeHilite, as before."""

    def __init__(self, parser, md: markdown.Markdown):
        super().__init__(parser)
        self.md = md

    def test(self, parent: etree.Element, block: str) -> bool:
        return bool(FENCE.match(block.split("\n", 1)[0]))

    def run(self, parent: etree.Element, blocks: list[str]) -> None:
        lines = take_lines(blocks)
        opening = FENCE.match(lines[0])
        indent, fence, info = len(opening.group(1)), opening.group(2), opening.group(3).strip()
        closing = re.compile(rf" {{0,3}}{re.escape(fence[0])}{{{len(fence)},}} *$")
        code = []
        i = 1
        while i < len(lines) and not closing.match(lines[i]):
            line = lines[i]
            code.append(line[min(indent, indent_of(line)):])
            i += 1
        give_back(blocks, lines[i + 1:])
        language = unescape(re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", info.split()[0])).strip("{}.") if info else ""
        html = self.highlight("\n".join(code) + ("\n" if code else ""), language)
        placeholder = self.md.htmlStash.store(html)
        etree.SubElement(parent, "p").text = placeholder

    def highlight(self, code: str, language: str) -> str:
        config = next((ext.getConfigs() for ext in self.md.registeredExtensions
                       if isinstance(ext, CodeHiliteExtension)), None)
        if config is None:
            escaped = code.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            css = f' class="language-{language}"' if language else ""
            return f"<pre><code{css}>{escaped}</code></pre>"
        config = dict(config)
        return CodeHilite(code, lang=language or None, style=config.pop("pygments_style", "default"),
                          **config).hilite(shebang=False)


class HtmlBlockProcessor(BlockProcessor):
    """Raw HTML blocks by CommonMark's rules, replacing Python-Markdown's tag-balancing preprocessor: a block
    starting with a block tag such as <div> ends at a blank line, so Markdown after a blank line inside a
    <div> is Markdown; <script>, <pre>, <style>, <textarea> and comments run to their end tag."""

    def __init__(self, parser, md: markdown.Markdown, raw_blocks: set[str]):
        super().__init__(parser)
        self.md = md
        self.raw_blocks = raw_blocks

    def test(self, parent: etree.Element, block: str) -> bool:
        return html_block_kind(block.split("\n", 1)[0]) is not None

    def run(self, parent: etree.Element, blocks: list[str]) -> None:
        end = HTML_BLOCK_STARTS[html_block_kind(blocks[0].split("\n", 1)[0])][1]
        if end is None:
            lines = blocks.pop(0).split("\n")
            i = len(lines)
        else:
            lines = take_lines(blocks)
            i = next((n + 1 for n, line in enumerate(lines) if end.search(line)), len(lines))
        give_back(blocks, lines[i:])
        html = "\n".join(lines[:i]).rstrip()
        self.raw_blocks.add(html)
        etree.SubElement(parent, "p").text = self.md.htmlStash.store(html)


class AtxHeadingProcessor(HashHeaderProcessor):
    """"# Heading": up to three spaces before, a space after the #s ("#5" and "#hashtag" are text), closing
    #s only after a space."""

    RE = re.compile(r"(?:^|\n) {0,3}(?P<level>#{1,6})(?P<header>(?: [^\n]*?)?)(?: +#+)? *(?:\n|$)")


class SetextHeadingProcessor(BlockProcessor):
    """A paragraph, of one line or more, underlined with = or -."""

    def test(self, parent: etree.Element, block: str) -> bool:
        return self.underline(block.split("\n")) is not None

    def underline(self, lines: list[str]) -> int | None:
        if starts_block(lines[0]):
            return None
        for n, line in enumerate(lines[1:], 1):
            if SETEXT_UNDERLINE.match(line):
                return n
            if interrupts_paragraph(line):
                return None
        return None

    def run(self, parent: etree.Element, blocks: list[str]) -> None:
        lines = blocks.pop(0).split("\n")
        n = self.underline(lines)
        heading = etree.SubElement(parent, "h1" if lines[n].strip().startswith("=") else "h2")
        heading.text = "\n".join(line.strip() for line in lines[:n])
        give_back(blocks, lines[n + 1:])


class ThematicBreakProcessor(HRProcessor):
    """Rules with any spacing between the characters ("-  -  -", "*\t*\t*")."""

    SEARCH_RE = re.compile(r"^ {0,3}(?:(?:\*[ ]*){3,}|(?:-[ ]*){3,}|(?:_[ ]*){3,})$", re.MULTILINE)


class InterruptedParagraphProcessor(BlockProcessor):
    """Split a paragraph where a list, quote, heading, rule, fence, HTML block or table starts on the next
    line without a blank line before it: CommonMark ends the paragraph there, Python-Markdown kept it as text."""

    def test(self, parent: etree.Element, block: str) -> bool:
        return "\n" in block and self.split_at(block.split("\n")) is not None

    def split_at(self, lines: list[str]) -> int | None:
        if starts_block(lines[0]):
            return None
        for n in range(1, len(lines)):
            if interrupts_paragraph(lines[n], lines[n + 1] if n + 1 < len(lines) else None):
                return n
        return None

    def run(self, parent: etree.Element, blocks: list[str]) -> None:
        lines = blocks.pop(0).split("\n")
        n = self.split_at(lines)
        blocks.insert(0, "\n".join(lines[n:]))
        self.parser.parseBlocks(parent, ["\n".join(lines[:n])])


class TrimmedParagraphProcessor(ParagraphProcessor):
    """A paragraph's trailing spaces are not part of its text (nor a hard line break)."""

    def run(self, parent: etree.Element, blocks: list[str]) -> None:
        blocks[0] = blocks[0].rstrip()
        super().run(parent, blocks)


class GfmTableProcessor(TableProcessor):
    """GFM tables: no empty body row when the table has none, and \\| is a plain | in a cell, code included."""

    def run(self, parent: etree.Element, blocks: list[str]) -> None:
        rows = len(blocks[0].strip("\n").split("\n"))
        super().run(parent, blocks)
        if rows < 3:
            table = parent[-1]
            tbody = table.find("tbody")
            if tbody is not None:
                table.remove(tbody)

    def _split_row(self, row: str) -> list[str]:
        return [cell.replace("\\|", "|") for cell in super()._split_row(row)]


# --- inline ------------------------------------------------------------------------------------------

class CodeSpanProcessor(BacktickInlineProcessor):
    """`code`: one space is stripped from each side only when both sides have one (so `` ` `` shows a
    backtick), and a run of backticks never starts in the middle of a longer run."""

    def __init__(self, md: markdown.Markdown):
        super().__init__(r"(?:(?<!\\)((?:\\{2})+)(?=`+)|(?<![\\`])(`+)(.+?)(?<!`)\2(?!`))")
        self.md = md

    def handleMatch(self, m, data):  # noqa: N802 (Python-Markdown's API name)
        if not m.group(3):
            return super().handleMatch(m, data)
        code = m.group(3).replace("\n", " ")
        if len(code) > 2 and code[0] == code[-1] == " " and code.strip(" "):
            code = code[1:-1]
        element = etree.Element(self.tag)
        element.text = AtomicString(markdown.util.code_escape(code))
        return element, m.start(0), m.end(0)


class CommonMarkAutolinkProcessor(AutolinkInlineProcessor):
    """<scheme:anything-but-spaces>: any scheme of 2 to 32 characters, not only http and ftp."""

    def handleMatch(self, m, data):  # noqa: N802
        element = etree.Element("a")
        element.set("href", m.group(1))
        element.text = AtomicString(m.group(1))
        return element, m.start(0), m.end(0)


class CommonMarkHtmlProcessor(HtmlInlineProcessor):
    """Inline raw HTML only where CommonMark sees a tag, comment, declaration or processing instruction, so
    that "<https://x y>" or "a < b > c" stay text."""


_RAW_HTML = (rf"({OPEN_TAG}|{CLOSING_TAG}|<!-->|<!--->|<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<![A-Za-z][^>]*>"
             r"|<!\[CDATA\[[\s\S]*?\]\]>)")
_EMAIL = (r"<([a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
          r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*)>")
# Character references as CommonMark bounds them (&#87654321; is text, not U+FFFD).
_ENTITY = r"(&(?:\#[0-9]{1,7}|\#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});)"
# GFM strikethrough: one or two tildes on each side, the same number, not part of a longer run.
_STRIKE = r"(?<!~)(~~?)(?!~)(?=\S)(.+?)(?<=\S)(?<!~)\1(?!~)"
# The tags GFM filters out of raw HTML that are never right in an article body: left open, each one swallows
# the rest of the page (<xmp>, <textarea>, <plaintext>...). Scripts, styles and iframes (embeds) pass.
_FILTERED_TAGS = re.compile(r"<(?=/?(?:title|textarea|xmp|noembed|noframes|plaintext)[\s/>])", re.I)


class TagFilterPostprocessor(Postprocessor):
    def run(self, text: str) -> str:
        return _FILTERED_TAGS.sub("&lt;", text) if "<" in text else text


class BlockHtmlPostprocessor(RawHtmlPostprocessor):
    """Put raw HTML blocks back without the <p> Python-Markdown adds around ones that start with an inline
    tag such as <a> or <del> (a raw block is a block whatever its first tag)."""

    def __init__(self, md: markdown.Markdown, raw_blocks: set[str]):
        super().__init__(md)
        self.raw_blocks = raw_blocks

    def isblocklevel(self, html: str) -> bool:
        return html in self.raw_blocks or super().isblocklevel(html)


class ImageAltTreeprocessor(Treeprocessor):
    """An image's alt text is plain text: the markup inside the brackets is dropped, as CommonMark says."""

    # Underscores only at word edges: snake_case_names in alt text stay as written.
    MARKUP = re.compile(r"!?\[([^\]]*)\]\([^)]*\)|(\*{1,3}|(?<![^\W_])_{1,3})(?=\S)(.+?)(?<=\S)\2(?![^\W_])")

    def run(self, root: etree.Element) -> None:
        for image in root.iter("img"):
            alt = image.get("alt")
            if alt and ("*" in alt or "_" in alt or "[" in alt):
                image.set("alt", self.MARKUP.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(3),
                                                 alt))


class EmptyItemTreeprocessor(Treeprocessor):
    """Write an empty list item as <li></li> with nothing after it, as CommonMark's reference renderer does
    (runs after Python-Markdown's prettifier, which puts a line break after every item)."""

    def run(self, root: etree.Element) -> None:
        for item in root.iter("li"):
            if not item.text and not len(item):
                item.tail = None


class BareLinkProcessor(InlineProcessor):
    """GFM's extended autolinks: a bare http://, https://, ftp:// or www. address becomes a link. Ours, not
    magiclink's: its rules changed between the releases that Pythons before and after 3.11.5 get, and a link
    must not depend on the Python that built the site. The domain may start with any character that is not
    a letter or digit too (GFM links http://🍄.ga/)."""

    START = r"(?i)(?<![^\s*_~(\x02\x03'\"])(?:(?:https?|ftp)://|(?P<www>www\.))"
    DOMAIN_AND_PATH = re.compile(r"[^\s<>\x02\x03_.][^\s<>\x02\x03]*")
    TRAILING = ".,:;!?*_~'\""

    def handleMatch(self, m, data):  # noqa: N802
        rest = self.DOMAIN_AND_PATH.match(data, m.end(0))
        if rest is None:
            return None, None, None
        end = rest.end(0)
        # Punctuation ending a sentence is not part of the link, nor a ")" the link did not open.
        while end > rest.start(0) and (data[end - 1] in self.TRAILING
                                       or data[end - 1] == ")" and data[m.start(0):end].count("(") < data[
                                           m.start(0):end].count(")")):
            end -= 1
        domain = re.match(r"[^/?#]*", data[rest.start(0):end]).group(0).split(".")
        if m.group("www") and len(domain) < 2 or any("_" in part for part in domain[-2:]):
            return None, None, None  # GFM: no underscore in the last two parts; www. needs a period after it
        link = data[m.start(0):end]
        element = etree.Element("a", {"href": "http://" + link if m.group("www") else link})
        element.text = AtomicString(link)
        return element, m.start(0), end


class BareEmailProcessor(InlineProcessor):
    """GFM's extended e-mail autolinks: a bare address becomes a mailto: link (no "-" or "_" last)."""

    PATTERN = r"(?<![\w.+-])([\w.+-]+@[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.[A-Za-z0-9_-]*[A-Za-z0-9])(?![\w@-])"

    def handleMatch(self, m, data):  # noqa: N802
        element = etree.Element("a", {"href": "mailto:" + m.group(1)})
        element.text = AtomicString(m.group(1))
        return element, m.start(0), m.end(0)


class Prefiltered:
    """A compiled pattern that runs only on text holding one of its needles. Python-Markdown searches every
    inline pattern in every text node, and Python's re has no shortcut for a character a match must contain:
    magiclink's e-mail pattern alone cost 0.7 ms per article before this (an "@" check costs nothing)."""

    def __init__(self, compiled: re.Pattern, needles: tuple[str, ...]):
        self.compiled, self.needles = compiled, needles

    def finditer(self, text: str, pos: int = 0):
        return self.compiled.finditer(text, pos) if any(needle in text for needle in self.needles) else iter(())

    def search(self, text: str, pos: int = 0):
        return self.compiled.search(text, pos) if any(needle in text for needle in self.needles) else None


def prefilter(processor: InlineProcessor, *needles: str) -> InlineProcessor:
    processor.compiled_re = Prefiltered(processor.compiled_re, needles)
    return processor


class CommonMarkExtension(Extension):
    """Registers the processors above in place of Python-Markdown's own."""

    def __init__(self) -> None:
        super().__init__()
        self.raw_blocks: set[str] = set()  # the raw HTML blocks of the document being converted

    def reset(self) -> None:
        self.raw_blocks.clear()

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802
        md.registerExtension(self)
        md.ESCAPED_CHARS = sorted(set(md.ESCAPED_CHARS) | set(string.punctuation))
        md.preprocessors.deregister("html_block")  # HTML blocks are found by HtmlBlockProcessor instead
        blocks = md.parser.blockprocessors
        for name in ("indent", "olist", "ulist", "hashheader", "setextheader", "hr", "quote", "paragraph"):
            blocks.deregister(name)
        blocks.register(FenceProcessor(md.parser, md), "fence", 95)
        blocks.register(HtmlBlockProcessor(md.parser, md, self.raw_blocks), "html_block", 92)
        blocks.register(ListProcessor(md.parser), "list", 76)
        if "table" in blocks:
            blocks.register(GfmTableProcessor(md.parser, blocks["table"].config), "table", 75)
        blocks.register(SetextHeadingProcessor(md.parser), "setextheader", 72)
        blocks.register(InterruptedParagraphProcessor(md.parser), "interrupted_paragraph", 71)
        blocks.register(AtxHeadingProcessor(md.parser), "hashheader", 70)
        blocks.register(ThematicBreakProcessor(md.parser), "hr", 50)
        blocks.register(BlockquoteProcessor(md.parser), "quote", 20)
        blocks.register(TrimmedParagraphProcessor(md.parser), "paragraph", 10)

        inline = md.inlinePatterns
        inline.register(prefilter(CodeSpanProcessor(md), "`"), "backtick", 190)
        autolink = CommonMarkAutolinkProcessor(r"(?<!\\)<([A-Za-z][A-Za-z0-9.+-]{1,31}:[^<>\x00-\x20]*)>", md)
        inline.register(prefilter(autolink, "<"), "autolink", 185)
        inline.register(prefilter(AutomailInlineProcessor(r"(?<!\\)" + _EMAIL, md), "@"), "automail", 184)
        inline.register(prefilter(SubstituteTagInlineProcessor(r"\\\n", "br"), "\\\n"), "backslash_break", 183)
        inline.register(prefilter(SubstituteTagInlineProcessor(r" {2,}\n", "br"), "  \n"), "linebreak", 100)
        inline.register(prefilter(CommonMarkHtmlProcessor(_RAW_HTML, md), "<"), "html", 90)
        inline.register(prefilter(HtmlInlineProcessor(_ENTITY, md), "&"), "entity", 80)
        inline.register(prefilter(SimpleTagInlineProcessor(_STRIKE, "del"), "~"), "strikethrough", 65)
        md.treeprocessors.register(ImageAltTreeprocessor(md), "image_alt", 19)
        md.treeprocessors.register(EmptyItemTreeprocessor(md), "empty_item", 6)
        inline.register(prefilter(BareLinkProcessor(BareLinkProcessor.START, md), "://", "www.", "WWW."),
                        "bare_link", 85)
        inline.register(prefilter(BareEmailProcessor(BareEmailProcessor.PATTERN, md), "@"), "bare_email", 84)
        # The same shortcut for Python-Markdown's and PyMdown's own patterns: most text has no link, no
        # e-mail address, no backslash; it makes the whole conversion faster than before this extension.
        needles = {"reference": ("[",), "link": ("[",), "short_reference": ("[",),
                   "image_link": ("![",), "image_reference": ("![",), "short_image_ref": ("![",),
                   "footnote": ("[^",), "escape": ("\\",), "delimiter": ("*", "_"), "em_strong": ("*",),
                   "em_strong2": ("_",)}
        for name, characters in needles.items():
            if name in inline:
                prefilter(inline[name], *characters)
        md.postprocessors.register(BlockHtmlPostprocessor(md, self.raw_blocks), "raw_html", 30)
        md.postprocessors.register(TagFilterPostprocessor(md), "tag_filter", 25)
