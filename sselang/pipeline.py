"""The front end as one function: read -> parse -> resolve -> check.

    read      bytes to text (size, encoding and binary refused with a diagnostic)
    parse     text to syntax tree (sselang.syntax)
    resolve   syntax tree to the `Study` model, imports followed (sselang.model)
    check     physics and sanity checks on the study (sselang.checks)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .checks.diagnostics import Diagnostic, Reporter
from .syntax import ast
from .syntax.parser import MAX_FILE_BYTES, MAX_TOKENS, parse_text
from .syntax.source import SourceFile, Span


@dataclass
class FrontEnd:
    study: object | None  # sselang.model.study.Study
    diagnostics: list[Diagnostic]
    sources: dict[str, SourceFile]
    spans: object | None = None  # sselang.model.resolve.Spans: where each resolved thing was written

    @property
    def ok(self) -> bool:
        return self.study is not None and not any(d.is_error for d in self.diagnostics)


class StudyError(Exception):
    """Raised by `load` when a study has errors; carries the diagnostics."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        first = next((d for d in diagnostics if d.is_error), None)
        where = f"{first.path}:{first.span.line}:{first.span.col}: " if first and first.span else ""
        super().__init__(f"{where}{first.message}" if first else "study has errors")


def read_source(path: Path, shown: str, rep: Reporter, span=None, from_path: str | None = None) -> SourceFile | None:
    """Decode a study file, or report why it cannot be one."""
    at = from_path or shown
    try:
        if path.is_dir():
            rep.error("SSE005", f"'{shown}' is a directory, not a study file", span, path=at)
            return None
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        rep.error("SSE060" if span else "SSE005", f"file not found: {shown}", span, path=at)
        return None
    except OSError as e:
        rep.error("SSE060" if span else "SSE005", f"cannot read {shown}: {e.strerror or e}", span, path=at)
        return None
    if len(data) > MAX_FILE_BYTES:
        rep.error("SSE006", f"{shown} is larger than {MAX_FILE_BYTES // 1_000_000} MB; a study file is a few kB", span,
                  "keep data in the data sources, not in the study file", path=at)
        return None
    if b"\x00" in data:
        rep.error("SSE005", f"{shown} is a binary file, not a study", span, path=at)
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        if span is None:  # point at the bad byte: line and column from the text before it
            good = data[: e.start].decode("utf-8", errors="replace")
            line = good.count("\n") + 1
            col = len(good) - (good.rfind("\n") + 1) + 1
            span = Span(len(good), len(good) + 1, line, col, line, col + 1)
        rep.error("SSE005", f"{shown} is not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start})", span,
                  "save the file as UTF-8", path=at)
        return None
    return SourceFile(shown, text.replace("\r\n", "\n").replace("\r", "\n"))


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def front_end(path: str | Path) -> FrontEnd:
    path = Path(path)
    shown = str(path)
    rep = Reporter(shown)
    src = read_source(path, shown, rep)
    if src is None:
        return FrontEnd(None, rep.sorted(), {})
    return _from_source(src, rep)


def front_end_text(text: str, path: str = "<string>") -> FrontEnd:
    """The front end on text in memory (`use` paths resolve from the cwd)."""
    return _from_source(SourceFile(path, text), Reporter(path))


def _from_source(src: SourceFile, rep: Reporter) -> FrontEnd:
    shown = src.path
    sources: dict[str, SourceFile] = {shown: src}
    if not src.text.strip() or not _has_code(src.text):
        rep.error("SSE007", f"{shown} is empty: a study needs at least a study block", None,
                  'start with: study "my-study" { title = "..." }')
        return FrontEnd(None, rep.sorted(), sources)
    module = parse_text(src, rep)
    if module is None or rep.has_errors:
        return FrontEnd(None, rep.sorted(), sources)

    def load_import(target: Path, item: ast.UseDecl, from_path: str):
        shown_t = _display(target)
        s = read_source(target, shown_t, rep, span=item.path.span, from_path=from_path)
        if s is None:
            return None
        sources[shown_t] = s
        before = len(rep.items)
        # one budget of tokens for the study and every file it uses (see parser.MAX_TOKENS)
        left = MAX_TOKENS - sum(x.tokens for x in sources.values())
        mod = parse_text(s, rep, budget=left, span=item.path.span, from_path=from_path)
        if mod is None or any(d.is_error for d in rep.items[before:]):
            return None
        return mod, shown_t

    from .model.resolve import Resolver

    resolver = Resolver(rep, load_import)
    study = resolver.resolve(module, shown)
    if study is not None:
        from .checks.physics import check_study

        check_study(study, resolver.spans, rep)
    return FrontEnd(study if not rep.has_errors else None, rep.sorted(), sources, resolver.spans)


def _has_code(text: str) -> bool:
    return any(line.strip() and not line.strip().startswith("#") for line in text.splitlines())


def check(path: str | Path) -> list[Diagnostic]:
    """All diagnostics (errors and warnings) of a study file."""
    return front_end(path).diagnostics


def load(path: str | Path):
    """The resolved `Study` of a file; raises StudyError if it has errors."""
    fe = front_end(path)
    if not fe.ok:
        raise StudyError(fe.diagnostics)
    return fe.study
