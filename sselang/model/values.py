"""Reading typed values out of syntax-tree values, with diagnostics.

Each reader returns the converted Python value or None after reporting what
was wrong (at the span of the offending value), so one run can report many
mistakes.
"""

from __future__ import annotations

import math

from ..checks.diagnostics import Reporter
from ..checks.suggest import did_you_mean
from ..syntax import ast
from .units import KINDS, UnitError, convert, kind_of

MAX_MAGNITUDE = 1e12  # beyond any physical quantity a study can hold


def describe(v: ast.Value) -> str:
    return {
        ast.Number: "a number", ast.Quantity: "a quantity", ast.String: "a string", ast.Ref: "a name",
        ast.Bool: "true/false", ast.Range: "a range", ast.ListValue: "a list", ast.BlockValue: "a block",
        ast.Call: "a call", ast.Minimum: "'min ...'", ast.Along: "'... along ...'", ast.After: "'... after ...'",
        ast.AllFrom: "'all from ...'",
    }.get(type(v), type(v).__name__)


class ValueReader:
    def __init__(self, rep: Reporter, path: str) -> None:
        self.rep = rep
        self.path = path

    def _err(self, code: str, msg: str, span, help: str | None = None) -> None:
        self.rep.error(code, msg, span, help, path=self.path)

    # ---- scalars ----------------------------------------------------------------
    def _finite(self, num: ast.Number) -> float | None:
        x = num.value
        if not math.isfinite(x) or abs(x) > MAX_MAGNITUDE:
            self._err("SSE044", f"number {num.text} is out of range", num.span, "numbers in a study stay below 1e12 in magnitude")
            return None
        return x

    def number(self, v: ast.Value, what: str) -> float | None:
        if isinstance(v, ast.Number):
            return self._finite(v)
        if isinstance(v, ast.Quantity):
            try:
                kind_of(v.unit)
            except UnitError:
                # `seed = 7 keep }`: a key without its value reads as a unit
                self._err("SSE041", f"{what} is a plain number; '{v.unit}' after it is not a unit", v.unit_span,
                          f"if '{v.unit}' is the next key, give it a value: {v.unit} = ...")
                return None
            self._err("SSE041", f"{what} is a plain number, not a quantity in '{v.unit}'", v.unit_span, "remove the unit")
            return None
        self._err("SSE013", f"{what} must be a number, not {describe(v)}", v.span)
        return None

    def integer(self, v: ast.Value, what: str, minimum: int | None = None) -> int | None:
        x = self.number(v, what)
        if x is None:
            return None
        if not isinstance(v, ast.Number) or not v.is_integer:
            self._err("SSE013", f"{what} must be a whole number", v.span)
            return None
        if minimum is not None and x < minimum:
            self._err("SSE043", f"{what} must be at least {minimum}", v.span)
            return None
        return int(x)

    def quantity(self, v: ast.Value, kind: str, what: str, unit_override: str | None = None,
                 unit_span=None) -> float | None:
        """A number with a unit of the given kind, converted to the canonical unit."""
        k = KINDS[kind]
        if isinstance(v, ast.Number) and unit_override is not None:
            num, unit, uspan = v, unit_override, unit_span
        elif isinstance(v, ast.Quantity):
            num, unit, uspan = v.number, v.unit, v.unit_span
        elif isinstance(v, ast.Number):
            if kind == "fraction":
                x = self._finite(v)
                return x
            self._err("SSE041", f"{what} needs a unit of {kind.replace('_', ' ')}", v.span,
                      "write e.g. " + _or([f"{v.text} {u.strip()}" for u in k.examples.split(",")]))
            return None
        else:
            self._err("SSE013", f"{what} must be a quantity ({k.examples}), not {describe(v)}", v.span)
            return None
        mag = self._finite(num)
        if mag is None:
            return None
        try:
            return convert(mag, unit, kind)
        except UnitError as e:
            if "unknown unit" in str(e):
                from .units import known_unit_names

                # the kind's own units first: 'MPaa' is 'MPa', not pint's 'Pa'
                usual = [u.strip() for u in k.examples.split(",")]
                self._err("SSE040", str(e), uspan, did_you_mean(unit, usual) or did_you_mean(unit, known_unit_names())
                          or f"units of {kind.replace('_', ' ')}: {k.examples}")
            else:
                kinds = []
                try:
                    kinds = kind_of(unit)
                except UnitError:
                    pass
                got = f" ('{unit}' is a unit of {kinds[0].replace('_', ' ')})" if kinds else ""
                self._err("SSE041", f"{what} must be {_a(kind.replace('_', ' '))}{got}", uspan,
                          f"units of {kind.replace('_', ' ')}: {k.examples}")
            return None

    def string(self, v: ast.Value, what: str) -> str | None:
        if isinstance(v, ast.String):
            return v.value
        self._err("SSE013", f"{what} must be a string in double quotes, not {describe(v)}", v.span)
        return None

    def boolean(self, v: ast.Value, what: str) -> bool | None:
        if isinstance(v, ast.Bool):
            return v.value
        self._err("SSE013", f"{what} must be true or false, not {describe(v)}", v.span)
        return None

    def name(self, v: ast.Value, what: str) -> str | None:
        if isinstance(v, ast.Ref):
            return v.name
        self._err("SSE013", f"{what} must be a name, not {describe(v)}", v.span)
        return None

    def choice(self, v: ast.Value, what: str, options: tuple[str, ...]) -> str | None:
        if isinstance(v, ast.String):
            word, span = v.value, v.span
        elif isinstance(v, ast.Ref):
            word, span = v.name, v.span
        else:
            self._err("SSE013", f"{what} must be one of {', '.join(options)}; not {describe(v)}", v.span)
            return None
        if word in options:
            return word
        self._err("SSE014", f"unknown {what} '{word}'", span,
                  did_you_mean(word, options) or f"choose one of: {', '.join(options)}")
        return None

    # ---- compound -------------------------------------------------------------------
    def quantity_list(self, v: ast.Value, kind: str, what: str, max_items: int = 1000) -> list[float] | None:
        k = KINDS[kind]
        if not isinstance(v, ast.ListValue):
            one = self.quantity(v, kind, what)
            return None if one is None else [one]
        if len(v.items) > max_items:
            self._err("SSE045", f"{what} has {len(v.items)} entries; at most {max_items} are allowed", v.span)
            return None
        if not v.items:
            self._err("SSE013", f"{what} is an empty list", v.span)
            return None
        if v.unit is None and kind != "fraction" and all(isinstance(i, ast.Number) for i in v.items):
            # one message for the list, with the fix for the list: not "write e.g. 600 K" at its first item
            self._err("SSE041", f"{what} needs a unit of {kind.replace('_', ' ')}", v.span,
                      f"give the unit once after the list, e.g. [{', '.join(i.text for i in v.items[:4])}"
                      f"{', ...' if len(v.items) > 4 else ''}] {k.examples.split(',')[0]}")
            return None
        out = []
        for item in v.items:
            if v.unit is not None and isinstance(item, ast.Quantity):
                self._err("SSE041", f"{what}: give the unit once after the list or on each item, not both", item.unit_span)
                return None
            q = self.quantity(item, kind, what, unit_override=v.unit, unit_span=v.unit_span)
            if q is None:
                return None
            out.append(q)
        return out

    def range(self, v: ast.Value, kind: str, what: str) -> tuple[float, float] | None:
        if not isinstance(v, ast.Range):
            self._err("SSE013", f"{what} must be a range 'low .. high', not {describe(v)}", v.span)
            return None
        lo_v, hi_v = v.low, v.high
        # `1.9 .. 3.6 V`: a bare lower bound takes the upper bound's unit
        if isinstance(lo_v, ast.Number) and isinstance(hi_v, ast.Quantity):
            lo = self.quantity(lo_v, kind, what, unit_override=hi_v.unit, unit_span=hi_v.unit_span)
        else:
            lo = self.quantity(lo_v, kind, what)
        hi = self.quantity(hi_v, kind, what)
        if lo is None or hi is None:
            return None
        if not lo < hi:
            self._err("SSE042", f"{what}: the range is not ordered (low {_fmt(lo)} >= high {_fmt(hi)} {KINDS[kind].label})",
                      v.span, "write the lower bound first")
            return None
        return lo, hi

    def names(self, v: ast.Value, what: str, max_items: int = 10_000) -> list[tuple[str, object]] | None:
        """A list of names/formulas (or one), each with its span."""
        items = v.items if isinstance(v, ast.ListValue) else (v,)
        if isinstance(v, ast.ListValue) and v.unit:
            self._err("SSE041", f"{what} is a list of names and takes no unit", v.unit_span)
            return None
        if len(items) > max_items:
            self._err("SSE045", f"{what} has {len(items)} entries; at most {max_items} are allowed", v.span)
            return None
        out = []
        for item in items:
            if isinstance(item, ast.Ref):
                out.append((item.name, item.span))
            elif isinstance(item, ast.String):
                out.append((item.value, item.span))
            else:
                self._err("SSE013", f"{what} must list names, not {describe(item)}", item.span)
                return None
        return out


def _or(options: list[str]) -> str:
    return options[0] if len(options) == 1 else ", ".join(options[:-1]) + " or " + options[-1]


def _a(noun: str) -> str:
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


def _fmt(x: float) -> str:
    return f"{x:g}"
