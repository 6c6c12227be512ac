"""The resolved study: immutable pydantic models that every later stage reads.

Quantities are plain floats in one canonical unit per kind, named in the field
(`temperature_K`, `potential_V`, ...), so no stage ever converts units again.
`sselang schema` exports the JSON Schema of `Study`.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Origin(Frozen):
    """Where a definition was written: file and line."""

    file: str
    line: int


# ---- materials ---------------------------------------------------------------
class StructureEdit(Frozen):
    op: Literal["substitute", "add", "remove"]
    species: str
    new_species: str | None = None
    amount: float = Field(description="per formula unit of the parent structure")


class StructureSource(Frozen):
    kind: Literal["library", "file", "mp", "formula"] = Field(
        description="library: bundled structure by name; file: CIF/POSCAR path; "
        "mp: Materials Project id; formula: to be found by formula in the thermo data")
    ref: str
    edits: tuple[StructureEdit, ...] = ()


class Ordering(Frozen):
    """How a partially occupied structure becomes an ordered DFT cell."""

    method: Literal["ewald", "random"] = "ewald"
    seed: int = 0
    keep: int = Field(1, description="number of lowest-energy orderings kept")
    max_atoms: int | None = None


class Material(Frozen):
    name: str
    formula: str
    composition: dict[str, float] = Field(description="atoms per formula unit")
    structure: StructureSource
    order: Ordering | None = None
    mixed_valence: bool = False
    oxidation_states: dict[str, float] | None = None
    inline: bool = Field(False, description="defined by its formula where it is used, not by a material block")
    origin: Origin


# ---- cells -------------------------------------------------------------------
class Component(Frozen):
    role: Literal["cathode", "coating", "electrolyte", "anode"]
    material: str = Field(description="name of a Material of the study")
    loading: float | None = Field(None, description="mass fraction of active material, 0-1")
    charged_to_V: float | None = Field(None, description="upper charge potential vs Li/Li+")
    thickness_nm: float | None = None


class Conditions(Frozen):
    temperature_K: float | None = None
    pressure_MPa: float | None = None
    c_rate: float | None = Field(None, description="in C (1 C = full charge in 1 h)")
    current_density_mA_cm2: float | None = None
    cutoff_V: tuple[float, float] | None = Field(None, description="voltage window of cycling, as written (vs the anode)")


class Observed(Frozen):
    """An experimental record kept with the study (as in the seed's Table 1)."""

    initial_capacity_mAh_g: float | None = None
    retention: float | None = Field(None, description="capacity retention, 0-1")
    retention_after_cycles: int | None = None
    conductivity_mS_cm: float | None = None
    cycles: int | None = None
    reference: str | None = None


class Cell(Frozen):
    name: str
    cathode: Component
    coatings: tuple[Component, ...] = ()
    electrolyte: Component
    anode: Component
    conditions: Conditions = Conditions()
    observed: Observed | None = None
    origin: Origin


# ---- analyses ----------------------------------------------------------------
class WindowRequest(Frozen):
    kind: Literal["window"] = "window"
    material: str


class ProfileRequest(Frozen):
    kind: Literal["profile"] = "profile"
    material: str


class ReactivityRequest(Frozen):
    kind: Literal["reactivity"] = "reactivity"
    a: str
    b: str
    open_element: str | None = None
    potential_V: float | None = Field(None, description="potential vs Li/Li+ of the open element's reservoir")
    label: str = Field(description="as written, e.g. 'cathode | electrolyte'")


class DiffusionRequest(Frozen):
    kind: Literal["diffusion"] = "diffusion"
    material: str
    species: str = "Li"
    temperatures_K: tuple[float, ...]
    duration_ps: float
    equilibrate_ps: float = 0.0
    timestep_fs: float = 2.0
    supercell_min_length_A: float = 10.0
    directions: tuple[str, ...] = ()
    extrapolate_K: float | None = None
    ensemble: Literal["nvt", "npt"] = "nvt"


class BarrierRequest(Frozen):
    kind: Literal["barrier"] = "barrier"
    material: str
    species: str = "Li"
    direction: str | None = None
    images: int = 5
    climb: bool = True


class InterfaceRequest(Frozen):
    kind: Literal["interface"] = "interface"
    a: str
    b: str
    max_area_A2: float = 400.0
    max_strain: float = 0.05
    thickness_A: float = 12.0
    vacuum_A: float = 0.0


class Requirement(Frozen):
    metric: Literal["e_hull", "window", "reactivity", "band_gap", "barrier"]
    with_role: str | None = None
    op: Literal["<=", ">=", "<", ">", "==", "covers"]
    value: float | None = None
    unit: str | None = Field(None, description="canonical unit of value")
    range_V: tuple[float, float] | None = None


class Ranking(Frozen):
    metric: Literal["e_hull", "reactivity", "band_gap", "barrier"]
    with_role: str | None = None
    order: Literal["ascending", "descending"] = "descending"


class ScreenRequest(Frozen):
    kind: Literal["screen"] = "screen"
    role: Literal["coating"]
    candidates: tuple[str, ...] = Field((), description="material names (inline materials are created for formulas)")
    candidates_from: str | None = Field(None, description="dataset when candidates = all from <dataset>")
    exclude_elements: tuple[str, ...] = ()
    requirements: tuple[Requirement, ...] = ()
    rank: Ranking | None = None


Request = Annotated[
    Union[WindowRequest, ProfileRequest, ReactivityRequest, DiffusionRequest, BarrierRequest, InterfaceRequest,
          ScreenRequest],
    Field(discriminator="kind"),
]


class Analysis(Frozen):
    target: str = Field(description="the cell or material analysed")
    target_kind: Literal["cell", "material"]
    requests: tuple[Request, ...]


# ---- engines, data, run -------------------------------------------------------
class Engine(Frozen):
    name: Literal["vasp", "qe", "cp2k"]
    settings: dict[str, Union[str, float, bool]] = Field(
        default_factory=dict, description="engine settings as written, quantities in canonical units")
    applies_to: tuple[str, ...] = Field((), description="calculation kinds this block is for; empty = all")


class ThermoSource(Frozen):
    """One source of energies for the convex hulls."""

    kind: Literal["bundled", "mp", "entries", "results", "chgnet"] = Field(
        description="bundled: the reference dataset shipped with sselang (CHGNet, MP2020 scale); "
        "mp: Materials Project via mp-api; entries: a ComputedEntry JSON file; "
        "results: the user's finished calculations; chgnet: ML-potential energies for every phase")
    path: str | None = Field(None, description="file or folder for entries/results, relative to the study")


class DataConfig(Frozen):
    thermo: tuple[ThermoSource, ...] = (ThermoSource(kind="bundled"),)
    structures: Literal["bundled", "mp"] = "bundled"


class Executor(Frozen):
    kind: Literal["local", "slurm"] = "local"
    workers: int = 1
    partition: str | None = None
    account: str | None = None
    walltime_h: float | None = None
    nodes: int | None = None


class RunConfig(Frozen):
    preview: Literal["chgnet", "none"] = "chgnet"
    executor: Executor = Executor()


class Study(Frozen):
    id: str
    title: str | None = None
    authors: tuple[str, ...] = ()
    reference: str | None = None
    description: str | None = None
    source: str = Field(description="path of the study file")
    imports: tuple[str, ...] = ()
    materials: tuple[Material, ...] = ()
    cells: tuple[Cell, ...] = ()
    analyses: tuple[Analysis, ...] = ()
    engines: tuple[Engine, ...] = ()
    data: DataConfig = DataConfig()
    run: RunConfig = RunConfig()
    sselang_version: str

    def material(self, name: str) -> Material:
        for m in self.materials:
            if m.name == name:
                return m
        raise KeyError(name)

    def cell(self, name: str) -> Cell:
        for c in self.cells:
            if c.name == name:
                return c
        raise KeyError(name)
