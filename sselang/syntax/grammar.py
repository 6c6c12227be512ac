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


@lru_cache(maxsize=1)
def lark_parser():
    from lark import Lark

    from ..resources import grammar_path

    return Lark(
        grammar_path().read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=True,
    )


@lru_cache(maxsize=1)
def keyword_terminals() -> dict[str, str]:
    """Terminal name -> literal text, for every fixed-string terminal."""
    out = {}
    for t in lark_parser().terminals:
        if t.pattern.type == "str":
            out[t.name] = t.pattern.value
    return out


def describe_terminal(name: str) -> str:
    if name in TERMINAL_NAMES:
        return TERMINAL_NAMES[name]
    lit = keyword_terminals().get(name)
    return f"'{lit}'" if lit is not None else name
