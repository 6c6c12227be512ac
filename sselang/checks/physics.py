"""Physics and sanity checks on a resolved study.

These run after resolution, on typed values, and report at the spans the
resolver recorded.  Thresholds are those of common AIMD practice for Li
conductors (Mo, Ong, Ceder 2012; the seed's section 3.1).
"""

from __future__ import annotations

from ..model import study as m
from ..model.formula import formula_text, parse_formula, FormulaError
from .chemistry import charge_balance
from .diagnostics import Reporter

AIMD_T_RANGE_K = (500.0, 2000.0)  # below: too few hops in tens of ps; above: melting/decomposition
MAX_LI_TIMESTEP_FS = 2.0  # Li is light: larger steps lose energy conservation
MIN_ARRHENIUS_POINTS = 3
CELL_T_RANGE_K = (173.15, 473.15)  # -100 to 200 degC: where solid-state cells are operated or tested
MAX_POTENTIAL_V = 6.0


class _At:
    """Reports at the span the resolver recorded under a key (or a fallback key)."""

    def __init__(self, spans, rep: Reporter) -> None:
        self.spans, self.rep = spans, rep

    def _report(self, emit, code, msg, key, help, fallback):
        path, span = self.spans.get(key)
        if span is None and fallback is not None:
            path, span = self.spans.get(fallback)
        emit(code, msg, span, help, path=path)

    def error(self, code, msg, key, help=None, fallback=None):
        self._report(self.rep.error, code, msg, key, help, fallback)

    def warning(self, code, msg, key, help=None, fallback=None):
        self._report(self.rep.warning, code, msg, key, help, fallback)


def check_materials(materials, spans, rep: Reporter) -> None:
    """The checks that need only the materials (run even when the rest of
    the study has errors, so a user sees them in the same run)."""
    at = _At(spans, rep)
    for mat in materials:
        _charge(mat, at)
        _edits(mat, at)


# (engine, setting) -> (low, high, canonical unit label, why a value outside is unusual)
USUAL_ENGINE_VALUES = {
    ("vasp", "encut"): (250.0, 900.0, "eV", "below the PAW potentials' ENMAX the basis is incomplete; "
                                              "above 900 eV nothing changes but the cost"),
    ("vasp", "kspacing"): (0.1, 0.5, "1/Å", "coarser than 0.5 1/Å misses metallic and small-cell energies"),
    ("qe", "ecutwfc"): (25 * 13.605693122994, 150 * 13.605693122994, "eV", "outside 25-150 Ry"),
    ("cp2k", "cutoff"): (250 * 13.605693122994, 1500 * 13.605693122994, "eV", "outside 250-1500 Ry"),
}


def _engines(study: m.Study, at: _At) -> None:
    """A user value always wins; an unusual one gets a warning, never a change."""
    for i, eng in enumerate(study.engines):
        for (name, key), (lo, hi, unit, why) in USUAL_ENGINE_VALUES.items():
            if eng.name != name or key not in eng.settings:
                continue
            v = eng.settings[key]
            if isinstance(v, (int, float)) and not lo <= v <= hi:
                at.warning("SSE058", f"{name} {key} = {v:g} {eng.settings.get(key + '_unit', unit)} is unusual: {why}",
                           ("engine", i, key), "the study's value is used as written")
        if eng.name == "qe":
            _qe_pseudopotentials(eng, i, at)


def _qe_pseudopotentials(eng: m.Engine, i: int, at: _At) -> None:
    """Own pseudopotential files (`pseudo_files`) come without a family's
    recommended cutoffs, and both settings end up in the deck's text: report
    here what pw.x would otherwise only find out at run time."""
    from ..decks.qe import PLACEHOLDER, pseudo_file_names

    st = eng.settings
    if "pseudo_dir" in st and (not isinstance(st["pseudo_dir"], str) or any(c in st["pseudo_dir"] for c in "'\n\r")):
        at.error("SSE013", "pseudo_dir must be a folder path in double quotes, without single quotes",
                 ("engine", i, "pseudo_dir"), 'e.g. pseudo_dir = "/opt/pseudo"')
    if "pseudo_files" not in st:
        return
    try:
        pseudo_file_names(st["pseudo_files"], ())
    except ValueError as e:
        at.error("SSE013", str(e), ("engine", i, "pseudo_files"),
                 f"{PLACEHOLDER} is replaced by each element's symbol (Li, S, ...)")
    if "pseudos" in st:
        at.error("SSE011", "the pseudopotentials are given twice: by pseudos (a family) and by pseudo_files",
                 ("engine", i, "pseudo_files"), "keep one of them")
    if "ecutwfc" not in st:
        at.error("SSE012", "qe with pseudo_files needs ecutwfc: only a family's table recommends cutoffs",
                 ("engine", i, "pseudo_files"), "add the cutoff your files were made for, e.g. ecutwfc = 30 Ry")


