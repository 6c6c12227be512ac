"""The canonical layout of a study file (`sselang fmt`), in the spirit of
`terraform fmt` / `gofmt`: one layout per syntax tree, so formatting is
idempotent and a formatted file re-parses to the same tree.

Layout rules
------------
* 2-space indentation, `key = value`, one entry / request / statement / edit
  per line.  Lines aim at 88 columns (LINE_WIDTH).
* Alignment: within one block, a run of consecutive attribute lines has its
  `=` aligned (keys padded to the longest key of the run).  A run is ended by
  a blank line, by any line that is not an attribute (nested block, request,
  `require`, `open ...`), and *after* an attribute whose value spans several
  lines (that attribute is the last member of its run, so
  `structure = library("x") with {` lines up with the `formula` above it).
  Comment lines do not end a run.  An attribute is not added to a run if the
  wider padding would force its value (or a value already in the run) to wrap.
* Blank lines: top-level items are separated by exactly one blank line
  (exception: consecutive `use` lines stay together unless the source
  separated them).  Between comment lines and items, and everywhere inside
  blocks, one blank line is kept where the source had one or more; never
  right after `{` or before `}`.
* Blocks: study / material / cell / analyze blocks, nested blocks
  (`conditions { ... }`) and the bodies of `diffusion`, `barrier`,
  `interface`, `screen` and `with { ... }` are always multi-line.
  `engine`, `data` and `run` blocks and block values (`ewald { seed = 7 }`)
  go on one line, entries separated by two spaces, when they have at most 3
  attributes, no nested block, no value with braces of its own (a block value
  or a call with edits), no comment between their braces and the line fits;
  otherwise they are multi-line.  Reactivity options go on one line under the
  same conditions with at most 2 items.  An empty block with no comment
  inside is written `{ }` (`data { }`, `with { }`, `conditions { }`).
* Values are printed from the tree with their lexemes: numbers and units as
  written, strings re-quoted (escapes for backslash, quote, newline and tab),
  `70 wt%`, `1.9 V .. 3.6 V`, `min 10 Å`, `Li along c`,
  `60 % after 450 cycles`, `all from bundled`, calls `library("x")`.  A list
  that does not fit on its line is wrapped, filling each line up to 88
  columns, continuation lines starting one column after the `[`.  Values
  nested inside lists, ranges, calls and requirements are always printed on
  one line.  Trailing commas in lists are dropped.
* Comments are never lost and keep their order.  Text is printed with
  trailing whitespace stripped.
  - A comment on its own line(s) is printed on its own line at the
    indentation of the entries around it.
  - A comment after an entry / item / request on the line where it ends is
    printed after it, separated by two spaces.
  - A comment on the line of an opening `{` (or between the head of a block
    and its `{`) is printed after the `{`; further such comments go on their
    own lines at the top of the block.
  - Comments inside something printed on one line (a list, an inline
    block, a call's arguments) are moved out: they go on their own lines
    before the entry, except that the last one becomes the entry's trailing
    comment when the entry has none.
  - Comments at the top of the file stay there (followed by a blank line if
    the source had one); comments after the last item stay at the end.
* An empty file formats to the empty string; any other output ends with
  exactly one newline.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from ..checks.diagnostics import Diagnostic, Reporter
from . import ast
from .parser import find_comments, parse_text
from .source import SourceFile

LINE_WIDTH = 88
INDENT = 2
MAX_INLINE_ATTRS = 3
MAX_INLINE_OPTIONS = 2


class FormatError(Exception):
    """The text has syntax errors; nothing was formatted."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = list(diagnostics)
        if self.diagnostics:
            d = self.diagnostics[0]
            where = f"{d.path}:{d.span.line}:{d.span.col}: " if d.span else f"{d.path}: "
            msg = where + d.message
            if len(self.diagnostics) > 1:
                msg += f" (and {len(self.diagnostics) - 1} more)"
        else:
            msg = "syntax error"
        super().__init__(msg)


def format_source(text: str, path: str = "<string>") -> str:
    """Parse `text` and return its canonical layout; FormatError on syntax errors."""
    src = SourceFile(path, text)
    rep = Reporter(path)
    module = parse_text(src, rep)
    if module is None or rep.has_errors:
        raise FormatError(rep.sorted())
    return format_module(module, src)


def format_module(module: ast.Module, src: SourceFile) -> str:
    """The canonical text of a parsed module (`src` is the text it came from,
    used for its comments and blank lines)."""
    return _Formatter(module, src).run()


