"""Loading the lark grammar (grammar/sselang.lark) once per process."""

from __future__ import annotations

from functools import lru_cache

TOP_LEVEL_KEYWORDS = ("use", "study", "material", "cell", "analyze", "engine", "data", "run")

# Human names for the grammar's pattern terminals, used in syntax errors.
TERMINAL_NAMES = {
    "NAME": "a name",
    "FORMULA": "a material name or formula",
    "UNIT": "a unit",
    "SIGNED_NUMBER": "a number",
    "STRING": "a string",
    "COMPARE": "a comparison (<=, >=, <, >, ==)",
    "$END": "end of file",
}


def _cache_file(text: str) -> str | bool:
    """A per-user file for lark's analysed grammar (saves ~30 ms a run).

    Not lark's default (a file in the shared temp dir, which another user
    could plant); lark itself checks the grammar's sha256 on load."""
    import hashlib
    import os
    from pathlib import Path

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    d = Path(base) / "sselang"
    try:
        d.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not os.access(d, os.W_OK):
            return False
    except OSError:
        return False
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return str(d / f"grammar-{digest}.lark.pickle")


@lru_cache(maxsize=1)
def lark_parser():
    from lark import Lark

    from ..resources import grammar_path

    text = grammar_path().read_text(encoding="utf-8")
    return Lark(
        text,
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=True,
        cache=_cache_file(text),
    )


@lru_cache(maxsize=1)
def keyword_terminals() -> dict[str, str]:
    """Terminal name -> literal text, for every fixed-string terminal."""
    out = {}
    for t in lark_parser().terminals:
        if t.pattern.type == "str":
            out[t.name] = t.pattern.value
    return out


@lru_cache(maxsize=1)
def keywords() -> frozenset[str]:
    """The reserved words: every alphabetic literal of the grammar."""
    import re

    from ..resources import grammar_path

    text = re.sub(r"//[^\n]*", "", grammar_path().read_text(encoding="utf-8"))
    return frozenset(re.findall(r'"([a-z]+)"', text))


def describe_terminal(name: str) -> str:
    if name in TERMINAL_NAMES:
        return TERMINAL_NAMES[name]
    lit = keyword_terminals().get(name)
    return f"'{lit}'" if lit is not None else name
