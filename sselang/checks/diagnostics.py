"""The one diagnostic type every stage reports with (as in ruff or rustc):
a code, a severity, a message, the span it concerns and an optional help line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from ..syntax.source import Span


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Diagnostic:
    code: str
    severity: Severity
    message: str
    path: str
    span: Span | None = None
    help: str | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple:
        s = self.span
        return (self.path, s.line if s else 0, s.col if s else 0, self.code, self.message)

    def to_json(self) -> dict:
        s = self.span
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "file": self.path,
            "line": s.line if s else None,
            "column": s.col if s else None,
            "end_line": s.end_line if s else None,
            "end_column": s.end_col if s else None,
            "help": self.help,
            "notes": list(self.notes),
        }


class Reporter:
    """Collects diagnostics for one file; the stages share one per run."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.items: list[Diagnostic] = []

    def error(self, code: str, message: str, span: Span | None, help: str | None = None, path: str | None = None) -> None:
        self.items.append(Diagnostic(code, Severity.ERROR, message, path or self.path, span, help))

    def warning(self, code: str, message: str, span: Span | None, help: str | None = None, path: str | None = None) -> None:
        self.items.append(Diagnostic(code, Severity.WARNING, message, path or self.path, span, help))

    def add(self, diags: list[Diagnostic]) -> None:
        self.items.extend(diags)

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.items)

    def sorted(self) -> list[Diagnostic]:
        # de-duplicate: the same message at the same place is reported once
        seen, out = set(), []
        for d in sorted(self.items, key=Diagnostic.sort_key):
            k = (d.code, d.path, d.span, d.message)
            if k not in seen:
                seen.add(k)
                out.append(d)
        return out
