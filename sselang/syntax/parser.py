"""Text -> syntax tree, with compiler-style syntax errors.

The whole file is parsed first.  If that fails, the file is cut into its
top-level items (a line that starts in column 1 with a top-level keyword
begins an item) and each item is parsed on its own, so one run reports the
first syntax error of every broken item, not only the first of the file.
"""

from __future__ import annotations

import re

from lark import Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from ..checks.diagnostics import Diagnostic, Reporter, Severity
from ..checks.suggest import closest
from . import ast
from .grammar import TOP_LEVEL_KEYWORDS, describe_terminal, keyword_terminals, lark_parser
from .source import SourceFile, Span

MAX_FILE_BYTES = 1_000_000  # a study is a few kB; refuse what cannot be one
MAX_DEPTH = 32  # a study nests 4 or 5 levels; deeper input would only exhaust the parser's recursion
# Words, numbers and symbols a study (with the files it uses) may hold.  The parser takes
# about 15 us a token, so 1 MB of dense tokens ("1,1,1,...") would take 15 s or more; a real
# study holds a few thousand (a screen of 5000 candidates about 10,000).
MAX_TOKENS = 100_000
_TOKENS = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|[A-Za-z0-9_.]+|\S')


def _tok_span(tok: Token) -> Span:
    return Span(tok.start_pos, tok.end_pos, tok.line, tok.column, tok.end_line, tok.end_column)


def _meta_span(meta) -> Span:
    return Span(meta.start_pos, meta.end_pos, meta.line, meta.column, meta.end_line, meta.end_column)


