"""Where Markdown source holds code (fenced blocks and code spans), which shows template tags as text on
purpose: the importers leave it alone, and `ssg check` does not report it."""
from __future__ import annotations

import bisect
import re

_FENCE_OPEN = re.compile(r"^( {0,3})(`{3,}|~{3,})[^\n]*$", re.M)
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.S)


def code_ranges(text: str) -> list[tuple[int, int]]:
    """Where a body holds code, (start, end) in order: fenced blocks and inline code spans. Conversions
    never touch them: code shows template tags as text on purpose."""
    ranges: list[tuple[int, int]] = []
    position = 0
    for opener in _FENCE_OPEN.finditer(text):
        if opener.start() < position:
            continue
        marker = opener.group(2)
        closer = re.compile(rf"^ {{0,3}}{re.escape(marker[0])}{{{len(marker)},}}[ \t]*$", re.M)
        found = closer.search(text, opener.end())
        end = found.end() if found else len(text)
        ranges += _spans(text, position, opener.start())
        ranges.append((opener.start(), end))
        position = end
    return ranges + _spans(text, position, len(text))


def _spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    return [(start + m.start(), start + m.end()) for m in _CODE_SPAN.finditer(text[start:end])
            if "\n\n" not in m.group(0)]


class Places:
    """Answers "is this offset inside code?" and "on which line of the file is it?" for one body."""

    def __init__(self, text: str, first_line: int):
        self.text, self.first_line = text, first_line
        self.ranges = code_ranges(text)
        self.starts = [start for start, _ in self.ranges]

    def in_code(self, offset: int) -> bool:
        index = bisect.bisect_right(self.starts, offset) - 1
        return index >= 0 and self.ranges[index][0] <= offset < self.ranges[index][1]

    def line(self, offset: int) -> int:
        return self.first_line + self.text.count("\n", 0, offset)
