"""Completion: what may be written at the cursor.

Text being typed rarely parses, so the place is read from the forgiving
scanner (sselang/lsp/lexer.py): the enclosing block, the token before the
cursor and the key whose value is being written.  From those:

* at the start of an entry: the block's keys and keywords (top-level items,
  requests in `analyze`, `require`/`rank` in a screen, roles in a cell);
* after `key =`: the key's choices, materials and library phases for a role,
  `library("...")` calls for `structure`;
* after a request keyword, `|` or `,` in `analyze`: roles and materials;
* inside `library("`: the names of the structure library;
* after a number (or a list's `]`): the units of the key's kind, or every
  unit when the kind is not known.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import lexer
from .words import (BLOCK_KEY_DOCS, BLOCK_KEY_KINDS, BLOCK_KEYS, BLOCK_KEYWORDS, ENGINE_VALUE_CHOICES, KEY_DOCS,
                    KEY_KINDS, KEYWORD_DOCS, METRICS, ROLE_DOCS, TOP_LEVEL, UNITS, VALUE_CHOICES,
                    VALUE_DOCS)

ROLES = tuple(ROLE_DOCS)
ENGINES = ("vasp", "qe", "cp2k")


@dataclass(frozen=True)
class Item:
    label: str
    kind: str  # keyword | key | role | material | cell | library | unit | value
    detail: str = ""
    documentation: str = ""
    insert: str | None = None  # the text written (default: the label)


@dataclass
class Completion:
    items: list[Item] = field(default_factory=list)
    start: int = 0  # the text [start, end) is replaced by the chosen item
    end: int = 0


def complete(text: str, offset: int, path: str = "<string>", study=None) -> Completion:
    """The completions at `offset` of a (normalised) study text."""
    tokens = lexer.tokenize(text)
    offset = max(0, min(offset, len(text)))
    tok = lexer.token_at(tokens, offset)
    start = end = offset
    after_number = False
    if tok is not None and tok.start < offset:
        if tok.kind == "comment":
            return Completion([], offset, offset)
        if tok.kind == "string":
            prev = lexer.before(tokens, tok.start, 2)
            if [t.text for t in prev] == ["library", "("]:
                closed = len(tok.text) > 1 and tok.text.endswith('"') and offset < tok.end
                return Completion(_library_items(quoted=False), tok.start + 1, tok.end - 1 if closed else offset)
            return Completion([], offset, offset)
        if tok.kind in ("word", "unit", "other"):
            start, end = tok.start, offset
        elif tok.kind == "number" and tok.end == offset:
            after_number = True
    items = _items(tokens, text, start, path, study, after_number)
    # the same label twice (a material that is also a library phase) is offered once
    seen: set[str] = set()
    unique = [i for i in items if not (i.label in seen or seen.add(i.label))]
    return Completion(unique, start, end)


def _items(tokens, text: str, start: int, path: str, study, after_number: bool) -> list[Item]:
    prev_toks = lexer.before(tokens, start, 3)
    prev = prev_toks[-1] if prev_toks else None
    p = prev.text if prev else ""
    p2 = prev_toks[-2].text if len(prev_toks) > 1 else ""
    blocks = lexer.blocks_at(tokens, start)
    block = blocks[-1].kind if blocks else None

    # a unit after a number or after a list's `]`
    if after_number or (prev is not None and (prev.kind == "number" or (prev.kind == "punct" and p == "]"))):
        key = lexer.statement_key(tokens, start)
        kind = BLOCK_KEY_KINDS.get((block, key)) or KEY_KINDS.get(key or "")
        if kind is not None:
            return _unit_items(kind, lead=" " if after_number else "")
        if key is None and prev is not None and prev.kind == "number":
            return _unit_items(None, lead=" " if after_number else "")
        # a key that takes a plain number (seed, images, workers): the next entry follows
        return _statement_items(block, blocks)
    if prev is None:
        return _statement_items(None, blocks)
    if prev.kind == "punct":
        if p == "=":
            return _value_items(block, p2, tokens, text, path, study)
        if p in ("[", ","):
            key = lexer.statement_key(tokens, start)
            if key is not None:
                return _value_items(block, key, tokens, text, path, study, in_list=True)
            if block == "analyze":
                return _target_items(tokens, study)
            return []
        if p == "(" and p2 == "library":
            return _library_items(quoted=True)
        if p == "|":
            return _target_items(tokens, study)
        if p in ("{", "}", ")"):
            return _statement_items(block, blocks)
        return []
    if prev.kind == "word":
        if block is None:
            if p == "analyze":
                return _cell_items(tokens) + _material_items(tokens, study)
            if p == "engine":
                return [Item(e, "value", "engine", VALUE_DOCS[e]) for e in ENGINES]
            if p2 in ("material", "cell", "analyze", "engine") or p in ("material", "cell", "study", "use"):
                return []  # a name is being written, or `{` comes next
            return _statement_items(None, blocks)
        if block == "analyze":
            if p in ("window", "profile"):
                return _target_items(tokens, study) + _statement_items(block, blocks)
            if p in ("reactivity", "interface", "diffusion", "barrier"):
                return _target_items(tokens, study)
            if p == "screen":
                return [Item("coating", "role", "role", ROLE_DOCS["coating"])]
            return _statement_items(block, blocks)
        if block == "screen":
            if p == "require":
                return [_keyword_or_value(m) for m in METRICS]
            if p == "rank":
                return [_keyword("by")]
            if p == "by":
                return [_keyword_or_value(m) for m in METRICS if m != "window"]
            if p == "with":
                return [Item(r, "role", "role", ROLE_DOCS[r]) for r in ("cathode", "electrolyte")]
            if p == "window" and p2 == "require":
                return [_keyword("covers")]
            if p in METRICS and p2 in ("by", "with", "cathode", "electrolyte"):
                return [_keyword("ascending"), _keyword("descending")]
        if block == "reactivity":
            if p == "open":
                return [Item("Li", "material", "element")]
            if p2 == "open":
                return [_keyword("at")]
        if block == "edits" and p in ("substitute", "add", "remove"):
            return []
        if block == "cell" and p in ROLES:
            return []
        return _statement_items(block, blocks)
    # after a value (a string, a unit, a list's end)
    return _statement_items(block, blocks)


# ---- item lists ----------------------------------------------------------------------------------
def _keyword(word: str) -> Item:
    return Item(word, "keyword", "keyword", KEYWORD_DOCS.get(word, ""))


def _keyword_or_value(word: str) -> Item:
    if word in KEYWORD_DOCS:
        return _keyword(word)
    return Item(word, "value", "metric", VALUE_DOCS.get(word, ""))


def _first_sentence(doc: str) -> str:
    return doc.split(". ")[0].rstrip(".")


def _statement_items(block: str | None, blocks) -> list[Item]:
    """What may start an entry in a block."""
    if block is None:
        return [_keyword(k) for k in TOP_LEVEL]
    out: list[Item] = []
    for k in BLOCK_KEYWORDS.get(block, ()):
        out.append(_keyword(k))
    for k in BLOCK_KEYS.get(block, ()):
        if k in ROLE_DOCS:
            out.append(Item(k, "role", "role", ROLE_DOCS[k], insert=f"{k} = "))
        elif k in ("conditions", "observed"):
            out.append(Item(k, "key", "block", KEY_DOCS[k], insert=f"{k} {{ }}"))
        else:
            doc = BLOCK_KEY_DOCS.get((block, k)) or KEY_DOCS.get(k, "")
            out.append(Item(k, "key", _first_sentence(doc), doc, insert=f"{k} = "))
    return out


def _unit_items(kind: str | None, lead: str = "") -> list[Item]:
    kinds = [kind] if kind else list(UNITS)
    return [Item(u, "unit", k.replace("_", " "), insert=lead + u) for k in kinds for u in UNITS[k]]


def _library_items(quoted: bool) -> list[Item]:
    from ..data.library import LibraryError, phases

    try:
        table = phases()
    except LibraryError:
        return []
    return [Item(f'"{n}"' if quoted else n, "library", f"{p.formula}, space group {p.spacegroup} (library)",
                 p.reference) for n, p in sorted(table.items())]


def _declared(tokens, keyword: str) -> list[str]:
    """Names declared at the top level with `material NAME` / `cell NAME`, as written so far."""
    out, depth, prev = [], 0, None
    for t in tokens:
        if t.kind == "comment":
            continue
        if t.kind == "punct" and t.text == "{":
            depth += 1
        elif t.kind == "punct" and t.text == "}":
            depth = max(0, depth - 1)
        elif depth == 0 and t.kind == "word" and prev is not None and prev.text == keyword and prev.kind == "word":
            out.append(t.text)
        prev = t
    return out


def _material_items(tokens, study, with_library: bool = True) -> list[Item]:
    out = [Item(n, "material", "material") for n in _declared(tokens, "material")]
    if study is not None:
        out += [Item(m.name, "material", "inline material" if m.inline else "material")
                for m in study.materials]
    if with_library:
        out += [Item(i.label, "library", i.detail, i.documentation) for i in _library_items(quoted=False)]
    return out


def _cell_items(tokens) -> list[Item]:
    return [Item(n, "cell", "cell") for n in _declared(tokens, "cell")]


def _target_items(tokens, study) -> list[Item]:
    roles = [Item(r, "role", "role", ROLE_DOCS[r]) for r in ROLES]
    return roles + _material_items(tokens, study)


def _value_items(block, key: str, tokens, text: str, path: str, study, in_list: bool = False) -> list[Item]:
    if block == "cell" and key in ROLES:
        return _material_items(tokens, study)
    if key == "formula":
        from ..data.library import LibraryError, phases

        try:
            formulas = sorted({p.formula for p in phases().values()})
        except LibraryError:
            return []
        return [Item(f, "library", "formula of a library phase") for f in formulas]
    if key == "structure":
        calls = [Item(f'library("{i.label}")', "library", i.detail, i.documentation)
                 for i in _library_items(quoted=False)]
        return calls + [Item(c, "value", "structure source", VALUE_DOCS.get(c.split("(")[0], ""))
                        for c in ('file("")', 'mp("")')]
    if key == "candidates":
        if in_list:
            return _material_items(tokens, study)
        return [Item(c, "value", "dataset") for c in VALUE_CHOICES["candidates"]]
    choices = ENGINE_VALUE_CHOICES.get((block, key)) or VALUE_CHOICES.get(key)
    if choices:
        return [Item(c, "value", key, VALUE_DOCS.get(c.split("(")[0].split()[0], "")) for c in choices]
    return []