# ---- one-line rendering of values ---------------------------------------------------
def quote(s: str) -> str:
    s = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{s}"'


def flat(v) -> str:
    """Any value on one line."""
    if isinstance(v, ast.Number):
        return v.text
    if isinstance(v, ast.Quantity):
        return f"{v.number.text} {v.unit}"
    if isinstance(v, ast.String):
        return quote(v.value)
    if isinstance(v, ast.Ref):
        return v.ident.name
    if isinstance(v, ast.Bool):
        return "true" if v.value else "false"
    if isinstance(v, ast.Range):
        return f"{flat(v.low)} .. {flat(v.high)}"
    if isinstance(v, ast.ListValue):
        s = "[" + ", ".join(flat(i) for i in v.items) + "]"
        return s + (f" {v.unit}" if v.unit is not None else "")
    if isinstance(v, ast.BlockValue):
        return f"{v.head.name} {flat_body(v.body.entries)}"
    if isinstance(v, ast.Call):
        s = call_head(v)
        if v.edits is not None:
            s += " with " + _braces([edit_text(e) for e in v.edits])
        return s
    if isinstance(v, ast.Minimum):
        return f"min {flat(v.value)}"
    if isinstance(v, ast.Along):
        return f"{v.species.name} along {v.direction.name}"
    if isinstance(v, ast.After):
        return f"{flat(v.value)} after {flat(v.after)}"
    if isinstance(v, ast.AllFrom):
        return f"all from {v.source.name}"
    raise TypeError(f"not a value: {v!r}")  # pragma: no cover


def call_head(c: ast.Call) -> str:
    return f"{c.func.name}(" + ", ".join(flat(a) for a in c.args) + ")"


def _braces(parts: list[str]) -> str:
    return "{ " + "  ".join(parts) + " }" if parts else "{ }"


def flat_entry(e) -> str:
    if isinstance(e, ast.Attribute):
        return f"{e.key.name} = {flat(e.value)}"
    if isinstance(e, ast.Nested):
        return f"{e.name.name} {flat_body(e.body.entries)}"
    if isinstance(e, ast.OpenTo):
        return f"open {e.species.name} at {flat(e.potential)}"
    raise TypeError(f"not an entry: {e!r}")  # pragma: no cover


def flat_body(entries) -> str:
    return _braces([flat_entry(e) for e in entries])


def edit_text(e: ast.Edit) -> str:
    if e.op == "substitute":
        return f"substitute {e.species.name} -> {e.new.name} {e.amount.text}"
    return f"{e.op} {e.species.name} {e.amount.text}"


def metric_text(m: ast.Metric) -> str:
    return m.name.name + (f" with {m.with_.name}" if m.with_ is not None else "")


def has_braces(v) -> bool:
    """Does the value print with braces of its own?"""
    if isinstance(v, ast.BlockValue):
        return True
    if isinstance(v, ast.Call):
        return v.edits is not None or any(has_braces(a) for a in v.args)
    if isinstance(v, ast.ListValue):
        return any(has_braces(i) for i in v.items)
    if isinstance(v, ast.Range):
        return has_braces(v.low) or has_braces(v.high)
    if isinstance(v, ast.Minimum):
        return has_braces(v.value)
    return False


# ---- the layout engine ----------------------------------------------------------------
@dataclass
class _Unit:
    """One line group of a block: a child node or a comment on its own line."""

    node: object = None
    comment: ast.Comment | None = None
    blank: bool = False
    trailing: ast.Comment | None = None


@dataclass
class _Block:
    """A brace-delimited region whose children are printed one per line."""

    head: str  # the text before " {"
    start: int  # where the construct starts (its head)
    open_pos: int  # offset of "{"
    close_pos: int  # offset of "}"
    children: list = field(default_factory=list)


