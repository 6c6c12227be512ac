"""The language server: `sselang lsp`, LSP over stdin/stdout (pygls).

Diagnostics are the ones `sselang check` prints, from the same front end
(`pipeline.front_end_text`), published on open, on every change and on save:
the front end takes a few milliseconds on a study (about half a second the
first time, while the chemistry tables load), so it runs on each keystroke
without a debounce and the squiggles are never older than the text.

Positions go through sselang/lsp/positions.py: spans count characters, LSP
counts UTF-16 code units unless the client agreed on another encoding.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from .. import __version__
from ..checks.diagnostics import Diagnostic
from . import lexer
from .completion import complete
from .hover import hover
from .positions import LineIndex, document_end, normalise

log = logging.getLogger("sselang.lsp")

_ITEM_KINDS = {
    "keyword": types.CompletionItemKind.Keyword,
    "key": types.CompletionItemKind.Property,
    "role": types.CompletionItemKind.Field,
    "material": types.CompletionItemKind.Class,
    "cell": types.CompletionItemKind.Struct,
    "library": types.CompletionItemKind.Constant,
    "unit": types.CompletionItemKind.Unit,
    "value": types.CompletionItemKind.EnumMember,
}


class StudyServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("sselang", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.shutdown_requested = False
        # the last study each document resolved to: hover and completion use it for
        # imported and inline materials while the text being typed has errors
        self.studies: dict[str, object] = {}

    @property
    def encoding(self) -> str:
        """The position encoding agreed at initialize: "utf-16", "utf-8" or "utf-32"."""
        enc = self.workspace.position_encoding or "utf-16"
        return getattr(enc, "value", enc)  # an lsprotocol enum member, or a plain string


def _doc_path(doc) -> str:
    """A file system path for `use` to resolve from; the URI itself for unsaved buffers."""
    return doc.path if doc.uri.startswith("file:") else doc.uri


# ---- diagnostics ---------------------------------------------------------------------------------
def _message(d: Diagnostic) -> str:
    msg = d.message
    if d.help:
        msg += f"\nhelp: {d.help}"
    for n in d.notes:
        msg += f"\nnote: {n}"
    return msg


def _use_ranges(text: str, path: str, index: LineIndex, encoding: str) -> list[tuple[Path, types.Range]]:
    """Each `use "file"` of the document: the file it names and the range of its string."""
    out = []
    sig = lexer.significant(lexer.tokenize(text))
    for a, b in zip(sig, sig[1:]):
        if a.kind == "word" and a.text == "use" and b.kind == "string":
            rel = b.text.strip('"')
            try:
                target = (Path(path).parent / rel).resolve()
            except (OSError, ValueError):
                continue
            (sl, sc), (el, ec) = index.position(b.start, encoding), index.position(b.end, encoding)
            out.append((target, types.Range(types.Position(sl, sc), types.Position(el, ec))))
    return out


def lsp_diagnostics(diags: list[Diagnostic], text: str, path: str, sources: dict, encoding: str = "utf-16"
                    ) -> list[types.Diagnostic]:
    """The front end's diagnostics of one document as LSP diagnostics.

    A diagnostic in a file the document imports is shown on the `use` line
    that brings it in, with its own place as related information, so a broken
    shared file is visible from every study that uses it."""
    index = LineIndex(text)
    uses = None
    out = []
    for d in diags:
        related = None
        message = _message(d)
        if d.path == path:
            if d.span is not None:
                (sl, sc), (el, ec) = index.span_range(d.span, encoding)
                rng = types.Range(types.Position(sl, sc), types.Position(el, ec))
            else:
                rng = types.Range(types.Position(0, 0), types.Position(0, 0))
        else:
            if uses is None:
                uses = _use_ranges(text, path, index, encoding)
            try:
                here = Path(d.path).resolve()
            except (OSError, ValueError):
                here = None
            rng = next((r for target, r in uses if target == here), uses[0][1] if uses else
                       types.Range(types.Position(0, 0), types.Position(0, 0)))
            where = d.path
            src = sources.get(d.path)
            if d.span is not None:
                where += f":{d.span.line}:{d.span.col}"
            message = f"{where}: {message}"
            if here is not None and d.span is not None and src is not None:
                other = LineIndex(src.text)
                (sl, sc), (el, ec) = other.span_range(d.span, encoding)
                related = [types.DiagnosticRelatedInformation(
                    types.Location(here.as_uri(), types.Range(types.Position(sl, sc), types.Position(el, ec))),
                    d.message)]
        out.append(types.Diagnostic(
            range=rng, message=message, code=d.code, source="sselang",
            severity=types.DiagnosticSeverity.Error if d.is_error else types.DiagnosticSeverity.Warning,
            related_information=related))
    return out


def validate(ls: StudyServer, uri: str) -> None:
    from ..pipeline import front_end_text

    doc = ls.workspace.get_text_document(uri)
    text = normalise(doc.source)
    path = _doc_path(doc)
    try:
        fe = front_end_text(text, path)
    except Exception as e:  # noqa: BLE001 - a bug in a check must not stop the server; say so in its log
        log.error("internal error while checking %s: %s: %s", uri, type(e).__name__, e, exc_info=True)
        return
    if fe.study is not None:
        ls.studies[uri] = fe.study
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
        uri=uri, version=doc.version,
        diagnostics=lsp_diagnostics(fe.diagnostics, text, path, fe.sources, ls.encoding)))


# ---- the server ----------------------------------------------------------------------------------
def build_server() -> StudyServer:
    server = StudyServer()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: StudyServer, params: types.DidOpenTextDocumentParams) -> None:
        validate(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: StudyServer, params: types.DidChangeTextDocumentParams) -> None:
        validate(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: StudyServer, params: types.DidSaveTextDocumentParams) -> None:
        validate(ls, params.text_document.uri)  # files it imports may have changed on disk

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: StudyServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.studies.pop(params.text_document.uri, None)
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=params.text_document.uri,
                                                                            diagnostics=[]))

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def on_hover(ls: StudyServer, params: types.HoverParams) -> types.Hover | None:
        doc = ls.workspace.get_text_document(params.text_document.uri)
        text = normalise(doc.source)
        index = LineIndex(text)
        offset = index.offset(params.position.line, params.position.character, ls.encoding)
        h = hover(text, offset, _doc_path(doc), ls.studies.get(params.text_document.uri))
        if h is None:
            return None
        (sl, sc), (el, ec) = index.position(h.start, ls.encoding), index.position(h.end, ls.encoding)
        return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=h.markdown),
                           range=types.Range(types.Position(sl, sc), types.Position(el, ec)))

    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=['"', "("]))
    def on_completion(ls: StudyServer, params: types.CompletionParams) -> types.CompletionList:
        doc = ls.workspace.get_text_document(params.text_document.uri)
        text = normalise(doc.source)
        index = LineIndex(text)
        offset = index.offset(params.position.line, params.position.character, ls.encoding)
        c = complete(text, offset, _doc_path(doc), ls.studies.get(params.text_document.uri))
        (sl, sc), (el, ec) = index.position(c.start, ls.encoding), index.position(c.end, ls.encoding)
        rng = types.Range(types.Position(sl, sc), types.Position(el, ec))
        items = [types.CompletionItem(
            label=i.label, kind=_ITEM_KINDS.get(i.kind), detail=i.detail or None,
            documentation=types.MarkupContent(kind=types.MarkupKind.Markdown, value=i.documentation)
            if i.documentation else None,
            sort_text=f"{n:04d}",  # keep the order the context gives (keys in the order of the docs)
            text_edit=types.TextEdit(range=rng, new_text=i.insert if i.insert is not None else i.label))
            for n, i in enumerate(c.items)]
        return types.CompletionList(is_incomplete=False, items=items)

    @server.feature(types.TEXT_DOCUMENT_FORMATTING)
    def on_formatting(ls: StudyServer, params: types.DocumentFormattingParams) -> list[types.TextEdit] | None:
        """`sselang fmt` on the buffer.  The canonical layout is fixed (2 spaces,
        88 columns), so the client's tab size is not consulted; a buffer with
        syntax errors gets no edit (the diagnostics already say why)."""
        from ..syntax.formatter import FormatError, format_source

        doc = ls.workspace.get_text_document(params.text_document.uri)
        text = normalise(doc.source)
        try:
            new = format_source(text, _doc_path(doc))
        except FormatError:
            return []
        if new == text:
            return []
        line, char = document_end(doc.source, ls.encoding)
        return [types.TextEdit(range=types.Range(types.Position(0, 0), types.Position(line, char)), new_text=new)]

    @server.feature(types.SHUTDOWN)
    def on_shutdown(ls: StudyServer, params) -> None:
        ls.shutdown_requested = True

    return server


class _OneLine(logging.Formatter):
    """Log lines for the editor's output panel: the message without a traceback
    (a client sending a malformed message is logged, not a crash); SSELANG_DEBUG=1
    keeps the tracebacks, as on the command line."""

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info and not os.environ.get("SSELANG_DEBUG"):
            err = record.exc_info[1]
            record = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None})
            record.msg, record.args = f"{record.getMessage()} ({type(err).__name__}: {err})", ()
        return super().format(record)


def serve() -> int:
    """Run the server on stdin/stdout until the client says exit; the exit code
    is 0 after a shutdown request and 1 without one, as LSP asks."""
    server = build_server()
    protocol_out = sys.stdout.buffer
    # Only JSON-RPC may reach stdout: anything a library prints goes to stderr instead.
    sys.stdout = sys.stderr
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_OneLine("sselang lsp: %(levelname)s: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    server.start_io(sys.stdin.buffer, protocol_out)
    return 0 if server.shutdown_requested else 1
