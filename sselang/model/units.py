"""Units: parsing and converting the quantities written in a study, with pint.

Every quantity in the `Study` model is stored in one canonical unit per kind
(temperatures in K, potentials in V, times in ps, lengths in Å, ...), so later
stages never convert.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


@dataclass(frozen=True)
class Kind:
    """A physical kind of quantity: its canonical unit and what it is called."""

    name: str
    canonical: str  # pint expression
    label: str  # how the canonical unit is written in outputs
    examples: str  # units a user may write, for help messages


KINDS: dict[str, Kind] = {k.name: k for k in [
    Kind("temperature", "kelvin", "K", "K, degC"),
    Kind("potential", "volt", "V", "V, mV"),
    Kind("time", "picosecond", "ps", "fs, ps, ns"),
    Kind("length", "angstrom", "Å", "Å, nm"),
    Kind("area", "angstrom**2", "Å^2", "Å^2, nm^2"),
    Kind("pressure", "megapascal", "MPa", "MPa, GPa, bar"),
    Kind("energy", "electron_volt", "eV", "eV, Ry"),
    Kind("energy_per_atom", "electron_volt/atom", "eV/atom", "meV/atom, eV/atom"),
    Kind("force", "electron_volt/angstrom", "eV/Å", "eV/Å"),
    Kind("fraction", "dimensionless", "1", "%, wt%"),
    Kind("c_rate", "C_rate", "C", "C (0.1 C is a 10 h charge)"),
    Kind("current_density", "milliampere/centimeter**2", "mA/cm^2", "mA/cm^2"),
    Kind("specific_capacity", "milliampere_hour/gram", "mAh/g", "mAh/g"),
    Kind("conductivity", "millisiemens/centimeter", "mS/cm", "mS/cm, S/cm"),
    Kind("diffusivity", "centimeter**2/second", "cm^2/s", "cm^2/s"),
    Kind("cycles", "cycle", "cycles", "cycles"),
]}

_ALIASES = (("°C", "degC"), ("°F", "degF"), ("wt%", "wtpercent"), ("at%", "atpercent"), ("%", "percent"), ("^", "**"), ("·", "*"))


class UnitError(ValueError):
    pass


@lru_cache(maxsize=1)
def registry():
    import pint

    reg = pint.UnitRegistry(
        filename=str(Path(__file__).with_name("units.txt")),
        autoconvert_offset_to_baseunit=True,
        on_redefinition="raise",
    )
    return reg


def _normalise(text: str) -> str:
    for a, b in _ALIASES:
        text = text.replace(a, b)
    return text


@lru_cache(maxsize=512)
def parse_unit(text: str):
    """pint Unit for a unit as written (`meV/atom`, `wt%`, `Å`, `degC`)."""
    try:
        return registry().parse_units(_normalise(text))
    except Exception as e:  # noqa: BLE001 - pint's parser raises anything from
        # UndefinedUnitError to a bare AssertionError on malformed input ('V/')
        raise UnitError(f"unknown unit '{text}'") from e


def known_unit_names() -> list[str]:
    reg = registry()
    names = set()
    for name, d in reg._units.items():  # pint has no public listing of symbols
        names.add(name)
        if d.symbol:
            names.add(d.symbol)
        names.update(a for a in d.aliases if a)
    return sorted(n for n in names if n != "_")


def kind_of(text: str) -> list[str]:
    """Names of the kinds this unit can express (usually one)."""
    u = parse_unit(text)
    out = []
    for k in KINDS.values():
        try:
            if registry().Quantity(1, u).is_compatible_with(k.canonical):
                out.append(k.name)
        except Exception:  # noqa: BLE001 - pint raises assorted errors for exotic units
            continue
    return out


def convert(magnitude: float, unit_text: str, kind: str) -> float:
    """Convert `magnitude unit_text` to the canonical unit of `kind`.

    Raises UnitError on an unknown unit or a wrong dimension."""
    import pint

    target = KINDS[kind]
    u = parse_unit(unit_text)
    reg = registry()
    try:
        q = reg.Quantity(magnitude, u)
        value = q.to(target.canonical).magnitude
    except pint.errors.DimensionalityError as e:
        raise UnitError(f"'{unit_text}' is not a unit of {kind.replace('_', ' ')}") from e
    except pint.errors.OffsetUnitCalculusError as e:
        raise UnitError(f"'{unit_text}' cannot be converted here: {e}") from e
    value = float(value)
    if not math.isfinite(value):
        raise UnitError(f"{magnitude} {unit_text} is not a finite number")
    return value
