"""The syntax tree of a study file.

Plain frozen dataclasses, one per construct of grammar/sselang.lark, each with
the `Span` it was parsed from.  The tree is faithful to the text (numbers keep
their lexeme, units their spelling) so that the formatter can print it back
and the resolver can point at any part of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from .source import Span


@dataclass(frozen=True)
class Node:
    span: Span


# ---- names ------------------------------------------------------------------
@dataclass(frozen=True)
class Ident(Node):
    """A name or a chemical formula (LPSCl, LiTi2(PO4)3, electrolyte)."""

    name: str


# ---- values -----------------------------------------------------------------
@dataclass(frozen=True)
class Number(Node):
    text: str

    @property
    def value(self) -> float:
        return float(self.text)

    @property
    def is_integer(self) -> bool:
        return all(c not in self.text for c in ".eE")


@dataclass(frozen=True)
class Quantity(Node):
    number: Number
    unit: str
    unit_span: Span


@dataclass(frozen=True)
class String(Node):
    value: str  # unescaped


@dataclass(frozen=True)
class Ref(Node):
    ident: Ident

    @property
    def name(self) -> str:
        return self.ident.name


@dataclass(frozen=True)
class Bool(Node):
    value: bool


@dataclass(frozen=True)
class Range(Node):
    low: "Value"
    high: "Value"


@dataclass(frozen=True)
class ListValue(Node):
    items: tuple["Value", ...]
    unit: str | None = None
    unit_span: Span | None = None


@dataclass(frozen=True)
class BlockValue(Node):
    """`ewald { seed = 7 }`, `LCO { loading = 70 wt% }`."""

    head: Ident
    body: "Body"


@dataclass(frozen=True)
class Edit(Node):
    """One line of a `with { ... }` block that modifies a structure."""

    op: str  # substitute | add | remove
    species: Ident
    amount: Number
    new: Ident | None = None  # for substitute: species -> new


@dataclass(frozen=True)
class Call(Node):
    """`library("Li6PS5Cl")`, optionally followed by `with { edits }`."""

    func: Ident
    args: tuple["Value", ...]
    edits: tuple[Edit, ...] | None = None


@dataclass(frozen=True)
class Minimum(Node):
    """`min 10 Å`."""

    value: "Value"


@dataclass(frozen=True)
class Along(Node):
    """`Li along c`."""

    species: Ident
    direction: Ident


@dataclass(frozen=True)
class After(Node):
    """`60 % after 450 cycles`."""

    value: Quantity
    after: Quantity


@dataclass(frozen=True)
class AllFrom(Node):
    """`all from bundled`."""

    source: Ident


Value = Union[Number, Quantity, String, Ref, Bool, Range, ListValue, BlockValue, Call, Minimum, Along, After, AllFrom]


# ---- blocks of entries ------------------------------------------------------
@dataclass(frozen=True)
class Attribute(Node):
    key: Ident
    value: Value


@dataclass(frozen=True)
class Nested(Node):
    """`conditions { ... }` inside a block."""

    name: Ident
    body: "Body"


Entry = Union[Attribute, Nested]


@dataclass(frozen=True)
class Body(Node):
    entries: tuple[Entry, ...]

    def attributes(self) -> list[Attribute]:
        return [e for e in self.entries if isinstance(e, Attribute)]


# ---- analysis requests ------------------------------------------------------
@dataclass(frozen=True)
class OpenTo(Node):
    """`open Li at 4.0 V` inside a reactivity request."""

    species: Ident
    potential: Value


@dataclass(frozen=True)
class WindowReq(Node):
    targets: tuple[Ident, ...]


@dataclass(frozen=True)
class ProfileReq(Node):
    targets: tuple[Ident, ...]


@dataclass(frozen=True)
class ReactivityReq(Node):
    a: Ident
    b: Ident
    options: tuple[Union[OpenTo, Attribute], ...] | None = None


@dataclass(frozen=True)
class DiffusionReq(Node):
    target: Ident | None
    body: Body


@dataclass(frozen=True)
class BarrierReq(Node):
    target: Ident | None
    body: Body


@dataclass(frozen=True)
class InterfaceReq(Node):
    a: Ident
    b: Ident
    body: Body | None = None


@dataclass(frozen=True)
class Metric(Node):
    name: Ident
    with_: Ident | None = None


@dataclass(frozen=True)
class Require(Node):
    metric: Metric
    op: str
    value: Value


@dataclass(frozen=True)
class RequireWindow(Node):
    covers: Value


@dataclass(frozen=True)
class Rank(Node):
    metric: Metric
    order: str | None = None


ScreenStmt = Union[Attribute, Require, RequireWindow, Rank]


@dataclass(frozen=True)
class ScreenReq(Node):
    role: Ident
    stmts: tuple[ScreenStmt, ...]


Request = Union[WindowReq, ProfileReq, ReactivityReq, DiffusionReq, BarrierReq, InterfaceReq, ScreenReq]


# ---- top-level items --------------------------------------------------------
@dataclass(frozen=True)
class UseDecl(Node):
    path: String


@dataclass(frozen=True)
class StudyDecl(Node):
    id: String
    body: Body


@dataclass(frozen=True)
class MaterialDecl(Node):
    name: Ident
    body: Body


@dataclass(frozen=True)
class CellDecl(Node):
    name: Ident
    body: Body


@dataclass(frozen=True)
class AnalyzeDecl(Node):
    target: Ident
    requests: tuple[Request, ...]


@dataclass(frozen=True)
class EngineDecl(Node):
    name: Ident
    body: Body


@dataclass(frozen=True)
class DataDecl(Node):
    body: Body


@dataclass(frozen=True)
class RunDecl(Node):
    body: Body


Item = Union[UseDecl, StudyDecl, MaterialDecl, CellDecl, AnalyzeDecl, EngineDecl, DataDecl, RunDecl]


@dataclass(frozen=True)
class Comment(Node):
    text: str  # including the leading '#'


@dataclass(frozen=True)
class Module(Node):
    items: tuple[Item, ...]
    comments: tuple[Comment, ...] = field(default=())