def check_study(study: m.Study, spans, rep: Reporter) -> None:
    check_materials(study.materials, spans, rep)
    at = _At(spans, rep)
    _engines(study, at)
    for cell in study.cells:
        _cell(cell, at)
    for ai, analysis in enumerate(study.analyses):
        for ri, req in enumerate(analysis.requests):
            key = ("request", ai, ri)
            if isinstance(req, (m.DiffusionRequest, m.BarrierRequest)):
                _mobile_species(req, study.material(req.material), key, at)
            if isinstance(req, m.DiffusionRequest):
                _diffusion(req, key, at)
            elif isinstance(req, m.ReactivityRequest) and req.potential_V is not None:
                if not 0 <= req.potential_V <= MAX_POTENTIAL_V:
                    at.error("SSE043", f"open-Li potential {req.potential_V:g} V is outside 0-{MAX_POTENTIAL_V:g} V vs Li/Li+",
                             key + ("potential",), fallback=key)
            elif isinstance(req, (m.WindowRequest, m.ProfileRequest)):
                mat = study.material(req.material)
                if "Li" not in mat.composition:
                    at.warning("SSE059", f"{req.kind} of {mat.name}: it holds no Li, so a Li-potential window is not defined",
                               key + ("target",), "windows vs Li/Li+ are computed for Li-containing phases", fallback=key)


def _confusable(mat: m.Material, at: _At) -> None:
    """'Li6PS5CI' (capital i) is carbon + iodine and may even balance with
    unusual states; say so when the look-alike reading is the usual phase."""
    for wrong, right, why in _CONFUSABLES:
        if wrong not in mat.formula:
            continue
        fixed = mat.formula.replace(wrong, right)
        try:
            if not charge_balance(parse_formula(fixed)).balanced:
                continue
        except FormulaError:
            continue
        at.warning("SSE034", f"'{mat.formula}' contains '{wrong}', which reads as {why or wrong}",
                   ("material", mat.name, "formula"), f"did you mean '{fixed}'?", fallback=("material", mat.name))
        return


def _charge(mat: m.Material, at: _At) -> None:
    _confusable(mat, at)
    if mat.mixed_valence:
        return
    b = charge_balance(mat.composition)
    if b.balanced:
        return
    states = ", ".join(f"{el}{s:+g}" for el, s in sorted(b.states.items())) if b.states else ""
    at.error("SSE032", f"{mat.formula} is not charge balanced: with {states} it carries {b.residual:+g} per formula unit",
             ("material", mat.name, "formula"),
             _charge_help(mat.formula), fallback=("material", mat.name))


# Look-alike typos that still parse as elements
_CONFUSABLES = (("CI", "Cl", "carbon + iodine (capital i), not chlorine"),)


def _charge_help(formula: str) -> str:
    return ("check the formula; if the composition is deliberately mixed valence or off-stoichiometric, "
            "add `mixed_valence = true` to the material")


def _edits(mat: m.Material, at: _At) -> None:
    src = mat.structure
    if not src.edits:
        return
    try:
        comp = dict(parse_formula(src.ref))
    except FormulaError:
        return  # a library entry named by label, not by formula: checked when the library is read
    for i, e in enumerate(src.edits):
        key = ("material", mat.name, "edit", i)
        if e.op in ("substitute", "remove"):
            have = comp.get(e.species, 0.0)
            if have <= 0:
                at.error("SSE033", f"{src.ref} has no {e.species} to {e.op}", key)
                return
            if e.amount > have + 1e-9:
                at.error("SSE033", f"cannot {e.op} {e.amount:g} {e.species}: {src.ref} has only {have:g} per formula unit", key)
                return
            comp[e.species] = have - e.amount
            if e.op == "substitute":
                comp[e.new_species] = comp.get(e.new_species, 0.0) + e.amount
        else:
            comp[e.species] = comp.get(e.species, 0.0) + e.amount
    comp = {k: round(v, 8) for k, v in comp.items() if abs(v) > 1e-9}
    want = {k: round(v, 8) for k, v in mat.composition.items()}
    if comp != want:
        at.error("SSE033", f"the edits turn {src.ref} into {formula_text(comp)}, but the formula says {mat.formula}",
                 ("material", mat.name, "structure"), "make the substitutions add up to the formula",
                 fallback=("material", mat.name))


