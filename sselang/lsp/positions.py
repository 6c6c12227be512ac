"""Character offsets in a study <-> LSP positions.

The front end counts characters: a `Span` holds Python string offsets and
1-based line/column numbers.  LSP positions are 0-based and their `character`
counts code units of the encoding agreed at initialize, UTF-16 unless the
client offers another.  The two agree on ASCII and on `Å`, `µ` or `°` (one
unit each in UTF-16), but not on a character outside the Basic Multilingual
Plane (two UTF-16 units) or on any non-ASCII character under UTF-8, so every
conversion goes through here and never assumes columns are equal.

Line breaks: the front end reads `\\r\\n` and `\\r` as `\\n` (as `sselang check`
does when it reads a file); LSP counts all three as line breaks too, so
`normalise` keeps line numbers and the columns within a line unchanged.
"""

from __future__ import annotations

import bisect
import re

UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"

_BREAK = re.compile(r"\r\n|\r|\n")


def normalise(text: str) -> str:
    """The text as the front end reads it: every line break a `\\n`."""
    return _BREAK.sub("\n", text)


def units(s: str, encoding: str = UTF16) -> int:
    """Length of `s` in code units of an LSP position encoding."""
    if encoding == UTF32:
        return len(s)
    if encoding == UTF8:
        return len(s.encode("utf-8"))
    return len(s.encode("utf-16-le")) // 2


def _chars_for_units(line: str, n: int, encoding: str) -> int:
    """How many characters of `line` make up its first `n` code units (a
    position inside a character snaps to its start, past the end to the end)."""
    if encoding == UTF32:
        return max(0, min(n, len(line)))
    count = 0
    for i, ch in enumerate(line):
        w = units(ch, encoding)
        if count + w > n:
            return i
        count += w
    return len(line)


class LineIndex:
    """Line starts of a normalised text, for conversions both ways."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line_text(self, line: int) -> str:
        """Text of a 0-based line, without its line break."""
        if line < 0 or line >= len(self.starts):
            return ""
        start = self.starts[line]
        end = self.starts[line + 1] - 1 if line + 1 < len(self.starts) else len(self.text)
        return self.text[start:end]

    def position(self, offset: int, encoding: str = UTF16) -> tuple[int, int]:
        """0-based (line, character) of a character offset."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.starts, offset) - 1
        return line, units(self.text[self.starts[line]:offset], encoding)

    def offset(self, line: int, character: int, encoding: str = UTF16) -> int:
        """Character offset of an LSP position (clamped into the text)."""
        if line < 0:
            return 0
        if line >= len(self.starts):
            return len(self.text)
        return self.starts[line] + _chars_for_units(self.line_text(line), character, encoding)

    def span_range(self, span, encoding: str = UTF16) -> tuple[tuple[int, int], tuple[int, int]]:
        """LSP (start, end) of a front-end `Span`; an empty span is widened to
        one character so the editor has something to underline."""
        start, end = span.start, max(span.end, span.start)
        if end == start and start < len(self.text) and self.text[start] != "\n":
            end = start + 1
        return self.position(start, encoding), self.position(end, encoding)


def document_end(text: str, encoding: str = UTF16) -> tuple[int, int]:
    """LSP position of the end of a document as the client holds it (any line
    breaks): where a whole-document edit must stop."""
    lines = _BREAK.split(text)
    return len(lines) - 1, units(lines[-1], encoding)