def _unescape(lexeme: str) -> str:
    body = lexeme[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


@v_args(meta=True)
class _ToAst(Transformer):
    """lark parse tree -> sselang.syntax.ast."""

    # names and values
    def ident(self, meta, ch):
        tok = ch[0]
        return ast.Ident(_tok_span(tok), str(tok))

    def number(self, meta, ch):
        tok = ch[0]
        return ast.Number(_tok_span(tok), str(tok))

    def quantity(self, meta, ch):
        num, unit = ch
        return ast.Quantity(_meta_span(meta), ast.Number(_tok_span(num), str(num)), str(unit), _tok_span(unit))

    def string(self, meta, ch):
        return ast.String(_meta_span(meta), _unescape(str(ch[0])))

    def ref(self, meta, ch):
        return ast.Ref(_meta_span(meta), ch[0])

    def true(self, meta, ch):
        return ast.Bool(_meta_span(meta), True)

    def false(self, meta, ch):
        return ast.Bool(_meta_span(meta), False)

    def range(self, meta, ch):
        return ast.Range(_meta_span(meta), ch[0], ch[1])

    def block_value(self, meta, ch):
        return ast.BlockValue(_meta_span(meta), ch[0], ch[1])

    def call(self, meta, ch):
        func = ch[0]
        *args, edits = ch[1:]
        args = tuple(a for a in args if a is not None)
        return ast.Call(_meta_span(meta), ast.Ident(_tok_span(func), str(func)), args, edits)

    def edits(self, meta, ch):
        return tuple(ch)

    def substitute(self, meta, ch):
        old, new, amount = ch
        return ast.Edit(_meta_span(meta), "substitute", ast.Ident(_tok_span(old), str(old)), amount,
                        ast.Ident(_tok_span(new), str(new)))

    def add(self, meta, ch):
        sp, amount = ch
        return ast.Edit(_meta_span(meta), "add", ast.Ident(_tok_span(sp), str(sp)), amount)

    def remove(self, meta, ch):
        sp, amount = ch
        return ast.Edit(_meta_span(meta), "remove", ast.Ident(_tok_span(sp), str(sp)), amount)

    def list(self, meta, ch):
        *items, unit = ch
        items = tuple(i for i in items if i is not None)
        if unit is None:
            return ast.ListValue(_meta_span(meta), items)
        return ast.ListValue(_meta_span(meta), items, str(unit), _tok_span(unit))

    def minimum(self, meta, ch):
        return ast.Minimum(_meta_span(meta), ch[0])

    def along(self, meta, ch):
        sp, d = ch
        return ast.Along(_meta_span(meta), ast.Ident(_tok_span(sp), str(sp)), ast.Ident(_tok_span(d), str(d)))

    def after(self, meta, ch):
        return ast.After(_meta_span(meta), ch[0], ch[1])

    def all_from(self, meta, ch):
        tok = ch[0]
        return ast.AllFrom(_meta_span(meta), ast.Ident(_tok_span(tok), str(tok)))

    # blocks
    def body(self, meta, ch):
        return ast.Body(_meta_span(meta), tuple(ch))

    def attribute(self, meta, ch):
        key, value = ch
        return ast.Attribute(_meta_span(meta), ast.Ident(_tok_span(key), str(key)), value)

    def nested(self, meta, ch):
        name, body = ch
        return ast.Nested(_meta_span(meta), ast.Ident(_tok_span(name), str(name)), body)

    # requests
    def targets(self, meta, ch):
        return tuple(ch)

    def window_req(self, meta, ch):
        return ast.WindowReq(_meta_span(meta), ch[0] or ())

    def profile_req(self, meta, ch):
        return ast.ProfileReq(_meta_span(meta), ch[0] or ())

    def reactivity_body(self, meta, ch):
        return tuple(ch)

    def open_stmt(self, meta, ch):
        sp, pot = ch
        return ast.OpenTo(_meta_span(meta), ast.Ident(_tok_span(sp), str(sp)), pot)

    def reactivity_req(self, meta, ch):
        return ast.ReactivityReq(_meta_span(meta), ch[0], ch[1], ch[2])

    def diffusion_req(self, meta, ch):
        return ast.DiffusionReq(_meta_span(meta), ch[0], ch[1])

    def barrier_req(self, meta, ch):
        return ast.BarrierReq(_meta_span(meta), ch[0], ch[1])

    def interface_req(self, meta, ch):
        return ast.InterfaceReq(_meta_span(meta), ch[0], ch[1], ch[2])

    def metric_name(self, meta, ch):
        tok = ch[0]
        return ast.Ident(_tok_span(tok), str(tok))

    def metric(self, meta, ch):
        return ast.Metric(_meta_span(meta), ch[0], ch[1])

    def require(self, meta, ch):
        metric, op, value = ch
        return ast.Require(_meta_span(meta), metric, str(op), value)

    def require_window(self, meta, ch):
        return ast.RequireWindow(_meta_span(meta), ch[0])

    def order(self, meta, ch):
        return str(ch[0])

    def rank(self, meta, ch):
        metric, order = ch
        return ast.Rank(_meta_span(meta), metric, order)

    def screen_req(self, meta, ch):
        role, *stmts = ch
        return ast.ScreenReq(_meta_span(meta), ast.Ident(_tok_span(role), str(role)), tuple(stmts))

    # items
    def use_decl(self, meta, ch):
        tok = ch[0]
        return ast.UseDecl(_meta_span(meta), ast.String(_tok_span(tok), _unescape(str(tok))))

    def study_decl(self, meta, ch):
        tok, body = ch
        return ast.StudyDecl(_meta_span(meta), ast.String(_tok_span(tok), _unescape(str(tok))), body)

    def material_decl(self, meta, ch):
        return ast.MaterialDecl(_meta_span(meta), ch[0], ch[1])

    def cell_decl(self, meta, ch):
        return ast.CellDecl(_meta_span(meta), ch[0], ch[1])

    def analyze_decl(self, meta, ch):
        return ast.AnalyzeDecl(_meta_span(meta), ch[0], tuple(ch[1:]))

    def engine_decl(self, meta, ch):
        tok, body = ch
        return ast.EngineDecl(_meta_span(meta), ast.Ident(_tok_span(tok), str(tok)), body)

    def data_decl(self, meta, ch):
        return ast.DataDecl(_meta_span(meta), ch[0])

    def run_decl(self, meta, ch):
        return ast.RunDecl(_meta_span(meta), ch[0])

    def start(self, meta, ch):
        return tuple(ch)


_TOP_LINE = re.compile(r"^(?:%s)\b" % "|".join(TOP_LEVEL_KEYWORDS), re.M)


def _item_chunks(text: str) -> list[tuple[int, int]]:
    starts = [m.start() for m in _TOP_LINE.finditer(text)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    ends = starts[1:] + [len(text)]
    return list(zip(starts, ends))


def _mask_outside(text: str, start: int, end: int) -> str:
    """Blank everything outside [start, end) but keep newlines, so positions
    in the chunk's parse are positions in the file."""
    blank = lambda s: re.sub(r"[^\n]", " ", s)  # noqa: E731
    return blank(text[:start]) + text[start:end] + blank(text[end:])


def count_tokens(text: str) -> int:
    """Words, numbers, strings and symbols of a text (comments not counted)."""
    return sum(1 for m in _TOKENS.finditer(text) if m.group(0)[0] != "#")


def parse_text(src: SourceFile, rep: Reporter, budget: int = MAX_TOKENS, span: Span | None = None,
               from_path: str | None = None) -> ast.Module | None:
    """Parse a decoded source file; syntax errors go to `rep`.

    `budget`: the tokens it may hold (what is left of MAX_TOKENS when it is used by
    another file, whose `use` is at `span` in `from_path`).
    Returns the module (the items that parsed) or None when nothing did."""
    text = src.text
    deep = _too_deep(text)
    if deep is not None:
        rep.error("SSE008", f"brackets nested deeper than {MAX_DEPTH} levels", src.span(deep, deep + 1),
                  "a study never needs this much nesting")
        return None
    # refused before parsing: the parser's time grows with the token count (see MAX_TOKENS)
    n = count_tokens(text)
    if n > budget:
        whole = "" if budget == MAX_TOKENS else " with the files before it"
        rep.error("SSE006", f"{src.path} holds {n:,} words and symbols{whole}; a study holds at most "
                  f"{MAX_TOKENS:,}", span, "keep data in the data sources, not in the study file",
                  path=from_path or src.path)
        return None
    src.tokens = n
    try:
        items = _parse_once(text)
        return ast.Module(src.span(0, len(text)), items, tuple(find_comments(src)))
    except UnexpectedInput as e:
        if len(_item_chunks(text)) <= 1:
            rep.items.append(_syntax_diagnostic(e, src, (0, len(text))))
            return None
    items_all: list = []
    for start, end in _item_chunks(text):
        if not text[start:end].strip():
            continue
        try:
            items = _parse_once(_mask_outside(text, start, end))
            items_all.extend(items)
        except UnexpectedInput as e:
            rep.items.append(_syntax_diagnostic(e, src, (start, end)))
    return None if not items_all else ast.Module(src.span(0, len(text)), tuple(items_all), ())


def _parse_once(text: str) -> tuple:
    return _ToAst().transform(lark_parser().parse(text))


# Comments are ignored by the grammar; the formatter needs them back, so they
# are found here (skipping '#' inside strings).
_COMMENT_OR_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*')


def find_comments(src: SourceFile) -> list[ast.Comment]:
    out = []
    for m in _COMMENT_OR_STRING.finditer(src.text):
        if m.group(0).startswith("#"):
            body = m.group(0).rstrip()
            out.append(ast.Comment(src.span(m.start(), m.start() + len(body)), body))
    return out


# ---- syntax errors ------------------------------------------------------------
def _too_deep(text: str) -> int | None:
    """Offset of the first bracket nested deeper than MAX_DEPTH, if any."""
    depth = 0
    for m in re.finditer(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|[{}\[\]()]', text):
        tok = m.group(0)
        if tok in "{[(":
            depth += 1
            if depth > MAX_DEPTH:
                return m.start()
        elif tok in "}])":
            depth = max(0, depth - 1)
    return None


def _unclosed(text: str, start: int, end: int) -> int | None:
    """Offset of the innermost bracket left open in text[start:end]."""
    stack: list[int] = []
    pairs = {"}": "{", "]": "[", ")": "("}
    for m in re.finditer(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|[{}\[\]()]', text[start:end]):
        tok = m.group(0)
        if tok in "{[(":
            stack.append(start + m.start())
        elif tok in pairs and stack and text[stack[-1]] == pairs[tok]:
            stack.pop()
    return stack[-1] if stack else None


def _syntax_diagnostic(e: UnexpectedInput, src: SourceFile, chunk: tuple[int, int]) -> Diagnostic:
    path = src.path
    if isinstance(e, UnexpectedCharacters):
        pos = e.pos_in_stream
        ch = src.text[pos] if pos < len(src.text) else ""
        span = src.span(pos, pos + 1)
        if ch == '"':
            end = src.text.find("\n", pos)
            end = len(src.text) if end < 0 else end
            return Diagnostic("SSE003", _err(), "unterminated string", path, src.span(pos, max(end, pos + 1)),
                              'close the string with " on the same line')
        expected = _expected_text(e.allowed or set())
        shown = repr(ch) if not ch.isprintable() or ch == " " else f"'{ch}'"
        return Diagnostic("SSE002", _err(), f"unexpected character {shown}", path, span,
                          f"expected {expected}" if expected else None)
    if isinstance(e, UnexpectedEOF) or (isinstance(e, UnexpectedToken) and e.token.type == "$END"):
        opener = _unclosed(src.text, *chunk)
        if opener is not None:
            closer = {"{": "}", "[": "]", "(": ")"}[src.text[opener]]
            return Diagnostic("SSE004", _err(), f"unclosed '{src.text[opener]}'", path, src.span(opener, opener + 1),
                              f"add the matching '{closer}' before the next item")
        expected = _expected_text(getattr(e, "expected", None) or set())
        end = len(src.text.rstrip())
        span = src.span(max(end - 1, 0), max(end, 1)) if src.text else src.span(0, 0)
        return Diagnostic("SSE004", _err(), "unexpected end of file" + (f"; expected {expected}" if expected else ""),
                          path, span, "a block opened with '{' is never closed" if "'}'" in expected else None)
    assert isinstance(e, UnexpectedToken)
    tok = e.token
    span = _tok_span(tok)
    expected_names = set(getattr(e, "accepts", None) or e.expected or ())
    expected = _expected_text(expected_names)
    help_ = None
    if tok.type in ("NAME", "FORMULA", "UNIT") or str(tok) in keyword_terminals().values():
        kws = [keyword_terminals()[n] for n in expected_names if n in keyword_terminals()]
        kws = [k for k in kws if k[:1].isalpha()]
        guess = closest(str(tok), kws, cutoff=0.7) if kws else None
        if guess and guess != str(tok):
            help_ = f"did you mean '{guess}'?"
    if help_ is None and tok.type == "UNIT" and "EQUAL" in expected_names:
        help_ = "a key is followed by '='"
    if help_ is None and expected_names == {"EQUAL", "LBRACE"}:
        help_ = "write `key = value` or `name { ... }`"
    starts_entry = tok.type == "RBRACE" or re.match(r"[a-z_]\w*\s*[={]", src.text[tok.start_pos:]) is not None
    if help_ is None and starts_entry:
        # `[600, 800 K` then the next key (or the block's '}'): point back at the bracket left open
        opener = _unclosed(src.text, chunk[0], tok.start_pos)
        closer = {"[": "RSQB", "(": "RPAR"}.get(src.text[opener]) if opener is not None else None
        if closer in expected_names and src.position(opener)[0] < tok.line:
            line, col = src.position(opener)
            help_ = f"the '{src.text[opener]}' at {line}:{col} is never closed"
    return Diagnostic("SSE001", _err(), f"unexpected {_token_text(tok)}" + (f"; expected {expected}" if expected else ""),
                      path, span, help_)


def _err() -> Severity:
    return Severity.ERROR


def _token_text(tok: Token) -> str:
    s = str(tok)
    if len(s) > 40:
        s = s[:37] + "..."
    return f"'{s}'"


def _expected_text(names: set[str]) -> str:
    descr = sorted({describe_terminal(n) for n in names})
    if not descr:
        return ""
    if len(descr) > 10:
        descr = descr[:10] + ["..."]
    if len(descr) == 1:
        return descr[0]
    return "one of " + ", ".join(descr)
