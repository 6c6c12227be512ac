"""Source text, positions and spans.

Every AST node and every diagnostic points back into a `SourceFile` through a
`Span`, so that messages can quote the line and put a caret under the culprit.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Span:
    """A half-open byte range [start, end) of one source file, with 1-based
    line/column of both ends (columns count characters, not bytes)."""

    start: int
    end: int
    line: int
    col: int
    end_line: int
    end_col: int

    def to(self, other: "Span") -> "Span":
        """The span covering self up to the end of `other`."""
        return Span(self.start, other.end, self.line, self.col, other.end_line, other.end_col)


@dataclass
class SourceFile:
    path: str
    text: str
    tokens: int = 0  # words and symbols, counted by the parser (see parser.MAX_TOKENS)
    _line_starts: list[int] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        starts = [0]
        for i, ch in enumerate(self.text):
            if ch == "\n":
                starts.append(i + 1)
        self._line_starts = starts

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return line + 1, offset - self._line_starts[line] + 1

    def span(self, start: int, end: int) -> Span:
        line, col = self.position(start)
        end_line, end_col = self.position(end)
        return Span(start, end, line, col, end_line, end_col)

    def line_text(self, line: int) -> str:
        if line < 1 or line > len(self._line_starts):
            return ""
        start = self._line_starts[line - 1]
        end = self.text.find("\n", start)
        return self.text[start:] if end < 0 else self.text[start:end]

    @property
    def line_count(self) -> int:
        return len(self._line_starts)
