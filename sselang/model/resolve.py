"""Syntax tree -> `Study`: names, roles, imports and units resolved.

Everything the user can get wrong about structure is reported here (unknown
keys, unknown names, wrong value kinds, units of the wrong dimension,
unordered ranges, cyclic imports); the physics checks in `sselang.checks`
then run on the resolved study.  Spans of the resolved objects are kept in
a side table (`Spans`) so the checks can still point into the source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from ..checks.diagnostics import Reporter
from ..checks.suggest import closest, did_you_mean
from ..syntax import ast
from ..syntax.source import Span
from . import study as m
from .formula import FormulaError, looks_like_formula, parse_formula
from .values import ValueReader, describe

ROLES = ("cathode", "coating", "electrolyte", "anode")
REQUIRED_ROLES = ("cathode", "electrolyte", "anode")
ENGINES = ("vasp", "qe", "cp2k")
ENGINE_KEYS = {
    "vasp": ("preset", "encut", "kspacing", "ediff", "ediffg", "functional", "for", "potcar_functional", "spin"),
    "qe": ("pseudos", "pseudo_dir", "pseudo_files", "ecutwfc", "ecutrho", "functional", "kspacing", "for", "spin"),
    "cp2k": ("functional", "cutoff", "rel_cutoff", "basis", "potential", "for", "spin"),
}
ENGINE_CHOICES = {
    ("vasp", "preset"): ("mp", "mp-r2scan"),
    ("vasp", "functional"): ("PBE", "PBEsol", "r2SCAN"),
    ("qe", "functional"): ("PBE", "PBEsol"),
    ("cp2k", "functional"): ("PBE", "PBEsol"),
    ("qe", "pseudos"): ("SSSP-efficiency",),
}
# What each engine setting takes: the decks turn numbers into floats and write words
# into the deck's text, so a string where a number belongs (encut = "520; ISPIN = 2")
# or a name with a line break is refused here, with its position, not met in a deck.
ENGINE_NUMBERS = ("encut", "kspacing", "ediff", "ediffg", "ecutwfc", "ecutrho", "cutoff", "rel_cutoff")
ENGINE_KINDS = {"encut": ("energy",), "ediff": ("energy",), "ediffg": ("energy", "force"), "ecutwfc": ("energy",),
                "ecutrho": ("energy",), "cutoff": ("energy",), "rel_cutoff": ("energy",)}
ENGINE_FLAGS = ("spin",)
ENGINE_STRINGS = ("pseudo_dir", "pseudo_files")  # checked further by the QE checks
ENGINE_WORDS = ("basis", "potential", "potcar_functional")  # one word of a data file's names
ENGINE_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")
CALCULATION_KINDS = ("relax", "static", "diffusion", "barrier", "interface", "window", "reactivity")
DIRECTIONS = ("x", "y", "z", "a", "b", "c", "xy", "xz", "yz", "ab", "ac", "bc", "xyz", "abc")
STUDY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MAX_TEMPERATURES = 50
MAX_CANDIDATES = 5000
# `use` chains: a study and its shared files nest two or three deep; a longer chain (or
# thousands of files) is generated input, and following it would exhaust the recursion
MAX_USE_DEPTH = 16
MAX_USE_FILES = 256


def _origin(path: str, span: Span) -> m.Origin:
    return m.Origin(file=path, line=span.line)


@dataclass
class Spans:
    """Where each resolved thing was written: key -> (path, span)."""

    table: dict[tuple, tuple[str, Span]] = field(default_factory=dict)

    def put(self, key: tuple, path: str, span: Span) -> None:
        self.table.setdefault(key, (path, span))

    def get(self, key: tuple) -> tuple[str, Span] | tuple[None, None]:
        return self.table.get(key, (None, None))


@dataclass
class _MaterialDraft:
    name: str
    path: str
    decl: ast.MaterialDecl | None
    model: m.Material | None = None


class Resolver:
    def __init__(self, rep: Reporter, loader) -> None:
        self.rep = rep
        self.loader = loader  # path -> (Module | None, source_path) ; reports its own errors
        self.spans = Spans()
        self.materials: dict[str, m.Material] = {}
        self.material_paths: dict[str, str] = {}
        self.cells: dict[str, m.Cell] = {}
        self.cell_asts: dict[str, tuple[str, ast.CellDecl]] = {}
        self.used: set[str] = set()
        self.imports: list[str] = []
        self._analysis_count = 0
        # names declared, even if their definition had errors: references to
        # them are not reported again (no cascades)
        self.declared_materials: set[str] = set()
        self.declared_cells: set[str] = set()
        # a used file failed to load (reported there): names it would have
        # defined are unknown here, and are not reported again
        self.import_failed = False

    # ---- entry point -------------------------------------------------------------
    def resolve(self, module: ast.Module, path: str) -> m.Study | None:
        self.study_dir = Path(path).parent  # file("...") and entries("...") paths are relative to it
        self._collect(module, path, stack=[str(Path(path).resolve())], top=True)
        study_decls = [i for i in module.items if isinstance(i, ast.StudyDecl)]
        vr = ValueReader(self.rep, path)
        if not study_decls:
            self.rep.error("SSE025", "this file has no study block", module.items[0].span if module.items else None,
                           'start the file with: study "my-study" { title = "..." }', path=path)
        for extra in study_decls[1:]:
            self.rep.error("SSE026", "a file has one study block; this is a second one", extra.span, path=path)
        head = self._study_header(study_decls[0], vr) if study_decls else {}

        for kind in (ast.DataDecl, ast.RunDecl):
            decls = [i for i in module.items if isinstance(i, kind)]
            for extra in decls[1:]:
                word = "data" if kind is ast.DataDecl else "run"
                self.rep.error("SSE026", f"a second '{word}' block", extra.span, f"merge it into the first '{word}' block",
                               path=path)
        data_decl = next((i for i in module.items if isinstance(i, ast.DataDecl)), None)
        run_decl = next((i for i in module.items if isinstance(i, ast.RunDecl)), None)
        data = self._data(data_decl, vr) if data_decl else m.DataConfig()
        run = self._run(run_decl, vr) if run_decl else m.RunConfig()
        engines = self._engines([i for i in module.items if isinstance(i, ast.EngineDecl)], vr)
        analyses = []
        for item in module.items:
            if isinstance(item, ast.AnalyzeDecl):
                a = self._analysis(item, vr)
                if a is not None:
                    analyses.append(a)
        self._warn_unused(path)
        if self.rep.has_errors:
            from ..checks.physics import check_materials

            check_materials(tuple(self.materials.values()), self.spans, self.rep)
        if self.rep.has_errors or not study_decls or head.get("id") is None:
            return None
        try:
            return m.Study(
                id=head["id"], title=head.get("title"), authors=tuple(head.get("authors", ())),
                reference=head.get("reference"), description=head.get("description"),
                source=path, imports=tuple(self.imports),
                materials=tuple(self.materials[k] for k in self.materials),
                cells=tuple(self.cells.values()), analyses=tuple(analyses), engines=tuple(engines),
                data=data, run=run, sselang_version=__version__,
            )
        except Exception as e:  # noqa: BLE001 - a model validation error here is a bug in the resolver,
            # but the user still gets a diagnostic rather than a traceback
            self.rep.error("SSE099", f"internal error while building the study model: {e}", None, path=path)
            return None

    # ---- definitions and imports -------------------------------------------------
    def _collect(self, module: ast.Module, path: str, stack: list[str], top: bool) -> None:
        for item in module.items:
            if isinstance(item, ast.UseDecl):
                self._use(item, path, stack)
        for item in module.items:
            if not top and isinstance(item, (ast.StudyDecl, ast.AnalyzeDecl, ast.EngineDecl, ast.DataDecl, ast.RunDecl)):
                self.rep.error("SSE062", "an imported file may only define materials and cells", item.span,
                               "move this block into the study that uses this file", path=path)
        for item in module.items:
            if isinstance(item, ast.MaterialDecl):
                self._material(item, path)
        for item in module.items:
            if isinstance(item, ast.CellDecl):
                self._cell(item, path)

    def _use(self, item: ast.UseDecl, path: str, stack: list[str]) -> None:
        rel = item.path.value
        if not rel or Path(rel).is_absolute() or "\n" in rel or "\x00" in rel:
            self.rep.error("SSE063", f"use path '{_short(rel)}' must be a relative path to a .cell file", item.path.span,
                           "paths are relative to the file that uses them, so the study stays portable", path=path)
            return
        target = (Path(path).parent / rel).resolve()
        key = str(target)
        if key in stack:
            chain = " -> ".join(Path(p).name for p in stack[stack.index(key):] + [key])
            self.rep.error("SSE061", f"cyclic use: {chain}", item.path.span, "a file must not use itself, directly or through others",
                           path=path)
            return
        if key in self.imports:
            return
        if len(stack) > MAX_USE_DEPTH:
            self.rep.error("SSE064", f"use chain deeper than {MAX_USE_DEPTH} files", item.path.span,
                           "use the shared file directly from the study instead of through a chain", path=path)
            self.import_failed = True
            return
        if len(self.imports) >= MAX_USE_FILES:
            self.rep.error("SSE064", f"more than {MAX_USE_FILES} files are used", item.path.span,
                           "merge the shared definitions into fewer files", path=path)
            self.import_failed = True
            return
        loaded = self.loader(target, item, path)
        if loaded is None:
            self.import_failed = True
            return
        module, shown = loaded
        self.imports.append(key)
        self._collect(module, shown, stack + [key], top=False)

    def _define(self, kind: str, name: str, span: Span, path: str, existing: dict) -> bool:
        if name in existing:
            prev_path, prev = self.spans.get((kind, name))
            where = f"{prev_path}:{prev.line}" if prev else "elsewhere"
            self.rep.error("SSE021", f"{kind} '{name}' is defined twice", span, f"the first definition is at {where}", path=path)
            return False
        return True

    def _material(self, decl: ast.MaterialDecl, path: str) -> None:
        name = decl.name.name
        if not self._define("material", name, decl.name.span, path, self.declared_materials):
            return
        self.declared_materials.add(name)
        self._check_name(name, decl.name.span, path, "material")
        vr = ValueReader(self.rep, path)
        attrs = self._attrs(decl.body, path, ("formula", "structure", "order", "mixed_valence"), what="material")
        self.spans.put(("material", name), path, decl.name.span)
        if "formula" not in attrs:
            misspelled = any(isinstance(e, ast.Attribute) and e.key.name != "formula"
                             and closest(e.key.name, ("formula", "structure", "order", "mixed_valence")) == "formula"
                             for e in decl.body.entries)
            if not misspelled:  # a misspelled `formula` key is reported (with its fix) by _attrs
                try:
                    example = name if parse_formula(name) else "Li6PS5Cl"
                except FormulaError:  # 'LPSCl' looks like a formula but is not one
                    example = "Li6PS5Cl"
                self.rep.error("SSE012", f"material '{name}' has no formula", decl.name.span,
                               f"add: formula = {example}", path=path)
            return
        fv = attrs["formula"].value
        formula_text = fv.name if isinstance(fv, ast.Ref) else fv.value if isinstance(fv, ast.String) else None
        if formula_text is None:
            self.rep.error("SSE013", f"formula must be a chemical formula, not {describe(fv)}", fv.span, path=path)
            return
        comp = self._formula(formula_text, fv.span, path)
        self.spans.put(("material", name, "formula"), path, fv.span)
        structure = m.StructureSource(kind="formula", ref=formula_text)
        if "structure" in attrs:
            s = self._structure(attrs["structure"].value, vr, path, name)
            if s is not None:
                structure = s
                self.spans.put(("material", name, "structure"), path, attrs["structure"].value.span)
        order = self._order(attrs["order"].value, vr, path) if "order" in attrs else None
        mixed = vr.boolean(attrs["mixed_valence"].value, "mixed_valence") if "mixed_valence" in attrs else False
        if comp is None:
            return
        self.materials[name] = m.Material(
            name=name, formula=formula_text, composition=comp, structure=structure, order=order,
            mixed_valence=bool(mixed), origin=_origin(path, decl.span))
        self.material_paths[name] = path

    def _escapes(self, rel: str, span: Span, path: str, what: str) -> bool:
        """Report a path that a symbolic link leads out of the study's folder."""
        from ..util.paths import escapes

        real = escapes(getattr(self, "study_dir", Path(path).parent), rel)
        if real is None:
            return False
        self.rep.error("SSE016", f"{what} '{_short(rel)}' leads outside the study's folder (to {_short(str(real), 60)})",
                       span, "copy the file into the study's folder instead of linking to it", path=path)
        return True

    def _check_name(self, name: str, span: Span, path: str, kind: str) -> None:
        from ..syntax.grammar import keywords

        if name in keywords() or name in ROLES:
            self.rep.error("SSE017", f"'{name}' is a reserved word and cannot name a {kind}", span,
                           f"choose another name, e.g. '{name}_1'", path=path)

    def _formula(self, text: str, span: Span, path: str) -> dict[str, float] | None:
        try:
            return parse_formula(text)
        except FormulaError as e:
            # the culprit inside the formula: a bare formula, or one in quotes (formula = "LiTi2(PO43")
            width = span.end - span.start
            shift = 0 if width == len(text) else 1 if text and width == len(text) + 2 else None
            inner = Span(span.start + shift + e.offset, span.start + shift + e.offset + e.length, span.line,
                         span.col + shift + e.offset, span.line, span.col + shift + e.offset + e.length) \
                if span.line == span.end_line and shift is not None else span
            self.rep.error(e.code, e.message, inner, e.help, path=path)
            return None

    def _structure(self, v: ast.Value, vr: ValueReader, path: str, material: str) -> m.StructureSource | None:
        if not isinstance(v, ast.Call):
            self.rep.error("SSE013", f"structure must be library(\"name\"), file(\"path\") or mp(\"mp-id\"), not {describe(v)}",
                           v.span, path=path)
            return None
        kinds = ("library", "file", "mp")
        fname = v.func.name
        if fname not in kinds:
            self.rep.error("SSE014", f"unknown structure source '{fname}'", v.func.span,
                           did_you_mean(fname, kinds) or "use library(...), file(...) or mp(...)", path=path)
            return None
        if len(v.args) != 1 or not isinstance(v.args[0], ast.String):
            self.rep.error("SSE013", f"{fname}(...) takes one string", v.span, f'e.g. {fname}("Li6PS5Cl")', path=path)
            return None
        ref = v.args[0].value
        if fname == "file" and (not ref or Path(ref).is_absolute() or ".." in Path(ref).parts or "\x00" in ref):
            self.rep.error("SSE016", f"structure file '{_short(ref)}' must be a relative path inside the study's folder",
                           v.args[0].span, path=path)
            return None
        if fname == "file" and self._escapes(ref, v.args[0].span, path, "structure file"):
            return None
        if fname == "mp" and not re.fullmatch(r"mp-\d+", ref):
            self.rep.error("SSE013", f"'{ref}' is not a Materials Project id", v.args[0].span, 'ids look like "mp-1234"', path=path)
            return None
        if fname == "library":
            from ..data.library import quick_names

            try:
                known = quick_names()
            except OSError as e:  # a broken installation, not the user's study
                self.rep.error("SSE099", f"the structure library cannot be read: {e}", v.span, path=path)
                return None
            if ref not in known:
                guess = closest(ref, known, cutoff=0.6)
                self.rep.error("SSE101", f"no phase '{_short(ref)}' in the structure library", v.args[0].span,
                               f"did you mean '{guess}'?" if guess else "`sselang library` lists the phases; "
                               "or give the structure with file(\"...\")", path=path)
                return None
        edits = []
        for e in v.edits or ():
            amount = vr.number(e.amount, f"{e.op} amount")
            if amount is None:
                continue
            if amount <= 0:
                self.rep.error("SSE033", f"{e.op} amount must be positive", e.amount.span, path=path)
                continue
            ok = True
            for ident in (e.species, e.new) if e.new else (e.species,):
                comp = self._formula(ident.name, ident.span, path)
                if comp is not None and comp != {ident.name: 1.0}:
                    self.rep.error("SSE033", f"'{ident.name}' is not a single element", ident.span, path=path)
                ok = ok and comp == {ident.name: 1.0}
            if not ok:  # reported above; keeping the edit would only add a "does not add up" error
                continue
            edits.append(m.StructureEdit(op=e.op, species=e.species.name, new_species=e.new.name if e.new else None,
                                         amount=amount))
            self.spans.put(("material", material, "edit", len(edits) - 1), path, e.span)
        return m.StructureSource(kind=fname, ref=ref, edits=tuple(edits))

    def _order(self, v: ast.Value, vr: ValueReader, path: str) -> m.Ordering | None:
        methods = ("ewald", "random")
        if isinstance(v, ast.Ref):
            head, body = v.ident, None
        elif isinstance(v, ast.BlockValue):
            head, body = v.head, v.body
        else:
            self.rep.error("SSE013", f"order must be ewald { ... } or random { ... }, not {describe(v)}",
                           v.span, path=path)
            return None
        if head.name not in methods:
            self.rep.error("SSE014", f"unknown ordering method '{head.name}'", head.span,
                           did_you_mean(head.name, methods) or f"choose one of: {', '.join(methods)}", path=path)
            return None
        kw = {}
        if body is not None:
            attrs = self._attrs(body, path, ("seed", "keep", "max_atoms"), what="order")
            if "seed" in attrs:
                kw["seed"] = vr.integer(attrs["seed"].value, "seed", minimum=0)
            if "keep" in attrs:
                kw["keep"] = vr.integer(attrs["keep"].value, "keep", minimum=1)
            if "max_atoms" in attrs:
                kw["max_atoms"] = vr.integer(attrs["max_atoms"].value, "max_atoms", minimum=1)
                from ..plan import MAX_ATOMS

                # the ordering builds (and sums Ewald energies over) a supercell of up to this size
                if kw["max_atoms"] is not None and kw["max_atoms"] > MAX_ATOMS:
                    self.rep.error("SSE045", f"max_atoms = {kw['max_atoms']} is more than any calculation takes "
                                   f"(at most {MAX_ATOMS})", attrs["max_atoms"].value.span, path=path)
                    kw["max_atoms"] = None
        kw = {k: x for k, x in kw.items() if x is not None}
        return m.Ordering(method=head.name, **kw)

    # ---- cells -------------------------------------------------------------------------
    def _material_ref(self, ident: ast.Ident, path: str, what: str) -> str | None:
        """A defined material, or a formula that becomes an inline material."""
        name = ident.name
        if name in self.materials:
            self.used.add(name)
            return name
        if name in self.declared_materials:
            return None  # its definition has errors, reported there
        suggestion = closest(name, self.declared_materials, cutoff=0.6)
        try:
            comp = parse_formula(name)
        except FormulaError as e:
            if self.import_failed and not suggestion:
                return None  # perhaps defined in the file that failed to load
            if suggestion:
                self.rep.error("SSE020", f"unknown material '{name}'", ident.span, f"did you mean '{suggestion}'?", path=path)
                self.used.add(suggestion)  # presumably meant: no "never used" warning on top
            elif looks_like_formula(name) or e.code == "SSE031":
                self._formula(name, ident.span, path)
            else:
                self.rep.error("SSE020", f"'{name}' is neither a material of this study nor a chemical formula ({e.message})",
                               ident.span, "define it with a material block, or write its formula", path=path)
            return None
        self.materials[name] = m.Material(name=name, formula=name, composition=comp,
                                          structure=m.StructureSource(kind="formula", ref=name), inline=True,
                                          origin=_origin(path, ident.span))
        self.material_paths[name] = path
        self.spans.put(("material", name), path, ident.span)
        self.spans.put(("material", name, "formula"), path, ident.span)
        self.used.add(name)
        return name

    def _cell(self, decl: ast.CellDecl, path: str) -> None:
        name = decl.name.name
        if not self._define("cell", name, decl.name.span, path, self.declared_cells):
            return
        self.declared_cells.add(name)
        self._check_name(name, decl.name.span, path, "cell")
        if name in self.declared_materials:
            p, prev = self.spans.get(("material", name))
            self.rep.error("SSE021", f"'{name}' names both a material and a cell", decl.name.span,
                           f"the material is at {p}:{prev.line}; rename one" if prev else "rename one", path=path)
        self.spans.put(("cell", name), path, decl.name.span)
        vr = ValueReader(self.rep, path)
        comps: dict[str, list[m.Component]] = {r: [] for r in ROLES}
        given: set[str] = set()
        conditions, observed = m.Conditions(), None
        seen_nested: set[str] = set()
        misspelled: set[str | None] = set()
        for entry in decl.body.entries:
            key = entry.key.name if isinstance(entry, ast.Attribute) else entry.name.name
            if isinstance(entry, ast.Nested):
                if key not in ("conditions", "observed"):
                    self.rep.error("SSE010", f"unknown block '{key}' in cell", entry.name.span,
                                   did_you_mean(key, ("conditions", "observed") + ROLES) or "cells hold roles, conditions and observed",
                                   path=path)
                    continue
                if key in seen_nested:
                    self.rep.error("SSE011", f"'{key}' is given twice", entry.name.span, path=path)
                    continue
                seen_nested.add(key)
                if key == "conditions":
                    conditions = self._conditions(entry.body, vr, path, name) or conditions
                else:
                    observed = self._observed(entry.body, vr, path)
                continue
            if key not in ROLES:
                self.rep.error("SSE010", f"unknown role '{key}' in cell", entry.key.span,
                               did_you_mean(key, ROLES + ("conditions", "observed")) or f"roles: {', '.join(ROLES)}", path=path)
                misspelled.add(closest(key, ROLES + ("conditions", "observed")))
                continue
            if key != "coating" and key in given:
                self.rep.error("SSE011", f"role '{key}' is given twice", entry.key.span,
                               "only coating may be repeated (listed from the cathode outwards)", path=path)
                continue
            given.add(key)
            comp = self._component(key, entry.value, vr, path, name, len(comps[key]))
            if comp is not None:
                comps[key].append(comp)
        for r in REQUIRED_ROLES:
            if r not in given and r not in misspelled:  # a misspelled role is reported above, with its fix
                self.rep.error("SSE022", f"cell '{name}' has no {r}", decl.name.span,
                               f"add: {r} = <material or formula>", path=path)
        if any(not comps[r] for r in REQUIRED_ROLES) or len(comps["coating"]) != sum(
                1 for e in decl.body.entries if isinstance(e, ast.Attribute) and e.key.name == "coating"):
            return
        self.cells[name] = m.Cell(name=name, cathode=comps["cathode"][0], coatings=tuple(comps["coating"]),
                                  electrolyte=comps["electrolyte"][0], anode=comps["anode"][0], conditions=conditions,
                                  observed=observed, origin=_origin(path, decl.span))
        self.cell_asts[name] = (path, decl)

    def _component(self, role: str, v: ast.Value, vr: ValueReader, path: str, cell: str, index: int) -> m.Component | None:
        if isinstance(v, ast.Ref):
            ident, body = v.ident, None
        elif isinstance(v, ast.BlockValue):
            ident, body = v.head, v.body
        else:
            self.rep.error("SSE013", f"{role} must name a material or a formula, not {describe(v)}", v.span, path=path)
            return None
        mat = self._material_ref(ident, path, role)
        self.spans.put(("cell", cell, role, index), path, ident.span)
        kw: dict = {}  # options are checked even when the material is wrong: one run, all mistakes
        if body is not None:
            allowed = {"cathode": ("loading", "charged_to", "thickness"), "coating": ("thickness",),
                       "electrolyte": ("thickness",), "anode": ("thickness",)}[role]
            attrs = self._attrs(body, path, allowed, what=role)
            if "loading" in attrs:
                kw["loading"] = vr.quantity(attrs["loading"].value, "fraction", "loading")
                if kw["loading"] is not None and not 0 < kw["loading"] <= 1:
                    self.rep.error("SSE043", "loading must be between 0 and 100 %", attrs["loading"].value.span, path=path)
                    kw["loading"] = None
            if "charged_to" in attrs:
                kw["charged_to_V"] = vr.quantity(attrs["charged_to"].value, "potential", "charged_to")
                self.spans.put(("cell", cell, role, "charged_to"), path, attrs["charged_to"].value.span)
            if "thickness" in attrs:
                kw["thickness_nm"] = vr.quantity(attrs["thickness"].value, "length", "thickness")
                if kw["thickness_nm"] is not None and kw["thickness_nm"] <= 0:
                    self.rep.error("SSE043", "thickness must be positive", attrs["thickness"].value.span, path=path)
                    kw["thickness_nm"] = None
                if kw["thickness_nm"] is not None:
                    kw["thickness_nm"] /= 10.0  # Å -> nm
        kw = {k: x for k, x in kw.items() if x is not None}
        if mat is None:
            return None
        return m.Component(role=role, material=mat, **kw)

    def _conditions(self, body: ast.Body, vr: ValueReader, path: str, cell: str) -> m.Conditions | None:
        attrs = self._attrs(body, path, ("temperature", "pressure", "rate", "current_density", "cutoff"), what="conditions")
        kw: dict = {}
        if "temperature" in attrs:
            kw["temperature_K"] = vr.quantity(attrs["temperature"].value, "temperature", "temperature")
            self.spans.put(("cell", cell, "conditions", "temperature"), path, attrs["temperature"].value.span)
        if "pressure" in attrs:
            kw["pressure_MPa"] = vr.quantity(attrs["pressure"].value, "pressure", "pressure")
        if "rate" in attrs:
            kw["c_rate"] = vr.quantity(attrs["rate"].value, "c_rate", "rate")
        if "current_density" in attrs:
            kw["current_density_mA_cm2"] = vr.quantity(attrs["current_density"].value, "current_density", "current_density")
        if "cutoff" in attrs:
            kw["cutoff_V"] = vr.range(attrs["cutoff"].value, "potential", "cutoff")
        kw = {k: x for k, x in kw.items() if x is not None}
        for k in ("pressure_MPa", "c_rate", "current_density_mA_cm2"):
            if k in kw and kw[k] <= 0:
                key = {"pressure_MPa": "pressure", "c_rate": "rate", "current_density_mA_cm2": "current_density"}[k]
                self.rep.error("SSE043", f"{key} must be positive", attrs[key].value.span, path=path)
                kw.pop(k)
        if "temperature_K" in kw and kw["temperature_K"] <= 0:
            self.rep.error("SSE043", "temperature must be above absolute zero", attrs["temperature"].value.span, path=path)
            kw.pop("temperature_K")
        return m.Conditions(**kw)

    def _observed(self, body: ast.Body, vr: ValueReader, path: str) -> m.Observed | None:
        attrs = self._attrs(body, path, ("initial_capacity", "retention", "conductivity", "cycles", "reference"),
                            what="observed")
        kw: dict = {}
        if "initial_capacity" in attrs:
            kw["initial_capacity_mAh_g"] = vr.quantity(attrs["initial_capacity"].value, "specific_capacity", "initial_capacity")
        if "retention" in attrs:
            v = attrs["retention"].value
            if isinstance(v, ast.After):
                kw["retention"] = vr.quantity(v.value, "fraction", "retention")
                n = vr.quantity(v.after, "cycles", "cycle count")
                if n is not None:
                    kw["retention_after_cycles"] = int(round(n))
            else:
                kw["retention"] = vr.quantity(v, "fraction", "retention")
            if kw.get("retention") is not None and not 0 <= kw["retention"] <= 1.5:
                self.rep.error("SSE043", "retention must be a percentage of the initial capacity (0-150 %)", v.span, path=path)
                kw["retention"] = None
        if "conductivity" in attrs:
            kw["conductivity_mS_cm"] = vr.quantity(attrs["conductivity"].value, "conductivity", "conductivity")
        if "cycles" in attrs:
            kw["cycles"] = vr.integer(attrs["cycles"].value, "cycles", minimum=0)
        if "reference" in attrs:
            kw["reference"] = vr.string(attrs["reference"].value, "reference")
        kw = {k: x for k, x in kw.items() if x is not None}
        return m.Observed(**kw)

    # ---- analyses ------------------------------------------------------------------------
    def _analysis(self, decl: ast.AnalyzeDecl, vr: ValueReader) -> m.Analysis | None:
        path = vr.path
        tname = decl.target.name
        cell = self.cells.get(tname)
        if cell is None and tname in self.declared_cells:
            return None  # the cell has errors, reported there
        if cell is None:
            if tname in self.materials:
                self.used.add(tname)
                target_kind = "material"
            elif tname in self.declared_materials:
                return None
            else:
                cands = list(self.declared_cells | self.declared_materials)
                if self.import_failed and not closest(tname, cands, cutoff=0.6):
                    return None  # perhaps defined in the file that failed to load
                guess = closest(tname, cands, cutoff=0.6)
                if guess or not looks_like_formula(tname):
                    self.rep.error("SSE020", f"unknown cell or material '{tname}'", decl.target.span,
                                   f"did you mean '{guess}'?" if guess else "analyze a cell or a material defined in this study",
                                   path=path)
                    if guess:
                        self.used.add(guess)  # presumably meant: no "never used" warning on top
                    return None
                if self._material_ref(decl.target, path, "target") is None:
                    return None
                target_kind = "material"
        else:
            target_kind = "cell"
        ctx = _Ctx(self, path, vr, cell, tname if target_kind == "material" else None, self._analysis_count)
        requests = []
        for req in decl.requests:
            ctx.ri = len(requests)
            got = ctx.request(req)
            for i in range(len(got)):
                self.spans.put(("request", ctx.ai, ctx.ri + i), path, req.span)
            requests.extend(got)
        self._analysis_count += 1
        return m.Analysis(target=tname, target_kind=target_kind, requests=tuple(requests))

    # ---- engines, data, run ---------------------------------------------------------------
    def _engines(self, decls: list[ast.EngineDecl], vr: ValueReader) -> list[m.Engine]:
        from .units import kind_of, UnitError, convert, KINDS

        out = []
        seen: dict[tuple[str, frozenset], Span] = {}
        for d in decls:
            name = d.name.name
            if name not in ENGINES:
                self.rep.error("SSE080", f"unknown engine '{name}'", d.name.span,
                               did_you_mean(name, ENGINES) or f"engines: {', '.join(ENGINES)}", path=vr.path)
                continue
            attrs = self._attrs(d.body, vr.path, ENGINE_KEYS[name], what=f"engine {name}")
            self.spans.put(("engine", len(out)), vr.path, d.name.span)
            for key, a in attrs.items():
                self.spans.put(("engine", len(out), key), vr.path, a.value.span)
            settings: dict = {}
            applies: tuple[str, ...] = ()
            for key, a in attrs.items():
                v = a.value
                if key == "for":
                    names = vr.names(v, "for")
                    if names is None:
                        continue
                    for word, span in names:
                        if word not in CALCULATION_KINDS:
                            self.rep.error("SSE014", f"unknown calculation kind '{word}'", span,
                                           did_you_mean(word, CALCULATION_KINDS) or ", ".join(CALCULATION_KINDS), path=vr.path)
                    applies = tuple(w for w, _ in names)
                    continue
                if (name, key) in ENGINE_CHOICES:
                    c = vr.choice(v, key, ENGINE_CHOICES[(name, key)])
                    if c is not None:
                        settings[key] = c
                    continue
                if not self._engine_value_ok(key, v, vr.path):
                    continue
                if isinstance(v, ast.Quantity):
                    try:
                        kinds = kind_of(v.unit)
                    except UnitError as e:
                        from .units import known_unit_names

                        self.rep.error("SSE040", str(e), v.unit_span, did_you_mean(v.unit, known_unit_names()), path=vr.path)
                        continue
                    if not kinds:
                        self.rep.error("SSE041", f"'{v.unit}' is not a unit sselang knows a use for here", v.unit_span,
                                       path=vr.path)
                        continue
                    # a cutoff in kelvin would reach the deck as a number of eV: the dimension is checked
                    wanted = ENGINE_KINDS.get(key)
                    if wanted is not None:
                        if not set(kinds) & set(wanted):
                            self.rep.error("SSE041", f"{key} must be {' or '.join('an ' + w if w[0] in 'aeiou' else 'a ' + w for w in wanted)}"
                                           f" ('{v.unit}' is a unit of {kinds[0].replace('_', ' ')})", v.unit_span,
                                           f"e.g. {KINDS[wanted[0]].examples}", path=vr.path)
                            continue
                        kinds = [k for k in kinds if k in wanted]
                    # through the value reader: 1e400 eV is reported, not a crash in convert()
                    x = vr.quantity(v, kinds[0], key)
                    if x is None:
                        continue
                    settings[key] = x
                    settings[key + "_unit"] = KINDS[kinds[0]].label
                elif isinstance(v, ast.Number):
                    x = vr.number(v, key)
                    if x is not None:
                        settings[key] = x
                elif isinstance(v, ast.String):
                    settings[key] = v.value
                elif isinstance(v, ast.Ref):
                    settings[key] = v.name
                elif isinstance(v, ast.Bool):
                    settings[key] = v.value
                else:
                    self.rep.error("SSE013", f"engine setting '{key}' must be a number, quantity, string or name, not {describe(v)}",
                                   v.span, path=vr.path)
            if len(set(applies)) != len(applies):
                self.rep.error("SSE011", "a calculation kind is listed twice in 'for'", attrs["for"].value.span, path=vr.path)
                continue
            # one general block per engine, plus blocks for disjoint sets of kinds
            clash = next((k for k in seen if k[0] == name and (k[1] == frozenset(applies) if not applies or not k[1]
                                                               else k[1] & frozenset(applies))), None)
            if clash is not None:
                both = sorted(clash[1] & frozenset(applies)) if applies else []
                self.rep.error("SSE021", f"engine '{name}' is configured twice" + (f" for {', '.join(both)}" if both else ""),
                               d.name.span, f"the first block is at line {seen[clash].line}; merge them", path=vr.path)
                continue
            seen[(name, frozenset(applies))] = d.name.span
            out.append(m.Engine(name=name, settings=settings, applies_to=applies))
        return out

    def _engine_value_ok(self, key: str, v: ast.Value, path: str) -> bool:
        """The setting has the form its key takes (see ENGINE_NUMBERS and the others)."""
        if key in ENGINE_NUMBERS and not isinstance(v, (ast.Number, ast.Quantity)):
            self.rep.error("SSE013", f"engine setting '{key}' must be a number or a quantity, not {describe(v)}",
                           v.span, "e.g. encut = 520 eV, kspacing = 0.25", path=path)
            return False
        if key in ENGINE_FLAGS and not isinstance(v, ast.Bool):
            self.rep.error("SSE013", f"engine setting '{key}' must be true or false, not {describe(v)}", v.span,
                           path=path)
            return False
        if key in ENGINE_STRINGS and not isinstance(v, ast.String):
            self.rep.error("SSE013", f"engine setting '{key}' must be a string in double quotes, not {describe(v)}",
                           v.span, path=path)
            return False
        if key in ENGINE_WORDS:
            word = v.value if isinstance(v, ast.String) else v.name if isinstance(v, ast.Ref) else None
            if word is None or not ENGINE_WORD.fullmatch(word):
                self.rep.error("SSE013", f"engine setting '{key}' must be one name of letters, digits, '.', '_', "
                               f"'+' and '-'" + (f", not '{_short(word)}'" if word is not None else f", not {describe(v)}"),
                               v.span, 'e.g. basis = "DZVP-MOLOPT-SR-GTH"', path=path)
                return False
        return True

    THERMO_KINDS = ("bundled", "mp", "chgnet", "entries", "results")

    def _data(self, decl: ast.DataDecl, vr: ValueReader) -> m.DataConfig:
        attrs = self._attrs(decl.body, vr.path, ("thermo", "structures"), what="data")
        kw: dict = {}
        if "thermo" in attrs:
            v = attrs["thermo"].value
            items = v.items if isinstance(v, ast.ListValue) else (v,)
            sources = []
            for item in items:
                src = self._thermo_source(item, vr)
                if src is not None:
                    if src in sources:
                        self.rep.error("SSE011", f"thermo source {src.kind} is listed twice", item.span, path=vr.path)
                        continue
                    sources.append(src)
                    self.spans.put(("thermo", len(sources) - 1), vr.path, item.span)
            if sources:
                kw["thermo"] = tuple(sources)
        if "structures" in attrs:
            kw["structures"] = vr.choice(attrs["structures"].value, "structure source", ("bundled", "mp"))
        kw = {k: x for k, x in kw.items() if x is not None}
        return m.DataConfig(**kw)

    def _thermo_source(self, v: ast.Value, vr: ValueReader) -> m.ThermoSource | None:
        if isinstance(v, ast.Ref):
            kind, span = v.name, v.span
            if kind in ("entries", "results"):
                self.rep.error("SSE012", f"{kind} needs a path: {kind}(\"...\")", span,
                               f'e.g. {kind}("{"my_entries.json" if kind == "entries" else "calculations"}")', path=vr.path)
                return None
            if kind not in self.THERMO_KINDS:
                self.rep.error("SSE014", f"unknown thermo source '{kind}'", span,
                               did_you_mean(kind, self.THERMO_KINDS) or f"choose from: {', '.join(self.THERMO_KINDS)}",
                               path=vr.path)
                return None
            return m.ThermoSource(kind=kind)
        if isinstance(v, ast.Call):
            kind = v.func.name
            if kind not in ("entries", "results"):
                self.rep.error("SSE014", f"unknown thermo source '{kind}(...)'", v.func.span,
                               did_you_mean(kind, ("entries", "results")) or "entries(\"file.json\") or results(\"folder\")",
                               path=vr.path)
                return None
            if len(v.args) != 1 or not isinstance(v.args[0], ast.String) or v.edits:
                self.rep.error("SSE013", f"{kind}(...) takes one path in quotes", v.span, path=vr.path)
                return None
            rel = v.args[0].value
            if not rel or Path(rel).is_absolute() or ".." in Path(rel).parts or "\n" in rel or "\x00" in rel:
                self.rep.error("SSE016", f"'{_short(rel)}' must be a relative path inside the study's folder",
                               v.args[0].span, path=vr.path)
                return None
            if self._escapes(rel, v.args[0].span, vr.path, f"{kind}(...) path"):
                return None
            return m.ThermoSource(kind=kind, path=rel)
        self.rep.error("SSE013", f"thermo must name a source (bundled, mp, chgnet, entries(...), results(...)), "
                       f"not {describe(v)}", v.span, path=vr.path)
        return None

    def _run(self, decl: ast.RunDecl, vr: ValueReader) -> m.RunConfig:
        attrs = self._attrs(decl.body, vr.path, ("preview", "executor"), what="run")
        kw: dict = {}
        if "preview" in attrs:
            kw["preview"] = vr.choice(attrs["preview"].value, "preview model", ("chgnet", "none"))
        if "executor" in attrs:
            v = attrs["executor"].value
            head, body = (v.ident, None) if isinstance(v, ast.Ref) else (v.head, v.body) if isinstance(v, ast.BlockValue) else (None, None)
            if head is None:
                self.rep.error("SSE013", f"executor must be local {{ ... }} or slurm {{ ... }}, not {describe(v)}", v.span,
                               path=vr.path)
            elif head.name not in ("local", "slurm"):
                self.rep.error("SSE014", f"unknown executor '{head.name}'", head.span,
                               did_you_mean(head.name, ("local", "slurm")) or "local or slurm", path=vr.path)
            else:
                ekw: dict = {"kind": head.name}
                if body is not None:
                    allowed = ("workers",) if head.name == "local" else ("workers", "partition", "account", "walltime", "nodes")
                    ea = self._attrs(body, vr.path, allowed, what=f"{head.name} executor")
                    if "workers" in ea:
                        ekw["workers"] = vr.integer(ea["workers"].value, "workers", minimum=1)
                        if ekw["workers"] is not None and ekw["workers"] > 4096:
                            self.rep.error("SSE045", "workers must be at most 4096", ea["workers"].value.span, path=vr.path)
                            ekw["workers"] = None
                    if "nodes" in ea:
                        ekw["nodes"] = vr.integer(ea["nodes"].value, "nodes", minimum=1)
                    for k in ("partition", "account"):
                        if k in ea:
                            ekw[k] = vr.string(ea[k].value, k)
                            # written into #SBATCH lines: one safe word, never a second line
                            if ekw[k] is not None and not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", ekw[k]):
                                self.rep.error("SSE018", f"{k} '{_short(ekw[k])}' is not a valid SLURM name",
                                               ea[k].value.span, "letters, digits, '.', '_' and '-' only", path=vr.path)
                                ekw[k] = None
                    if "walltime" in ea:
                        t = vr.quantity(ea["walltime"].value, "time", "walltime")
                        if t is not None and t <= 0:
                            self.rep.error("SSE043", "walltime must be positive", ea["walltime"].value.span, path=vr.path)
                            t = None
                        ekw["walltime_h"] = None if t is None else t / 3.6e15  # ps -> h
                ekw = {k: x for k, x in ekw.items() if x is not None}
                kw["executor"] = m.Executor(**ekw)
        kw = {k: x for k, x in kw.items() if x is not None}
        return m.RunConfig(**kw)

    # ---- helpers --------------------------------------------------------------------------
    def _attrs(self, body: ast.Body, path: str, allowed: tuple[str, ...], what: str) -> dict[str, ast.Attribute]:
        """The block's attributes by key; unknown, duplicate and nested entries reported."""
        out: dict[str, ast.Attribute] = {}
        for e in body.entries:
            if isinstance(e, ast.Nested):
                self.rep.error("SSE010", f"unexpected block '{e.name.name}' in {what}", e.name.span,
                               did_you_mean(e.name.name, allowed) or (f"{what} takes: {', '.join(allowed)}" if allowed else None),
                               path=path)
                continue
            key = e.key.name
            if key not in allowed:
                self.rep.error("SSE010", f"unknown key '{key}' in {what}", e.key.span,
                               did_you_mean(key, allowed) or (f"{what} takes: {', '.join(allowed)}" if allowed else f"{what} takes no settings"),
                               path=path)
                continue
            if key in out:
                self.rep.error("SSE011", f"'{key}' is given twice in {what}", e.key.span,
                               f"the first is at line {out[key].span.line}", path=path)
                continue
            out[key] = e
        return out

    def _study_header(self, decl: ast.StudyDecl, vr: ValueReader) -> dict:
        head: dict = {}
        sid = decl.id.value
        self.spans.put(("study", "id"), vr.path, decl.id.span)  # names the build folder
        if not STUDY_ID.fullmatch(sid):
            self.rep.error("SSE015", f"study id '{_short(sid)}' is not a valid name", decl.id.span,
                           "use letters, digits, '.', '_' and '-' (at most 64), starting with a letter or digit: it names the build folder",
                           path=vr.path)
        else:
            head["id"] = sid
        attrs = self._attrs(decl.body, vr.path, ("title", "authors", "reference", "description"), what="study")
        for k in ("title", "reference", "description"):
            if k in attrs:
                head[k] = vr.string(attrs[k].value, k)
                if head[k] is not None and not self._text_ok(head[k], k, attrs[k].value.span, vr.path):
                    head[k] = None
        if "authors" in attrs:
            v = attrs["authors"].value
            if isinstance(v, ast.String):
                head["authors"] = [v.value]
            elif isinstance(v, ast.ListValue) and all(isinstance(i, ast.String) for i in v.items) and not v.unit:
                head["authors"] = [i.value for i in v.items]
            else:
                self.rep.error("SSE013", "authors must be a string or a list of strings", v.span, path=vr.path)
            items = v.items if isinstance(v, ast.ListValue) else (v,)
            if "authors" in head and not all(self._text_ok(i.value, "an author", i.span, vr.path) for i in items):
                del head["authors"]
        return head

    def _text_ok(self, text: str, what: str, span: Span, path: str) -> bool:
        """Titles, authors and references are one line of text, a description may have
        line breaks; neither holds other control characters (they end up in reports,
        job names and terminals, where a line break or an escape sequence changes them)."""
        import unicodedata

        allowed = "\n\t" if what == "description" else "\t"
        bad = next((c for c in text if c not in allowed and (unicodedata.category(c) in ("Cc", "Zl", "Zp")
                                                             or c in _BIDI_CONTROLS)), None)
        if bad is None:
            return True
        kind = ("a line break" if bad in "\n\r\u2028\u2029" else
                f"the bidirectional control U+{ord(bad):04X}" if bad in _BIDI_CONTROLS else f"the control character {bad!r}")
        self.rep.error("SSE013", f"{what} must be {'text' if what == 'description' else 'one line of text'}; it holds {kind}",
                       span, "write it on one line, without escape sequences" if what != "description" else None,
                       path=path)
        return False

    def _warn_unused(self, path: str) -> None:
        for name, mat in self.materials.items():
            if mat.inline or name in self.used or self.material_paths.get(name) != path:
                continue
            p, span = self.spans.get(("material", name))
            self.rep.warning("SSE090", f"material '{name}' is defined but never used", span,
                             "use it in a cell or analysis, or remove it", path=p)


