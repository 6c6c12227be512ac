"""Chemical formulas as written in a study: Li6PS5Cl, LiTi2(PO4)3,
Li9.54Si1.74P1.44S11.7Cl0.3.

A small parser of our own rather than pymatgen's Composition, because a
diagnostic must point at the offending symbol inside the formula and say which
element was probably meant; the element table itself is pymatgen's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_TOKEN = re.compile(r"([A-Z][a-z]?)|(\d+(?:\.\d+)?|\.\d+)|(\()|(\))|(.)", re.S)


@dataclass(frozen=True)
class FormulaError(ValueError):
    message: str
    offset: int  # within the formula text
    length: int
    help: str | None = None
    code: str = "SSE030"

    def __str__(self) -> str:
        return self.message


@lru_cache(maxsize=1)
def element_symbols() -> frozenset[str]:
    from .elements import table

    return frozenset(table())


def looks_like_formula(text: str) -> bool:
    return bool(re.fullmatch(r"(?:[A-Z][a-z]?|\d+(?:\.\d+)?|[()])+", text))


def parse_formula(text: str) -> dict[str, float]:
    """Composition {element: amount per formula unit}; raises FormulaError."""
    symbols = element_symbols()
    stack: list[dict[str, float]] = [{}]
    open_at: list[int] = []
    last: dict[str, float] | str | None = None  # what a following number multiplies
    pos = 0
    for m in _TOKEN.finditer(text):
        el, num, lp, rp, other = m.groups()
        pos = m.start()
        if el:
            if el not in symbols:
                raise _unknown_element(text, m.start(), el, symbols)
            stack[-1][el] = stack[-1].get(el, 0.0) + 1.0
            last = el
        elif num:
            amount = float(num)
            if last is None:
                raise FormulaError(f"number '{num}' without an element before it in '{text}'", m.start(), len(num))
            if re.match(r"0\d", num):
                # 'LiCo02' (zero for the letter O) would otherwise read as the alloy LiCo2
                i = m.start()
                fixed = text[:i] + ("" if text[i - 1] == "O" else "O") + text[i + 1:]
                raise FormulaError(f"'{num}' in '{text}' starts with a zero", i, len(num), f"did you mean '{fixed}'?")
            if amount <= 0:
                raise FormulaError(f"amount '{num}' must be positive", m.start(), len(num))
            if isinstance(last, str):
                stack[-1][last] += amount - 1.0
            else:
                for k in last:
                    stack[-1][k] += last[k] * (amount - 1.0)
            last = None
        elif lp:
            stack.append({})
            open_at.append(m.start())
            last = None
        elif rp:
            if len(stack) == 1:
                raise FormulaError(f"unmatched ')' in '{text}'", m.start(), 1)
            group = stack.pop()
            open_at.pop()
            if not group:
                raise FormulaError(f"empty group '()' in '{text}'", m.start() - 1, 2)
            for k, v in group.items():
                stack[-1][k] = stack[-1].get(k, 0.0) + v
            last = group
        else:
            if other.isalpha() and other.islower():
                # a lowercase letter after a two-letter symbol, e.g. 'Lii'
                raise FormulaError(f"'{other}' cannot start an element symbol in '{text}'", m.start(), 1,
                                   "element symbols start with a capital letter")
            raise FormulaError(f"unexpected '{other}' in formula '{text}'", m.start(), 1)
    if len(stack) != 1:
        raise FormulaError(f"unclosed '(' in '{text}'", open_at[-1], 1)
    comp = stack[0]
    if not comp:
        raise FormulaError(f"'{text}' has no elements", 0, max(len(text), 1))
    return {k: round(v, 10) for k, v in comp.items()}


# Elements of this field, most frequent first: a typo is most likely one of them.
FIELD_ELEMENTS = ("Li O S P Cl Co Ni Mn Fe Ti Nb Ta Zr Si Ge Sn B Al La Br I Na In C N F H Mg Ca Zn Cu V "
                  "Cr Mo W Y Sr Ba K Ga Se Te As Sb Bi").split()


def _unknown_element(text: str, offset: int, el: str, symbols: frozenset[str]) -> FormulaError:
    from ..checks.suggest import closest

    # 'Lj' -> 'Li', not 'Lu': among symbols one letter away, the field's usual
    # elements first, then any element with the same initial.
    near = [s for s in symbols if s[0] == el[0] and (len(s) != len(el) or sum(a != b for a, b in zip(s, el)) <= 1)]
    ranked = sorted(near, key=lambda s: (FIELD_ELEMENTS.index(s) if s in FIELD_ELEMENTS else len(FIELD_ELEMENTS), s))
    guess = ranked[0] if ranked else closest(el, symbols, cutoff=0.5)
    help_ = f"did you mean '{guess}'?" if guess else None
    return FormulaError(f"'{el}' is not an element (in '{text}')", offset, len(el), help_, code="SSE031")


def formula_text(comp: dict[str, float]) -> str:
    def fmt(x: float) -> str:
        return "" if abs(x - 1) < 1e-9 else (str(int(round(x))) if abs(x - round(x)) < 1e-9 else f"{x:g}")

    return "".join(f"{el}{fmt(n)}" for el, n in comp.items())
