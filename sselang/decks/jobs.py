"""SLURM job scripts: one per calculation, one job array per series (the AIMD
temperatures of one material)."""

from __future__ import annotations

import re

from . import environment

COMMANDS = {"vasp": "srun vasp_std", "cp2k": "srun cp2k.psmp -i cp2k.inp -o cp2k.out", "qe": "srun pw.x -in pw.in > pw.out"}
DEFAULT_WALLTIME_H = 24.0
_JOB = re.compile(r"[^A-Za-z0-9._-]")


def _walltime(hours: float) -> str:
    minutes = int(round(hours * 60))
    return f"{minutes // 60:02d}:{minutes % 60:02d}:00"


def _resources(executor) -> dict:
    slurm = executor is not None and executor.kind == "slurm"
    return {
        "nodes": (executor.nodes if slurm and executor.nodes else 1),
        "nodes_set": bool(slurm and executor.nodes),
        "walltime": _walltime(executor.walltime_h if slurm and executor.walltime_h else DEFAULT_WALLTIME_H),
        "walltime_set": bool(slurm and executor.walltime_h),
        "partition": executor.partition if slurm else None,
        "account": executor.account if slurm else None,
    }


def job_script(calc, executor, version: str) -> str:
    return environment().get_template("slurm/job.sh.j2").render(
        calc_id=calc.id, why=calc.why, version=version, job_name=_JOB.sub("_", calc.id)[:64],
        command=COMMANDS[calc.engine], **_resources(executor))


def array_script(series: str, calcs: list, executor, version: str) -> str:
    return environment().get_template("slurm/array.sh.j2").render(
        series=series, count=len(calcs), version=version, job_name=_JOB.sub("_", series)[:64],
        dirs=[c.id for c in calcs], command=COMMANDS[calcs[0].engine], **_resources(executor))