class _Formatter:
    def __init__(self, module: ast.Module, src: SourceFile) -> None:
        self.module = module
        self.src = src
        self.text = src.text
        comments = module.comments or tuple(find_comments(src))
        self.comments = sorted(comments, key=lambda c: c.span.start)
        self.starts = [c.span.start for c in self.comments]
        self.claimed = [False] * len(self.comments)

    # -- comments ---------------------------------------------------------------------
    def _range(self, start: int, end: int) -> range:
        return range(bisect.bisect_left(self.starts, start), bisect.bisect_left(self.starts, end))

    def take(self, start: int, end: int) -> list[ast.Comment]:
        """Claim the comments starting in [start, end) not printed yet."""
        out = []
        for i in self._range(start, end):
            if not self.claimed[i]:
                self.claimed[i] = True
                out.append(self.comments[i])
        return out

    def has_comments(self, start: int, end: int) -> bool:
        return len(self._range(start, end)) > 0

    def blank_between(self, start: int, end: int) -> bool:
        return self.text.count("\n", max(start, 0), max(end, start, 0)) >= 2

    def find(self, pos: int, ch: str) -> int:
        """Offset of the next `ch` at or after pos, outside strings and comments."""
        t, i, n = self.text, pos, len(self.text)
        while i < n:
            c = t[i]
            if c == ch:
                return i
            if c == '"':
                i += 1
                while i < n and t[i] not in '"\n':
                    i += 2 if t[i] == "\\" else 1
            elif c == "#":
                j = t.find("\n", i)
                i = n if j < 0 else j
                continue
            i += 1
        raise ValueError(f"no {ch!r} after offset {pos}")  # pragma: no cover

    # -- entry point --------------------------------------------------------------------
    def run(self) -> str:
        lines = self._children(self.module.items, 0, 0, len(self.text), top=True)
        rest = [c for i, c in enumerate(self.comments) if not self.claimed[i]]
        if rest:  # pragma: no cover - every comment is claimed above; never drop one
            lines += [""] + [c.text for c in rest]
        return "\n".join(lines) + "\n" if lines else ""

    # -- a sequence of children, one per line group ---------------------------------------
    def _children(self, children, indent: int, first_pos: int, close_pos: int, top: bool = False) -> list[str]:
        """Lines for `children`, which sit between first_pos and close_pos (the
        offset of the closing brace, or the end of the file)."""
        units: list[_Unit] = []
        prev_end = first_pos
        prev_line = None  # line where the last child ended (for trailing comments)
        for child in list(children) + [None]:
            end = close_pos if child is None else child.span.start
            for c in self.take(prev_end, end):
                if units and units[-1].node is not None and units[-1].trailing is None and c.span.line == prev_line:
                    units[-1].trailing = c
                else:
                    units.append(_Unit(comment=c, blank=self.blank_between(prev_end, c.span.start)))
                prev_end = c.span.end
            if child is None:
                break
            units.append(_Unit(node=child, blank=self.blank_between(prev_end, child.span.start)))
            prev_end = child.span.end
            prev_line = child.span.end_line
        if units:
            units[0].blank = False
        if top:
            self._top_blanks(units)
        widths = self._align(units, indent)

        pad = " " * indent
        lines: list[str] = []
        for u in units:
            if u.blank and lines:
                lines.append("")
            if u.comment is not None:
                lines.append(pad + u.comment.text)
                continue
            body = self._node(u.node, indent, widths.get(id(u.node), 0))
            moved = self.take(u.node.span.start, u.node.span.end)
            trailing = u.trailing
            if trailing is None and moved:
                trailing = moved.pop()
            lines += [pad + c.text for c in moved]
            if trailing is not None:
                body[-1] += "  " + trailing.text
            lines += body
        return lines

    def _top_blanks(self, units: list[_Unit]) -> None:
        """Exactly one blank line after every item (consecutive `use` lines
        keep the source's choice)."""
        for i in range(1, len(units)):
            prev = units[i - 1].node
            if prev is None:
                continue
            if isinstance(prev, ast.UseDecl):
                nxt = next((u.node for u in units[i:] if u.node is not None), None)
                if isinstance(nxt, ast.UseDecl):
                    continue
            units[i].blank = True

    # -- alignment ----------------------------------------------------------------------
    def _align(self, units: list[_Unit], indent: int) -> dict[int, int]:
        widths: dict[int, int] = {}
        run: list[ast.Attribute] = []
        width = 0

        def close() -> None:
            for a in run:
                widths[id(a)] = width
            run.clear()

        for u in units:
            if u.blank:
                close()
            if u.comment is not None:
                continue
            a = u.node
            if not isinstance(a, ast.Attribute):
                close()
                continue
            k = len(a.key.name)
            if run:
                w2 = max(width, k)
                ok = all(not self._multiline(m.value, indent + w2 + 3) for m in run) and (
                    not self._multiline(a.value, indent + w2 + 3) or self._multiline(a.value, indent + k + 3))
                if not ok:
                    close()
            width = max(width, k) if run else k
            run.append(a)
            if self._multiline(a.value, indent + width + 3):
                close()
        close()
        return widths

    # -- deciding one line or several ------------------------------------------------------
    def _inline_entries_ok(self, entries, open_pos: int, close_pos: int, limit: int) -> bool:
        if len(entries) > limit or self.has_comments(open_pos, close_pos):
            return False
        for e in entries:
            if isinstance(e, ast.Attribute):
                if has_braces(e.value):
                    return False
            elif isinstance(e, ast.OpenTo):
                if has_braces(e.potential):
                    return False
            else:
                return False
        return True

    def _inline_body(self, body: ast.Body, col: int, head: str) -> str | None:
        """`head { a = 1  b = 2 }` if it may stay on one line starting at col."""
        b0, b1 = body.span.start, body.span.end - 1
        if not self._inline_entries_ok(body.entries, b0, b1, MAX_INLINE_ATTRS):
            return None
        line = f"{head} {flat_body(body.entries)}"
        return line if col + len(line) <= LINE_WIDTH else None

    def _empty(self, open_pos: int, close_pos: int, children) -> bool:
        return not children and not self.has_comments(open_pos, close_pos)

    def _multiline(self, v, col: int) -> bool:
        """Does value v, starting at column col (0-based), take several lines?"""
        if isinstance(v, ast.BlockValue):
            return self._inline_body(v.body, col, v.head.name) is None
        if isinstance(v, ast.Call) and v.edits is not None:
            o = self._edits_open(v)
            return not self._empty(o, v.span.end - 1, v.edits)
        if isinstance(v, ast.ListValue):
            return len(self._list_lines(v, col)) > 1
        return False

    # -- values of attributes -------------------------------------------------------------------
    def _list_lines(self, v: ast.ListValue, col: int) -> list[str]:
        """The list starting at column col: one line if it fits, else filled
        lines, continuation lines (returned without their indentation) to be
        placed at col + 1."""
        one = flat(v)
        if col + len(one) <= LINE_WIDTH or len(v.items) <= 1:
            return [one]
        tail = "]" + (f" {v.unit}" if v.unit is not None else "")
        lines: list[str] = []
        cur = "["
        cur_col = col  # column where `cur` starts
        for i, item in enumerate(v.items):
            piece = flat(item) + ("," if i < len(v.items) - 1 else tail)
            fresh = cur in ("[", "")
            cand = cur + ("" if fresh else " ") + piece
            if fresh or cur_col + len(cand) <= LINE_WIDTH:
                cur = cand
            else:
                lines.append(cur)
                cur, cur_col = piece, col + 1
        lines.append(cur)
        return lines

    def _attribute(self, a: ast.Attribute, indent: int, width: int) -> list[str]:
        pad = " " * indent
        key = a.key.name.ljust(width)
        head = f"{key} = "
        col = indent + len(head)
        v = a.value
        if isinstance(v, ast.BlockValue):
            line = self._inline_body(v.body, col, v.head.name)
            if line is not None:
                return [pad + head + line]
            return self._block(_Block(head + v.head.name, a.span.start, v.body.span.start, v.body.span.end - 1,
                                      list(v.body.entries)), indent)
        if isinstance(v, ast.Call) and v.edits is not None:
            return self._call_with_edits(v, head, a.span.start, indent)
        if isinstance(v, ast.ListValue):
            parts = self._list_lines(v, col)
            return [pad + head + parts[0]] + [" " * (col + 1) + p for p in parts[1:]]
        return [pad + head + flat(v)]

    def _edits_open(self, c: ast.Call) -> int:
        after = c.args[-1].span.end if c.args else c.func.span.end
        return self.find(after, "{")

    def _call_with_edits(self, c: ast.Call, head: str, start: int, indent: int) -> list[str]:
        o = self._edits_open(c)
        return self._block(_Block(head + call_head(c) + " with", start, o, c.span.end - 1, list(c.edits)), indent)

    # -- blocks ----------------------------------------------------------------------------
    def _block(self, b: _Block, indent: int) -> list[str]:
        """`head {`, the children one per line group, `}`; `head { }` when
        there is nothing inside."""
        pad = " " * indent
        if self._empty(b.open_pos, b.close_pos, b.children):
            return [pad + b.head + " { }"]
        open_line = self.src.position(b.open_pos)[0]
        first = b.children[0].span.start if b.children else b.close_pos
        head_comments = self.take(b.start, b.open_pos)
        head_comments += [c for c in self._peek(b.open_pos, first) if c.span.line == open_line]
        first_pos = b.open_pos + 1
        for c in head_comments:
            self.take(c.span.start, c.span.start + 1)
            first_pos = max(first_pos, c.span.end)
        line = pad + b.head + " {"
        if head_comments:
            line += "  " + head_comments[0].text
        inner = [" " * (indent + INDENT) + c.text for c in head_comments[1:]]
        inner += self._children(b.children, indent + INDENT, first_pos, b.close_pos)
        return [line] + inner + [pad + "}"]

    def _peek(self, start: int, end: int) -> list[ast.Comment]:
        return [self.comments[i] for i in self._range(start, end) if not self.claimed[i]]

    def _body_block(self, head: str, start: int, body: ast.Body, indent: int) -> list[str]:
        return self._block(_Block(head, start, body.span.start, body.span.end - 1, list(body.entries)), indent)

    # -- every kind of child -------------------------------------------------------------------
    def _node(self, n, indent: int, width: int) -> list[str]:
        pad = " " * indent
        s = n.span.start
        # entries
        if isinstance(n, ast.Attribute):
            return self._attribute(n, indent, width)
        if isinstance(n, ast.Nested):
            return self._body_block(n.name.name, s, n.body, indent)
        if isinstance(n, ast.OpenTo):
            return [pad + flat_entry(n)]
        if isinstance(n, ast.Edit):
            return [pad + edit_text(n)]
        # top-level items
        if isinstance(n, ast.UseDecl):
            return [pad + f"use {quote(n.path.value)}"]
        if isinstance(n, ast.StudyDecl):
            return self._body_block(f"study {quote(n.id.value)}", s, n.body, indent)
        if isinstance(n, ast.MaterialDecl):
            return self._body_block(f"material {n.name.name}", s, n.body, indent)
        if isinstance(n, ast.CellDecl):
            return self._body_block(f"cell {n.name.name}", s, n.body, indent)
        if isinstance(n, (ast.EngineDecl, ast.DataDecl, ast.RunDecl)):
            head = {ast.EngineDecl: "engine", ast.DataDecl: "data", ast.RunDecl: "run"}[type(n)]
            if isinstance(n, ast.EngineDecl):
                head += f" {n.name.name}"
            line = self._inline_body(n.body, indent, head)
            if line is not None:
                return [pad + line]
            return self._body_block(head, s, n.body, indent)
        if isinstance(n, ast.AnalyzeDecl):
            o = self.find(n.target.span.end, "{")
            return self._block(_Block(f"analyze {n.target.name}", s, o, n.span.end - 1, list(n.requests)), indent)
        # analysis requests
        if isinstance(n, (ast.WindowReq, ast.ProfileReq)):
            kw = "window" if isinstance(n, ast.WindowReq) else "profile"
            return [pad + kw + ("" if not n.targets else " " + ", ".join(t.name for t in n.targets))]
        if isinstance(n, ast.ReactivityReq):
            head = f"reactivity {n.a.name} | {n.b.name}"
            if n.options is None:
                return [pad + head]
            o, c = self.find(n.b.span.end, "{"), n.span.end - 1
            if self._inline_entries_ok(n.options, o, c, MAX_INLINE_OPTIONS):
                line = f"{head} {flat_body(n.options)}"
                if indent + len(line) <= LINE_WIDTH:
                    return [pad + line]
            return self._block(_Block(head, s, o, c, list(n.options)), indent)
        if isinstance(n, (ast.DiffusionReq, ast.BarrierReq)):
            head = "diffusion" if isinstance(n, ast.DiffusionReq) else "barrier"
            if n.target is not None:
                head += f" {n.target.name}"
            return self._body_block(head, s, n.body, indent)
        if isinstance(n, ast.InterfaceReq):
            head = f"interface {n.a.name} | {n.b.name}"
            if n.body is None:
                return [pad + head]
            return self._body_block(head, s, n.body, indent)
        if isinstance(n, ast.ScreenReq):
            o = self.find(n.role.span.end, "{")
            return self._block(_Block(f"screen {n.role.name}", s, o, n.span.end - 1, list(n.stmts)), indent)
        # screen statements
        if isinstance(n, ast.Require):
            return [pad + f"require {metric_text(n.metric)} {n.op} {flat(n.value)}"]
        if isinstance(n, ast.RequireWindow):
            return [pad + f"require window covers {flat(n.covers)}"]
        if isinstance(n, ast.Rank):
            return [pad + f"rank by {metric_text(n.metric)}" + (f" {n.order}" if n.order else "")]
        raise TypeError(f"cannot format {type(n).__name__}")  # pragma: no cover
