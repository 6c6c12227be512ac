"""A forgiving scanner of study text, for hover and completion.

The parser stops at the first syntax error, but an editor asks about text that
is half typed: `temperatures = [600, 800` with no `]` yet, a block not closed.
This scanner never fails.  It splits the text into the grammar's token kinds
with the grammar's own terminal patterns (so a unit here is what the parser
calls a unit) and tells which blocks enclose a position, from the braces and
the words before each `{`.

One rule of the contextual lexer is mirrored by hand: a word right after a
number or a list's `]` is a unit (unless the grammar's UNIT pattern refuses it,
i.e. it is followed by `=` or `{`), except a reserved keyword other than `min`,
which stays a keyword (`require e_hull <= 0  rank by e_hull`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..syntax.grammar import keywords, lark_parser
from .words import REQUESTS, TOP_LEVEL


@dataclass(frozen=True)
class Token:
    kind: str  # comment | string | number | unit | word | punct | other
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Block:
    """An open `{`: what kind of block it is and the name at its head.

    kind: study, material, cell, analyze, data, run, engine:<name>,
    role:<role>, conditions, observed, order, executor:<name>, diffusion,
    barrier, interface, screen, reactivity, edits, or block (anything else)."""

    kind: str
    name: str | None
    start: int


@lru_cache(maxsize=1)
def _patterns() -> dict[str, re.Pattern]:
    terms = {t.name: t.pattern.to_regexp() for t in lark_parser().terminals}
    return {name: re.compile(terms[name]) for name in ("UNIT", "SIGNED_NUMBER", "FORMULA", "NAME", "STRING")}


_SPACE = re.compile(r"[ \t\r\n\f]+")
_PUNCT2 = ("..", "->", "<=", ">=", "==")
_OTHER = re.compile(r'[^\s{}\[\](),=|"#<>]+')


def tokenize(text: str) -> list[Token]:
    p = _patterns()
    kws = keywords()
    out: list[Token] = []
    pos, n = 0, len(text)
    after_value = False  # the previous token was a number or a list's `]`: a unit may follow
    while pos < n:
        m = _SPACE.match(text, pos)
        if m:
            pos = m.end()
            continue
        ch = text[pos]
        if ch == "#":
            end = text.find("\n", pos)
            end = n if end < 0 else end
            out.append(Token("comment", text[pos:end], pos, end))
            pos = end
            continue
        if ch == '"':
            m = p["STRING"].match(text, pos)
            if m:
                end = m.end()
            else:  # unterminated: the string runs to the end of its line, as the error says
                end = text.find("\n", pos)
                end = n if end < 0 else end
            out.append(Token("string", text[pos:end], pos, end))
            pos, after_value = end, False
            continue
        if after_value:
            m = p["UNIT"].match(text, pos)
            if m and not (m.group(0) in kws and m.group(0) != "min"):
                out.append(Token("unit", m.group(0), pos, m.end()))
                pos, after_value = m.end(), False
                continue
        m = p["SIGNED_NUMBER"].match(text, pos)
        if m and (ch.isdigit() or ch in "+-."):
            out.append(Token("number", m.group(0), pos, m.end()))
            pos, after_value = m.end(), True
            continue
        m = p["FORMULA"].match(text, pos) or p["NAME"].match(text, pos)
        if m:
            out.append(Token("word", m.group(0), pos, m.end()))
            pos, after_value = m.end(), False
            continue
        two = text[pos:pos + 2]
        if two in _PUNCT2:
            out.append(Token("punct", two, pos, pos + 2))
            pos, after_value = pos + 2, False
            continue
        if ch in "{}[](),=|<>":
            out.append(Token("punct", ch, pos, pos + 1))
            pos, after_value = pos + 1, ch == "]"
            continue
        m = _OTHER.match(text, pos)
        end = m.end() if m else pos + 1
        out.append(Token("other", text[pos:end], pos, end))
        pos, after_value = end, False
    return out


def token_at(tokens: list[Token], offset: int, *, touching_end: bool = True) -> Token | None:
    """The token under `offset`; with touching_end, also one that ends right
    there (the word being typed at the cursor, or the one left of the mouse)."""
    for t in tokens:
        if t.start <= offset < t.end:
            return t
        if t.start > offset:
            break
    if touching_end:
        for t in reversed(tokens):
            if t.end == offset and t.kind != "punct":
                return t
            if t.end < offset:
                break
    return None


def significant(tokens: list[Token]) -> list[Token]:
    return [t for t in tokens if t.kind != "comment"]


def before(tokens: list[Token], offset: int, count: int = 1) -> list[Token]:
    """The last `count` significant tokens that end at or before `offset`, oldest first."""
    sig = [t for t in tokens if t.kind != "comment" and t.end <= offset]
    return sig[-count:] if count else []


def after(tokens: list[Token], offset: int) -> Token | None:
    """The first significant token that starts at or after `offset`."""
    return next((t for t in tokens if t.kind != "comment" and t.start >= offset), None)


def blocks_at(tokens: list[Token], offset: int) -> list[Block]:
    """The blocks that enclose `offset`, outermost first."""
    stack: list[Block] = []
    sig: list[Token] = []
    top: tuple[str, str | None] | None = None  # the current top-level item: keyword and name
    for t in tokens:
        if t.start >= offset:
            break
        if t.kind == "comment":
            continue
        if t.kind == "punct" and t.text == "{":
            stack.append(_classify(sig, stack, top, t.start))
        elif t.kind == "punct" and t.text == "}":
            if stack:
                stack.pop()
        elif not stack and t.kind == "word" and t.text in TOP_LEVEL:
            top = (t.text, None)
        elif not stack and top is not None and top[1] is None and t.kind in ("word", "string"):
            top = (top[0], t.text)
        sig.append(t)
    return stack


def _classify(sig: list[Token], stack: list[Block], top, start: int) -> Block:
    words = [t.text for t in sig[-4:]]
    p1 = words[-1] if words else ""
    p2 = words[-2] if len(words) > 1 else ""
    p3 = words[-3] if len(words) > 2 else ""
    if p1 == "with":
        return Block("edits", None, start)
    if not stack:
        if top is None:
            return Block("block", None, start)
        kw, name = top
        return Block(f"engine:{name}" if kw == "engine" else kw, name, start)
    parent = stack[-1].kind
    if p2 == "=" and sig[-1].kind == "word":
        if parent == "cell" and p3 in ("cathode", "coating", "electrolyte", "anode"):
            return Block(f"role:{p3}", p1, start)
        if p3 == "order":
            return Block("order", p1, start)
        if p3 == "executor":
            return Block(f"executor:{p1}", p1, start)
        return Block("block", p1, start)
    if parent == "analyze":
        # the request this body belongs to: `diffusion electrolyte {`, `reactivity a | b {`
        for t in reversed(sig[-5:]):
            if t.text in REQUESTS and t.text not in ("window", "profile"):
                return Block(t.text, None, start)
            if t.text in ("{", "}"):
                break
        return Block("block", None, start)
    if sig and sig[-1].kind == "word":
        return Block(p1 if p1 in ("conditions", "observed") else "block", p1, start)
    return Block("block", None, start)


def statement_key(tokens: list[Token], offset: int) -> str | None:
    """The key whose value is being written at `offset` (`temperature = 25 |`),
    looking back through the value to the `=` within the current block."""
    depth = 0
    sig = [t for t in tokens if t.kind != "comment" and t.end <= offset]
    for i in range(len(sig) - 1, -1, -1):
        t = sig[i]
        if t.kind == "punct" and t.text in ")]}":
            depth += 1
        elif t.kind == "punct" and t.text in "([{":
            if depth == 0:
                if t.text == "{":
                    return None
                continue
            depth -= 1
        elif depth == 0 and t.kind == "punct" and t.text == "=":
            return sig[i - 1].text if i > 0 and sig[i - 1].kind == "word" else None
        elif depth == 0 and t.kind == "word" and t.text in ("at", "covers", "after"):
            return t.text
        elif depth == 0 and t.kind == "punct" and t.text in ("<=", ">=", "<", ">", "=="):
            # `require e_hull <= 25 |`, `require reactivity with cathode >= -100 |`: the metric names the kind
            j = i - 3 if i >= 3 and sig[i - 2].text == "with" else i - 1
            return sig[j].text if j >= 0 and sig[j].kind == "word" else None
        if len(sig) - i > 64:  # a value is never this long; stop looking
            return None
    return None
