"""Printing diagnostics: the compiler layout for people, JSON for machines.

    examples/x.cell:12:13: error[SSE031]: 'Lj' is not an element (in 'LjCoO2')
       |
    12 |   formula = LjCoO2
       |             ^^
       = help: did you mean 'Li'?
"""

from __future__ import annotations

import json

from ..syntax.source import SourceFile
from .diagnostics import Diagnostic


def _visible(s: str) -> str:
    return "".join(ch if ch.isprintable() or ch == "\t" else "\ufffd" for ch in s).replace("\t", " ")


def render(d: Diagnostic, sources: dict[str, SourceFile], color: bool = False) -> str:
    def c(code: str, s: str) -> str:
        return f"\x1b[{code}m{s}\x1b[0m" if color else s

    sev = c("1;31" if d.is_error else "1;33", d.severity.value)
    where = d.path if d.span is None else f"{d.path}:{d.span.line}:{d.span.col}"
    lines = [f"{where}: {sev}[{d.code}]: {_visible(d.message)}"]
    src = sources.get(d.path)
    if d.span is not None and src is not None and 1 <= d.span.line <= src.line_count:
        text = _visible(src.line_text(d.span.line))
        gutter = str(d.span.line)
        pad = " " * len(gutter)
        if len(text) > 160:  # a pathological line: show a window around the span
            lo = max(0, d.span.col - 60)
            text, col = "..." + text[lo:lo + 120], d.span.col - lo + 3
        else:
            col = d.span.col
        end_col = d.span.end_col if d.span.end_line == d.span.line else len(text) + 1
        width = max(1, min(end_col - d.span.col, len(text) - col + 2))
        lines.append(f"{pad} |")
        lines.append(f"{gutter} | {text}")
        lines.append(f"{pad} | {' ' * (col - 1)}{c('1;31' if d.is_error else '1;33', '^' * width)}")
        prefix = f"{pad} = "
    else:
        prefix = "  = "
    if d.help:
        lines.append(f"{prefix}help: {_visible(d.help)}")
    for n in d.notes:
        lines.append(f"{prefix}note: {_visible(n)}")
    return "\n".join(lines)


def render_all(diags: list[Diagnostic], sources: dict[str, SourceFile], color: bool = False) -> str:
    parts = [render(d, sources, color) for d in diags]
    errors = sum(d.is_error for d in diags)
    warnings = len(diags) - errors
    if diags:
        parts.append(_summary(errors, warnings))
    return "\n\n".join(parts[:-1]) + ("\n\n" if len(parts) > 1 else "") + parts[-1] if parts else ""


def _summary(errors: int, warnings: int) -> str:
    bits = []
    if errors:
        bits.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        bits.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    return ", ".join(bits)


def to_json(diags: list[Diagnostic]) -> str:
    return json.dumps([d.to_json() for d in diags], indent=2, ensure_ascii=False)