# characters that reorder how text is shown: a title could read differently from what it holds
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def _short(s: str, n: int = 40) -> str:
    s = s.encode("unicode_escape").decode("ascii")
    return s if len(s) <= n else s[: n - 3] + "..."


class _Ctx:
    """Resolves the requests of one analyze block against its target."""

    def __init__(self, r: Resolver, path: str, vr: ValueReader, cell: m.Cell | None, material: str | None,
                 analysis_index: int) -> None:
        self.r, self.path, self.vr, self.cell, self.material = r, path, vr, cell, material
        self.ai = analysis_index
        self.ri = 0  # index of the next model request of this analysis

    def key(self, *parts) -> tuple:
        """Span-table key of a field of the request being resolved."""
        return ("request", self.ai, self.ri, *parts)

    def err(self, code, msg, span, help=None):
        self.r.rep.error(code, msg, span, help, path=self.path)

    def role_materials(self, ident: ast.Ident) -> list[str] | None:
        """Materials an identifier in a request stands for: a role of the
        analysed cell (coating may be several), a material, or a formula."""
        name = ident.name
        if name in ROLES:
            if self.cell is None:
                self.err("SSE024", f"'{name}' is a cell role, but this analysis is of the material '{self.material}'", ident.span,
                         "analyze a cell to refer to its roles")
                return None
            if name == "coating":
                if not self.cell.coatings:
                    self.err("SSE023", f"cell '{self.cell.name}' has no coating", ident.span)
                    return None
                return [c.material for c in self.cell.coatings]
            return [getattr(self.cell, name).material]
        if name in self.r.materials or looks_like_formula(name):
            got = self.r._material_ref(ident, self.path, "request")
            return None if got is None else [got]
        if name in self.r.declared_materials:
            return None
        guess = closest(name, list(ROLES) + sorted(self.r.declared_materials), cutoff=0.6)
        if self.r.import_failed and not guess:
            return None  # perhaps defined in the file that failed to load
        if guess:
            self.r.used.add(guess)  # presumably meant: no "never used" warning on top
        self.err("SSE020", f"unknown role or material '{name}'", ident.span,
                 f"did you mean '{guess}'?" if guess else "name a role (cathode, coating, electrolyte, anode) or a material")
        return None

    def default_material(self, span: Span, what: str) -> list[str] | None:
        if self.material is not None:
            return [self.material]
        return [self.cell.electrolyte.material]

    def request(self, req) -> list:
        if isinstance(req, (ast.WindowReq, ast.ProfileReq)):
            cls = m.WindowRequest if isinstance(req, ast.WindowReq) else m.ProfileRequest
            mats: dict[str, Span] = {}  # material -> where it was named (the checks point there)
            if not req.targets:
                mats = dict.fromkeys(self.default_material(req.span, "window") or [], req.span)
            for t in req.targets:
                for x in self.role_materials(t) or ():
                    mats.setdefault(x, t.span)
            for i, span in enumerate(mats.values()):
                self.r.spans.put(("request", self.ai, self.ri + i, "target"), self.path, span)
            return [cls(material=x) for x in mats]
        if isinstance(req, ast.ReactivityReq):
            return self.reactivity(req)
        if isinstance(req, ast.DiffusionReq):
            return self.diffusion(req)
        if isinstance(req, ast.BarrierReq):
            return self.barrier(req)
        if isinstance(req, ast.InterfaceReq):
            return self.interface(req)
        if isinstance(req, ast.ScreenReq):
            return self.screen(req)
        raise AssertionError(type(req))

    def reactivity(self, req: ast.ReactivityReq) -> list:
        a, b = self.role_materials(req.a), self.role_materials(req.b)
        open_el = pot = potential_span = None
        for opt in req.options or ():
            if isinstance(opt, ast.OpenTo):
                if open_el is not None:
                    self.err("SSE011", "only one 'open ... at ...' per reactivity", opt.span)
                    continue
                if self.r._formula(opt.species.name, opt.species.span, self.path) is None:
                    continue
                if len(parse_formula(opt.species.name)) != 1:
                    self.err("SSE013", f"'{opt.species.name}' is not an element; open a single element, e.g. open Li at 4.0 V",
                             opt.species.span)
                    continue
                pot = self.vr.quantity(opt.potential, "potential", "the open-element potential")
                if pot is not None:
                    open_el = opt.species.name
                    potential_span = opt.potential.span
            else:
                self.err("SSE010", f"unknown option '{opt.key.name}' for reactivity", opt.key.span,
                         "reactivity takes: open <element> at <potential>")
        if not a or not b:
            return []
        label = f"{req.a.name} | {req.b.name}"
        out = []
        for x in a:
            for y in b:
                if x == y:
                    self.err("SSE024", f"reactivity of '{x}' with itself", req.span, "name two different phases")
                    continue
                if potential_span is not None:
                    self.r.spans.put(("request", self.ai, self.ri + len(out), "potential"), self.path, potential_span)
                out.append(m.ReactivityRequest(a=x, b=y, open_element=open_el, potential_V=pot, label=label))
        return out

    def _one_target(self, ident: ast.Ident | None, span: Span, what: str) -> str | None:
        if ident is None:
            got = self.default_material(span, what)
        else:
            got = self.role_materials(ident)
        if not got:
            return None
        if len(got) > 1:
            self.err("SSE024", f"{what} needs one material; '{ident.name}' names {len(got)}", ident.span,
                     "name the material itself")
            return None
        return got[0]

    def diffusion(self, req: ast.DiffusionReq) -> list:
        mat = self._one_target(req.target, req.span, "diffusion")
        keys = ("temperatures", "duration", "equilibrate", "timestep", "supercell", "directions", "extrapolate", "species",
                "ensemble")
        attrs = self.r._attrs(req.body, self.path, keys, what="diffusion")
        kw: dict = {}
        vr = self.vr
        for k in ("temperatures", "duration"):
            if k not in attrs:
                self.err("SSE012", f"diffusion needs '{k}'", req.span,
                         "e.g. temperatures = [600, 800, 1000] K" if k == "temperatures" else "e.g. duration = 50 ps")
        if "temperatures" in attrs:
            v = attrs["temperatures"].value
            ts = vr.quantity_list(v, "temperature", "temperatures", max_items=MAX_TEMPERATURES)
            if ts is not None:
                kw["temperatures_K"] = tuple(ts)
                items = v.items if isinstance(v, ast.ListValue) else (v,)
                for i, it in enumerate(items):
                    self.r.spans.put(self.key("T", i), self.path, it.span)
                self.r.spans.put(self.key("temperatures"), self.path, v.span)
        for key, field_ in (("duration", "duration_ps"), ("equilibrate", "equilibrate_ps")):
            if key in attrs:
                kw[field_] = vr.quantity(attrs[key].value, "time", key)
                self.r.spans.put(self.key(key), self.path, attrs[key].value.span)
        if "timestep" in attrs:
            t = vr.quantity(attrs["timestep"].value, "time", "timestep")
            kw["timestep_fs"] = None if t is None else t * 1000.0
            self.r.spans.put(self.key("timestep"), self.path, attrs["timestep"].value.span)
        if "supercell" in attrs:
            v = attrs["supercell"].value
            inner = v.value if isinstance(v, ast.Minimum) else v
            kw["supercell_min_length_A"] = vr.quantity(inner, "length", "supercell")
            self.r.spans.put(self.key("supercell"), self.path, v.span)
        if "directions" in attrs:
            names = vr.names(attrs["directions"].value, "directions")
            if names is not None:
                for word, span in names:
                    if word not in DIRECTIONS:
                        self.err("SSE014", f"unknown direction '{word}'", span,
                                 did_you_mean(word, DIRECTIONS) or "directions: x, y, z, a, b, c, ab, bc, ac, xy, ...")
                kw["directions"] = tuple(w for w, _ in names if w in DIRECTIONS)
        if "extrapolate" in attrs:
            kw["extrapolate_K"] = vr.quantity(attrs["extrapolate"].value, "temperature", "extrapolate")
            self.r.spans.put(self.key("extrapolate"), self.path, attrs["extrapolate"].value.span)
        if "species" in attrs:
            self.r.spans.put(self.key("species"), self.path, attrs["species"].value.span)
            sp = vr.name(attrs["species"].value, "species")
            if sp is not None and self.r._formula(sp, attrs["species"].value.span, self.path) is not None:
                kw["species"] = sp
        if "ensemble" in attrs:
            kw["ensemble"] = vr.choice(attrs["ensemble"].value, "ensemble", ("nvt", "npt"))
        kw = {k: x for k, x in kw.items() if x is not None}
        if mat is None or "temperatures_K" not in kw or "duration_ps" not in kw:
            return []
        return [m.DiffusionRequest(material=mat, **kw)]

    def barrier(self, req: ast.BarrierReq) -> list:
        mat = self._one_target(req.target, req.span, "barrier")
        attrs = self.r._attrs(req.body, self.path, ("hop", "images", "climb"), what="barrier")
        kw: dict = {}
        if "hop" in attrs:
            v = attrs["hop"].value
            self.r.spans.put(self.key("species"), self.path, v.species.span if isinstance(v, ast.Along) else v.span)
            if isinstance(v, ast.Along):
                if self.r._formula(v.species.name, v.species.span, self.path) is not None:
                    kw["species"] = v.species.name
                if v.direction.name not in DIRECTIONS:
                    self.err("SSE014", f"unknown direction '{v.direction.name}'", v.direction.span,
                             did_you_mean(v.direction.name, DIRECTIONS) or "directions: x, y, z, a, b, c, ...")
                else:
                    kw["direction"] = v.direction.name
            elif isinstance(v, ast.Ref):
                if self.r._formula(v.name, v.span, self.path) is not None:
                    kw["species"] = v.name
            else:
                self.err("SSE013", f"hop must read '<element> along <direction>', not {describe(v)}", v.span)
        if "images" in attrs:
            n = self.vr.integer(attrs["images"].value, "images", minimum=1)
            if n is not None and n > 32:
                self.err("SSE043", f"{n} NEB images is more than any barrier needs (at most 32)", attrs["images"].value.span)
                n = None
            kw["images"] = n
        if "climb" in attrs:
            kw["climb"] = self.vr.boolean(attrs["climb"].value, "climb")
        kw = {k: x for k, x in kw.items() if x is not None}
        return [] if mat is None else [m.BarrierRequest(material=mat, **kw)]

    def interface(self, req: ast.InterfaceReq) -> list:
        a, b = self.role_materials(req.a), self.role_materials(req.b)
        kw: dict = {}
        if req.body is not None:
            attrs = self.r._attrs(req.body, self.path, ("max_area", "max_strain", "thickness", "vacuum"), what="interface")
            if "max_area" in attrs:
                kw["max_area_A2"] = self.vr.quantity(attrs["max_area"].value, "area", "max_area")
            if "max_strain" in attrs:
                kw["max_strain"] = self.vr.quantity(attrs["max_strain"].value, "fraction", "max_strain")
            if "thickness" in attrs:
                kw["thickness_A"] = self.vr.quantity(attrs["thickness"].value, "length", "thickness")
            if "vacuum" in attrs:
                kw["vacuum_A"] = self.vr.quantity(attrs["vacuum"].value, "length", "vacuum")
            for key, fld, ok, rule in (("max_area", "max_area_A2", lambda x: x > 0, "must be positive"),
                                       ("max_strain", "max_strain", lambda x: 0 < x < 1, "must be between 0 and 100 %"),
                                       ("thickness", "thickness_A", lambda x: x > 0, "must be positive"),
                                       ("vacuum", "vacuum_A", lambda x: x >= 0, "must not be negative")):
                if kw.get(fld) is not None and not ok(kw[fld]):
                    self.err("SSE043", f"interface {key} {rule}", attrs[key].value.span)
                    kw[fld] = None
        kw = {k: x for k, x in kw.items() if x is not None}
        if not a or not b:
            return []
        out, seen = [], set()
        for x in a:
            for y in b:
                if x == y:
                    self.err("SSE024", f"interface of '{x}' with itself", req.span, "name two different phases")
                elif frozenset((x, y)) not in seen:
                    seen.add(frozenset((x, y)))
                    out.append(m.InterfaceRequest(a=x, b=y, **kw))
        return out

    def screen(self, req: ast.ScreenReq) -> list:
        if req.role.name != "coating":
            self.err("SSE014", f"cannot screen '{req.role.name}'", req.role.span,
                     did_you_mean(req.role.name, ("coating",)) or "screens choose a coating: screen coating { ... }")
            return []
        if self.cell is None:
            self.err("SSE024", "a coating screen needs a cell (its cathode and electrolyte)", req.span,
                     "analyze a cell: analyze <cell> { screen coating { ... } }")
            return []
        kw: dict = {}
        reqs: list[m.Requirement] = []
        seen: dict[str, Span] = {}
        for st in req.stmts:
            if isinstance(st, ast.Attribute):
                key = st.key.name
                if key not in ("candidates", "exclude"):
                    self.err("SSE010", f"unknown key '{key}' in screen", st.key.span,
                             did_you_mean(key, ("candidates", "exclude")) or "screen takes candidates, exclude, require and rank by")
                    continue
                if key in seen:
                    self.err("SSE011", f"'{key}' is given twice in screen", st.key.span)
                    continue
                seen[key] = st.key.span
                if key == "candidates":
                    if isinstance(st.value, ast.AllFrom):
                        src = st.value.source.name
                        if src not in ("bundled", "mp"):
                            self.err("SSE014", f"unknown dataset '{src}'", st.value.source.span,
                                     did_you_mean(src, ("bundled", "mp")) or "bundled or mp")
                        else:
                            kw["candidates_from"] = src
                        continue
                    names = self.vr.names(st.value, "candidates", max_items=MAX_CANDIDATES)
                    if names is None:
                        continue
                    cands = []
                    for word, span in names:
                        got = self.r._material_ref(ast.Ident(span, word), self.path, "candidate")
                        if got is not None:
                            cands.append(got)
                    kw["candidates"] = tuple(dict.fromkeys(cands))
                else:
                    names = self.vr.names(st.value, "exclude")
                    if names is None:
                        continue
                    els = []
                    for word, span in names:
                        comp = self.r._formula(word, span, self.path)
                        if comp is not None and len(comp) == 1:
                            els.append(word)
                        elif comp is not None:
                            self.err("SSE013", f"exclude lists elements; '{word}' is a compound", span)
                    kw["exclude_elements"] = tuple(els)
            elif isinstance(st, ast.RequireWindow):
                rng = self.vr.range(st.covers, "potential", "window covers")
                if rng is not None:
                    reqs.append(m.Requirement(metric="window", op="covers", range_V=rng))
            elif isinstance(st, ast.Require):
                r = self.requirement(st)
                if r is not None:
                    reqs.append(r)
            elif isinstance(st, ast.Rank):
                if "rank" in kw:
                    self.err("SSE011", "rank by is given twice", st.span)
                    continue
                metric = self.metric(st.metric, allow_window=False)
                if metric is not None:
                    name, with_ = metric
                    default = "ascending" if name in ("e_hull", "barrier") else "descending"
                    kw["rank"] = m.Ranking(metric=name, with_role=with_, order=st.order or default)
        if "candidates" not in kw and "candidates_from" not in kw:
            self.err("SSE012", "screen needs candidates", req.role.span,
                     "candidates = [LiNbO3, Li3PO4] or candidates = all from bundled")
            return []
        return [m.ScreenRequest(role="coating", requirements=tuple(reqs), **kw)]

    METRICS = {"e_hull": "energy_per_atom", "reactivity": "energy_per_atom", "band_gap": "energy", "barrier": "energy"}

    def metric(self, mt: ast.Metric, allow_window: bool) -> tuple[str, str | None] | None:
        name = mt.name.name
        allowed = tuple(self.METRICS) + (("window",) if allow_window else ())
        if name not in allowed:
            self.err("SSE070", f"unknown screening metric '{name}'", mt.name.span,
                     did_you_mean(name, allowed) or f"metrics: {', '.join(allowed)}")
            return None
        with_ = None
        if name == "reactivity":
            if mt.with_ is None:
                self.err("SSE070", "reactivity needs a partner: reactivity with cathode (or electrolyte)", mt.span)
                return None
            with_ = mt.with_.name
            if with_ not in ("cathode", "electrolyte"):
                self.err("SSE020", f"'{with_}' is not a neighbour of the coating", mt.with_.span,
                         did_you_mean(with_, ("cathode", "electrolyte")) or "a cathode coating touches the cathode and the electrolyte")
                return None
        elif mt.with_ is not None:
            self.err("SSE070", f"'{name}' takes no 'with'", mt.with_.span)
            return None
        return name, with_

    def requirement(self, st: ast.Require) -> m.Requirement | None:
        metric = self.metric(st.metric, allow_window=False)
        if metric is None:
            return None
        name, with_ = metric
        kind = self.METRICS[name]
        v = st.value
        if isinstance(v, ast.Number) and v.value == 0:
            x = 0.0  # zero needs no unit
        elif isinstance(v, ast.Quantity):
            from .units import UnitError, convert, KINDS

            try:
                x = convert(v.number.value, v.unit, kind)
            except UnitError as e:
                code = "SSE040" if "unknown unit" in str(e) else "SSE071"
                self.err(code, f"threshold for {name} must be {'an energy per atom' if kind == 'energy_per_atom' else 'an energy'}: {e}",
                         v.unit_span, f"e.g. {KINDS[kind].examples.split(',')[0]}")
                return None
        else:
            self.err("SSE071", f"threshold for {name} needs a unit", v.span,
                     "e.g. 25 meV/atom" if kind == "energy_per_atom" else "e.g. 0.3 eV")
            return None
        from .units import KINDS

        return m.Requirement(metric=name, with_role=with_, op=st.op, value=x, unit=KINDS[kind].label)

