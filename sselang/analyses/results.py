"""Typed results of the analyses: what analyses.json holds and the report renders.

Units are in the field names (V, eV, meV/atom). Every result names the
energies it used (record ids) and their sources, so a reader can trace each
number back to a dataset, an ML-potential run or a DFT calculation.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Result(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Phase(Result):
    formula: str
    amount: float = Field(description="formula units per formula unit of the starting phase (or mixture)")
    id: str = Field(description="record id of the energy used")


class Provenance(Result):
    system: str
    sources: list[str]
    fidelity: list[str] = Field(default_factory=list)
    schemes: list[str] = Field(default_factory=list, description="energy correction scheme of each source")
    entries_used: list[str] = Field(description="record ids of every energy the number depends on")


class Plateau(Result):
    """One step of the Li-uptake staircase: between Li contents x_from and x_to
    (Li per formula unit, relative to the pristine phase) the assemblage holds
    at one potential."""

    x_from: float
    x_to: float
    voltage_V: float = Field(description="vs Li/Li+: -(dE/dx - E(Li)) over the step (Eq. 4)")
    phases: list[Phase] = Field(description="the two-sided assemblage along the step, at its middle")


class Edge(Result):
    voltage_V: float
    products: list[Phase] = Field(description="phases just beyond the edge, per formula unit")
    li_per_fu: float = Field(description="Li taken up (+) or given off (-) per formula unit in the first step")


class WindowResult(Result):
    kind: Literal["window"] = "window"
    material: str
    formula: str
    status: Literal["stable", "metastable", "undefined"]
    message: str = ""
    e_above_hull_meV_atom: float
    reduction: Edge | None = None
    oxidation: Edge | None = None
    neutral_decomposition: list[Phase] = Field(default_factory=list,
                                               description="products at fixed Li content (metastable phases)")
    decomposition_energy_meV_atom: dict[str, float] = Field(
        default_factory=dict, description="grand-potential decomposition energy at '0 V' and '5 V', per atom of the phase")
    convention: str = ("reduction edge: the potential below which the phase takes up Li (upper end of the first "
                       "lithiation plateau); oxidation edge: the potential above which it gives Li off (lower end of "
                       "the first delithiation plateau); V vs Li/Li+ anchored to the Li metal entry of the same data")
    provenance: Provenance


class ProfileResult(Result):
    kind: Literal["profile"] = "profile"
    material: str
    formula: str
    e_above_hull_meV_atom: float
    plateaus: list[Plateau] = Field(description="from the most delithiated state to Li metal, i.e. voltage descending")
    convention: str = ("each plateau's voltage is -(E(x_to) - E(x_from) - (x_to - x_from) E(Li)) / (x_to - x_from), "
                       "E the hull energy per formula unit; x in Li per formula unit relative to the pristine phase")
    provenance: Provenance


class MixPoint(Result):
    x: float = Field(description="mixing ratio: atom fraction of A in x A + (1 - x) B (each normalised to one atom)")
    energy_meV_atom: float
    reaction: str


class ReactivityResult(Result):
    kind: Literal["reactivity"] = "reactivity"
    label: str
    a: str
    b: str
    open_element: str | None = None
    potential_V: float | None = None
    minimum_meV_atom: float
    x_at_minimum: float
    reaction_at_minimum: str
    products: list[str]
    curve: list[MixPoint] = Field(description="the kinks of the reaction-energy curve, x ascending")
    convention: str = ("reaction energy per atom of the mixture: E_hull(x A + (1-x) B) - [x E(A) + (1-x) E(B)], "
                       "A and B at the energy of their lowest polymorph in the data (a metastable reactant's instability counts); open to "
                       "Li: grand potential at the given potential, each reactant's own reaction with the reservoir "
                       "included at x = 0 and 1")
    provenance: Provenance


class Skipped(Result):
    kind: Literal["skipped"] = "skipped"
    request: str
    reason: str


class ScreenCandidate(Result):
    name: str
    formula: str
    status: Literal["survivor", "removed", "no data"]
    removed_by: str | None = Field(None, description="the filter that removed it, as written")
    failed_value: float | None = Field(None, description="the value that failed, in the filter's unit")
    metrics: dict[str, float] = Field(default_factory=dict,
                                      description="e_hull and reactivity in meV/atom, window edges in V")
    record_id: str | None = None
    notes: list[str] = Field(default_factory=list)


class FunnelStage(Result):
    stage: str
    remaining: int


class ScreenResult(Result):
    kind: Literal["screen"] = "screen"
    role: str
    cathode: str
    electrolyte: str
    funnel: list[FunnelStage]
    ranking: list[str] = Field(description="survivors, best first")
    rank_by: str | None = None
    candidates: list[ScreenCandidate]
    convention: str = ("filters applied cheapest first (e_hull, window, reactivity); reaction energies are the "
                       "minimum over the mixing ratio, closed, per atom (see reactivity); a window covers a range "
                       "when its reduction edge is at or below the range's low end and its oxidation edge at or "
                       "above its high end")
    provenance: Provenance


class DiffusionStudyResult(Result):
    kind: Literal["diffusion"] = "diffusion"
    material: str
    engine: str
    species: str
    runs: list[dict] = Field(description="one transport.fit.DiffusionResult per finished temperature")
    arrhenius: dict | None = Field(None, description="transport.fit.ArrheniusResult over the finished runs")
    fidelity: list[str] = Field(default_factory=list,
                                description="what produced the fitted runs: 'ML-potential preview (...)', "
                                            "'bundled preview (...)' or 'DFT (engine)'")
    source: str = Field("", description="where the trajectories are: the build's calcs/ or the bundled previews")
    waiting: list[str] = Field(default_factory=list, description="planned MD runs without a trajectory yet")
    errors: list[str] = Field(default_factory=list, description="runs whose output could not be read or fitted")
    warnings: list[str] = Field(default_factory=list, description="about the series as a whole (e.g. mixed data)")


class BarrierStudyResult(Result):
    kind: Literal["barrier"] = "barrier"
    material: str
    engine: str
    calculation: str = Field(description="the planned NEB's calculation id")
    result: dict | None = Field(None, description="transport.barrier.NebResult.to_dict() once the NEB has finished")
    fidelity: str = ""
    errors: list[str] = Field(default_factory=list)


class Analyses(Result):
    generator: dict[str, str]
    results: list[WindowResult | ProfileResult | ReactivityResult | ScreenResult | Skipped | DiffusionStudyResult
                  | BarrierStudyResult]