def _cell(cell: m.Cell, at: _At) -> None:
    t = cell.conditions.temperature_K
    if t is not None and not CELL_T_RANGE_K[0] <= t <= CELL_T_RANGE_K[1]:
        at.warning("SSE057", f"cell temperature {t - 273.15:.4g} degC is outside the usual -100 to 200 degC of battery tests",
                   ("cell", cell.name, "conditions", "temperature"), "is the unit right (degC vs K)?")
    charged = cell.cathode.charged_to_V
    if charged is not None and not 0 < charged <= MAX_POTENTIAL_V:
        at.error("SSE043", f"charged_to = {charged:g} V is outside 0-{MAX_POTENTIAL_V:g} V vs Li/Li+",
                 ("cell", cell.name, "cathode", "charged_to"))


def _mobile_species(req, mat: m.Material, key: tuple, at: _At) -> None:
    sp = req.species
    if set(parse_formula(sp)) != {sp}:
        at.error("SSE035", f"the mobile species must be one element, not '{sp}'", key + ("species",), fallback=key)
    elif sp not in mat.composition:
        at.error("SSE035", f"{mat.formula} contains no {sp} to move", key + ("species",),
                 f"its elements: {', '.join(mat.composition)}", fallback=key)


def _diffusion(d: m.DiffusionRequest, key: tuple, at: _At) -> None:
    ts = d.temperatures_K
    for i, t in enumerate(ts):
        if t <= 0:
            at.error("SSE043", f"AIMD temperature {t:g} K is not above absolute zero", key + ("T", i), fallback=key)
        elif not AIMD_T_RANGE_K[0] <= t <= AIMD_T_RANGE_K[1]:
            at.warning("SSE054", f"AIMD at {t:g} K is outside {AIMD_T_RANGE_K[0]:g}-{AIMD_T_RANGE_K[1]:g} K",
                       key + ("T", i),
                       "below 500 K few Li hop in tens of ps; above 2000 K sulfides melt or decompose", fallback=key)
    if len(set(ts)) != len(ts):
        at.warning("SSE055", "the same temperature is listed twice", key + ("temperatures",), fallback=key)
    if len(set(ts)) < MIN_ARRHENIUS_POINTS:
        if d.extrapolate_K is not None:
            at.error("SSE051", f"extrapolating to {d.extrapolate_K:g} K needs an Arrhenius fit over at least "
                     f"{MIN_ARRHENIUS_POINTS} temperatures; {len(set(ts))} given", key + ("temperatures",),
                     "add temperatures, e.g. [600, 800, 1000, 1200] K", fallback=key)
        else:
            at.warning("SSE050", f"{len(set(ts))} temperature(s): D is computed at each, but no Arrhenius fit "
                       f"(it needs {MIN_ARRHENIUS_POINTS})", key + ("temperatures",), fallback=key)
    if d.duration_ps <= 0:
        at.error("SSE043", "duration must be positive", key + ("duration",), fallback=key)
    elif d.duration_ps <= d.equilibrate_ps:
        at.error("SSE052", f"duration {d.duration_ps:g} ps is not longer than the equilibration {d.equilibrate_ps:g} ps",
                 key + ("duration",), "duration is the whole run; equilibrate is the part discarded at its start",
                 fallback=key)
    if d.equilibrate_ps < 0:
        at.error("SSE043", "equilibrate must not be negative", key + ("equilibrate",), fallback=key)
    if d.timestep_fs <= 0:
        at.error("SSE043", "timestep must be positive", key + ("timestep",), fallback=key)
    else:
        if d.timestep_fs > MAX_LI_TIMESTEP_FS and d.species in ("Li", "H"):
            at.warning("SSE053", f"timestep {d.timestep_fs:g} fs is long for {d.species}: 1-2 fs keeps its motion resolved",
                       key + ("timestep",), fallback=key)
        if d.duration_ps * 1000 / d.timestep_fs > 1e8:
            at.error("SSE045", f"{d.duration_ps * 1000 / d.timestep_fs:.3g} MD steps is beyond any AIMD budget",
                     key + ("duration",), fallback=key)
    if d.supercell_min_length_A <= 0:
        at.error("SSE043", "supercell length must be positive", key + ("supercell",), fallback=key)
    elif d.supercell_min_length_A > 60:
        at.error("SSE045", f"a supercell at least {d.supercell_min_length_A:g} Å long holds far more atoms than AIMD can run",
                 key + ("supercell",), "10-15 Å is usual", fallback=key)
    if d.extrapolate_K is not None and d.extrapolate_K <= 0:
        at.error("SSE043", "extrapolate temperature must be above absolute zero", key + ("extrapolate",), fallback=key)
