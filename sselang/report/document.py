"""The report as data: what report.json holds and the HTML and Markdown render.

Built from the resolved study, the plan and the typed analyses only (pure: no
file is read here except through the arguments).  Every number is a `Number`
that carries its fidelity (bundled preview, ML-potential preview, DFT, Materials
Project ...), its source and the warnings that concern it, so a number can
never reach the reader without where it came from.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

REPORT_VERSION = 1


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Number(Model):
    label: str = Field(description="what the number is, e.g. 'oxidation edge of Li6PS5Cl'")
    value: float | None
    err: float | None = Field(None, description="one standard error, same unit")
    unit: str
    text: str = Field(description="as printed in the report")
    fidelity: str = Field(description="bundled preview / ML-potential preview / DFT / Materials Project / ...")
    source: str = Field(description="dataset, calculation folder or file the number comes from")
    warnings: list[str] = Field(default_factory=list)


class Verdict(Model):
    level: Literal["ok", "warn", "bad", "info"]
    text: str
    numbers: list[Number] = Field(default_factory=list)


class Table(Model):
    caption: str = ""
    columns: list[str]
    rows: list[list[str]]


class Figure(Model):
    id: str = Field(description="file name stem under report/figures/ (<id>.svg)")
    caption: str


class Section(Model):
    kind: Literal["window", "profile", "reactivity", "diffusion", "screen", "barrier", "skipped"]
    title: str
    summary: str
    numbers: list[Number] = Field(default_factory=list)
    tables: list[Table] = Field(default_factory=list)
    figures: list[Figure] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    fidelity: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    convention: str = ""


class Layer(Model):
    role: str
    material: str
    formula: str
    details: str = ""


class Observation(Model):
    quantity: str
    observed: str
    computed: Number | None = None
    reference: str | None = None
    note: str = ""


class CellGlance(Model):
    name: str
    layers: list[Layer]
    conditions: list[tuple[str, str]] = Field(default_factory=list, description="(quantity, value) as read")
    operating_range_V_vs_Li: tuple[float, float] | None = Field(
        None, description="the cycling cutoffs converted to V vs Li/Li+ with the anode's potential")
    anode_potential_note: str = ""
    observed: list[Observation] = Field(default_factory=list)


class CalculationState(Model):
    id: str
    kind: str
    engine: str
    material: str
    state: str = Field(description="not run / running / failed / preview done / DFT done / results present")


class Reproducibility(Model):
    versions: dict[str, str]
    command: str
    study_file: str
    study_sha256: str
    lock: str = Field(description="sha256 of the lock file used, or why there is none")
    data_sources: list[dict]
    models: list[str]
    calculations: list[CalculationState]


class Report(Model):
    report_version: int = REPORT_VERSION
    study: str
    title: str
    authors: list[str] = Field(default_factory=list)
    cells: list[CellGlance] = Field(default_factory=list)
    verdicts: list[Verdict] = Field(default_factory=list)
    sections: list[Section] = Field(default_factory=list)
    reproducibility: Reproducibility


def report_schema() -> dict:
    return Report.model_json_schema()
