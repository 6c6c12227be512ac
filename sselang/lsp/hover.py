"""Hover: what the word under the mouse means.

* a keyword, a role, a key or a choice: its one-line meaning (sselang/lsp/words.py);
* a unit: its kind, its dimension, the written quantity in SI units and in the
  unit sselang stores it in, converted by the project's own pint registry, so
  the editor and the compiler cannot disagree about `25 degC`;
* a material name or formula: its formula, where its structure comes from (with
  the library record) and where its energies come from (the data block).

Material facts come from the text being edited (its syntax tree, which exists
even when other parts of the file do not resolve) and, for imported and inline
materials, from the last study the server resolved.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..syntax import ast
from ..syntax.grammar import keywords
from . import lexer
from .words import (BLOCK_KEY_DOCS, KEY_DOCS, KEY_KINDS, KEYWORD_DOCS, ROLE_DOCS, SI_LABELS, SI_UNITS, UNITS,
                    VALUE_DOCS)


@dataclass(frozen=True)
class Hover:
    markdown: str
    start: int  # the offsets of the word it is about
    end: int


def hover(text: str, offset: int, path: str = "<string>", study=None) -> Hover | None:
    """The hover for the character at `offset` of a (normalised) study text."""
    tokens = lexer.tokenize(text)
    tok = lexer.token_at(tokens, offset)
    if tok is None or tok.kind in ("comment", "punct", "other", "number"):
        return None
    md = None
    if tok.kind == "unit":
        prev = lexer.before(tokens, tok.start)
        number = float(prev[0].text) if prev and prev[0].kind == "number" else None
        md = unit_markdown(tok.text, number)
    elif tok.kind == "string":
        prev = lexer.before(tokens, tok.start, 2)
        if [t.text for t in prev] == ["library", "("]:
            md = library_markdown(tok.text.strip('"'))
    else:
        md = _word_markdown(tok, tokens, text, path, study)
    return Hover(md, tok.start, tok.end) if md else None


def _word_markdown(tok: lexer.Token, tokens, text: str, path: str, study) -> str | None:
    word = tok.text
    nxt = lexer.after(tokens, tok.end)
    prev = lexer.before(tokens, tok.start)
    prev_text = prev[0].text if prev else ""
    blocks = lexer.blocks_at(tokens, tok.start)
    block = blocks[-1].kind if blocks else None
    # a key is followed by `=`; a nested block's name (`conditions {`) by `{`, but so are a
    # declared name (`material LPSCl {`) and a block value's head (`LiNbO3 { thickness = 5 nm }`)
    is_key = nxt is not None and word not in keywords() and (
        nxt.text == "=" or (nxt.text == "{" and word in ("conditions", "observed")))
    if prev_text == "engine":
        return f"**engine {word}**\n\n{VALUE_DOCS[word]}" if word in VALUE_DOCS else None
    if word in ROLE_DOCS and (is_key or block in ("analyze", "screen", "reactivity", "interface", "diffusion",
                                                  "barrier") or prev_text in ("with", "|", ",")):
        md = f"**{word}** (role)\n\n{ROLE_DOCS[word]}"
        cell = _analysed_cell(blocks, text, path)
        if cell is not None and not is_key:
            names = _role_materials(cell, word)
            if names:
                md += f"\n\nIn cell `{cell.name.name}`: " + ", ".join(f"`{n}`" for n in names)
        return md
    if is_key:
        doc = BLOCK_KEY_DOCS.get((block, word)) or KEY_DOCS.get(word)
        what = "block" if nxt.text == "{" else "key"
        return f"**{word}** ({what})\n\n{doc}" if doc else None
    if word in KEYWORD_DOCS and prev_text not in ("material", "cell", "analyze"):
        return f"**{word}** (keyword)\n\n{KEYWORD_DOCS[word]}"
    if prev_text == "(" and word in ("entries", "results"):
        return None
    if word in VALUE_DOCS and not word[:1].isupper():
        return f"**{word}**\n\n{VALUE_DOCS[word]}"
    return material_markdown(word, text, path, study)


# ---- units ---------------------------------------------------------------------------------
def _num(x: float) -> str:
    if x == 0:
        return "0"
    return f"{x:.7g}"


def unit_markdown(unit: str, number: float | None = None) -> str:
    from ..checks.suggest import did_you_mean
    from ..model.units import KINDS, UnitError, kind_of, known_unit_names, parse_unit, registry

    try:
        u = parse_unit(unit)
        kinds = kind_of(unit)
    except UnitError:
        hint = did_you_mean(unit, known_unit_names())
        return f"**{unit}**: not a unit sselang knows (SSE040)" + (f"; {hint}" if hint else "")
    reg = registry()
    dim = str(reg.Quantity(1, u).dimensionality)
    if not kinds:
        return f"**{unit}** (dimension `{dim}`): no key of a study takes this kind of quantity"
    out = []
    for kind in kinds:
        k = KINDS[kind]
        out.append(f"**{unit}**: unit of {kind.replace('_', ' ')} (dimension `{dim}`)")
        si = SI_UNITS[kind]
        x = 1.0 if number is None else number
        q = reg.Quantity(x, u)
        try:
            si_x = float(q.to(si).magnitude)
            can_x = float(q.to(k.canonical).magnitude)
        except Exception:  # noqa: BLE001 - pint's offset arithmetic refuses some conversions
            continue
        if not (math.isfinite(si_x) and math.isfinite(can_x)):
            continue
        si_label = SI_LABELS[si]
        written = f"{_num(x)} {unit}"
        out.append(f"- SI: {written} = {_num(si_x)}{(' ' + si_label) if si_label else ''}")
        zero = float(reg.Quantity(0.0, u).to(k.canonical).magnitude)
        if zero != 0 and number is None:  # an offset scale: a temperature, not a difference
            step = float(reg.Quantity(1.0, u).to(k.canonical).magnitude) - zero
            out.append(f"- 0 {unit} = {_num(zero)} {k.label}; a difference of 1 {unit} is {_num(step)} {k.label}")
        out.append(f"- sselang stores {kind.replace('_', ' ')} in {k.label}"
                   + (f": {written} is stored as {_num(can_x)}" if can_x != x or k.label != unit else ""))
        users = sorted(key for key, kd in KEY_KINDS.items() if kd == kind and key in KEY_DOCS)
        if users:
            out.append("- used by: " + ", ".join(f"`{u_}`" for u_ in users))
        same = [s for s in UNITS.get(kind, ()) if s != unit]
        if same:
            out.append("- also accepted: " + ", ".join(f"`{s}`" for s in same))
    return "\n".join(out)


# ---- materials -----------------------------------------------------------------------------
def _module(text: str, path: str) -> ast.Module | None:
    """The syntax tree of the text; when some items do not parse, the ones that do."""
    from ..checks.diagnostics import Reporter
    from ..syntax.parser import parse_text
    from ..syntax.source import SourceFile

    try:
        return parse_text(SourceFile(path, text), Reporter(path))
    except Exception:  # noqa: BLE001 - hover must never take the server down
        return None


def _attr(body: ast.Body, key: str) -> ast.Attribute | None:
    return next((a for a in body.attributes() if a.key.name == key), None)


def _source_text(text: str, node) -> str:
    return " ".join(text[node.span.start:node.span.end].split())


def _analysed_cell(blocks, text: str, path: str) -> ast.CellDecl | None:
    top = blocks[0] if blocks else None
    if top is None or top.kind != "analyze" or not top.name:
        return None
    module = _module(text, path)
    if module is None:
        return None
    return next((i for i in module.items if isinstance(i, ast.CellDecl) and i.name.name == top.name), None)


def _role_materials(cell: ast.CellDecl, role: str) -> list[str]:
    out = []
    for a in cell.body.attributes():
        if a.key.name == role:
            v = a.value
            if isinstance(v, ast.Ref):
                out.append(v.name)
            elif isinstance(v, ast.BlockValue):
                out.append(v.head.name)
    return out


def library_markdown(name: str) -> str | None:
    from ..data.library import LibraryError, phases

    try:
        p = phases().get(name)
    except LibraryError:
        return None
    if p is None:
        return f'**library("{name}")**: no such phase in the structure library (SSE101); `sselang library` lists them'
    return f'**library("{name}")**\n\n' + _phase_line(p)


def _phase_line(p) -> str:
    bits = [f"formula `{p.formula}`", f"space group {p.spacegroup}"]
    if not p.is_ordered:
        bits.append("partially occupied (ordered at compile time)")
    line = f"structure library phase `{p.name}` ({p.source_file}): " + ", ".join(bits)
    line += f"\n\nreference: {p.reference}"
    if p.note:
        line += f"\n\nnote: {p.note}"
    return line


def _composition(formula: str) -> str | None:
    from ..model.formula import FormulaError, parse_formula

    try:
        comp = parse_formula(formula)
    except (FormulaError, ValueError):
        return None
    return ", ".join(f"{el} {_num(x)}" for el, x in comp.items())


def _data_line(module: ast.Module | None, study, text: str) -> str:
    """Where the energies and structures come from, as the study says (or the defaults)."""
    if study is not None:
        thermo = ", ".join(t.kind + (f'("{t.path}")' if t.path else "") for t in study.data.thermo)
        return f"energies from `{thermo}`; structures looked up by formula from `{study.data.structures}`"
    decl = next((i for i in (module.items if module else ()) if isinstance(i, ast.DataDecl)), None)
    thermo = structures = None
    if decl is not None:
        a = _attr(decl.body, "thermo")
        thermo = _source_text(text, a.value) if a else None
        a = _attr(decl.body, "structures")
        structures = _source_text(text, a.value) if a else None
    return (f"energies from `{thermo or 'bundled'}`{'' if thermo else ' (the default)'}; structures looked up "
            f"by formula from `{structures or 'bundled'}`{'' if structures else ' (the default)'}")


def material_markdown(name: str, text: str, path: str = "<string>", study=None) -> str | None:
    from ..data.library import LibraryError, phases
    from ..model.formula import looks_like_formula

    module = _module(text, path)
    items = module.items if module else ()
    decl = next((i for i in items if isinstance(i, ast.MaterialDecl) and i.name.name == name), None)
    cell = next((i for i in items if isinstance(i, ast.CellDecl) and i.name.name == name), None)
    model = None
    if study is not None:
        model = next((m for m in study.materials if m.name == name), None)
    try:
        table = phases()
    except LibraryError:
        table = {}
    lines: list[str] = []
    formula = structure = order = lib_name = None
    if decl is not None:
        lines.append(f"**{name}**: material (line {decl.span.line})")
        a = _attr(decl.body, "formula")
        if a is not None:
            formula = a.value.value if isinstance(a.value, ast.String) else (
                a.value.name if isinstance(a.value, ast.Ref) else _source_text(text, a.value))
        a = _attr(decl.body, "structure")
        structure = _source_text(text, a.value) if a else None
        a = _attr(decl.body, "order")
        order = _source_text(text, a.value) if a else None
        if a := _attr(decl.body, "structure"):
            v = a.value
            if isinstance(v, ast.Call) and v.func.name == "library" and v.args and isinstance(v.args[0], ast.String):
                lib_name = v.args[0].value
    elif model is not None:
        where = f"{model.origin.file}:{model.origin.line}"
        lines.append(f"**{name}**: " + ("inline material (a formula used without a material block)" if model.inline
                                        else f"material from `{where}`"))
        formula = model.formula
        s = model.structure
        if s.kind != "formula":
            structure = f'{s.kind}("{s.ref}")' + (f" with {len(s.edits)} edit(s)" if s.edits else "")
        if model.order is not None:
            order = f"{model.order.method} {{ seed = {model.order.seed} }}"
        lib_name = s.ref if s.kind == "library" else None
    elif cell is not None:
        parts = []
        for a in cell.body.attributes():
            if a.key.name in ROLE_DOCS:
                v = a.value
                head = v.name if isinstance(v, ast.Ref) else v.head.name if isinstance(v, ast.BlockValue) else None
                if head:
                    parts.append(f"{a.key.name} `{head}`")
        return f"**{name}**: cell (line {cell.span.line})\n\n" + ", ".join(parts)
    elif name in table or looks_like_formula(name):
        if _composition(name) is None:
            if study is None and any(isinstance(i, ast.UseDecl) for i in items):
                return (f"**{name}**: not defined in this file, and not a formula; it may come from a file this "
                        "one `use`s (imported materials are known once the study checks without errors)")
            md = f"**{name}**: not a material of this study, and not a formula of real elements"
            if name in table:
                md += (f"\n\nThe structure library has a phase `{name}` (formula `{table[name].formula}`): name it in "
                       f'a material block, `structure = library("{name}")`.')
            return md
        lines.append(f"**{name}**: formula" + (" (an inline material: no material block; it is the library phase "
                                                "of this formula)" if name in table else
                                                " (an inline material: no material block)"))
        formula = name
    else:
        return None
    if formula:
        comp = _composition(formula)
        lines.append(f"- formula: `{formula}`" + (f" ({comp} per formula unit)" if comp else ""))
    if structure:
        lines.append(f"- structure: `{structure}`")
    else:
        lines.append("- structure: none given: the library phase of its formula, or the `structures` source")
    if order:
        lines.append(f"- order: `{order}`")
    phase = table.get(lib_name) if lib_name else (table.get(formula) if formula else None)
    if phase is not None:
        lines.append(f"- {_phase_line(phase)}".replace("\n\n", "\n  "))
    elif formula and not structure:
        lines.append(f"- no library phase is named `{formula}`: the structure is looked up by formula in the "
                     "`structures` source at compile time")
    lines.append(f"- data: {_data_line(module, study, text)}")
    return "\n".join(lines)
