"""DFT fidelity: the engine binary run on the compiled deck inside its calculation folder.

    cp2k   cp2k.psmp -i cp2k.inp -o cp2k.out        (SSELANG_CP2K_COMMAND overrides cp2k.psmp)
    qe     pw.x -in pw.in > pw.out                  (SSELANG_QE_COMMAND overrides pw.x)
    vasp   vasp_std (reads INCAR, POSCAR, ...)      (SSELANG_VASP_COMMAND overrides vasp_std)

OMP_NUM_THREADS is 1 unless set for the run: the psmp/MPI builds are parallel over
ranks, and threads on top of several workers would oversubscribe the cores.

Decks are never edited in place (compile compares them to tell hand edits).  A
--steps or --duration override is written to a copy next to the deck
(cp2k.run.inp, pw.run.in) that the engine reads instead, and the state file
records it.  VASP reads its INCAR by name only, so it takes no override.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import time
from pathlib import Path

from .tasks import RunError, RunOptions

HARTREE_EV = 27.211386245988
RY_EV = 13.605693122994
DEFAULT_BINARY = {"cp2k": "cp2k.psmp", "qe": "pw.x", "vasp": "vasp_std"}
INSTALL_HINT = {"cp2k": "Debian: apt-get install cp2k cp2k-data", "qe": "Debian: apt-get install quantum-espresso",
                "vasp": "VASP is licensed software: load its module or give the command"}
LOG = ".sselang-run.log"  # the engine's stdout/stderr (hidden: not a file compile wrote)


def engine_command(engine: str, options: RunOptions) -> list[str]:
    text = options.engine_command or os.environ.get(f"SSELANG_{engine.upper()}_COMMAND") or DEFAULT_BINARY[engine]
    argv = shlex.split(text)
    if not argv or shutil.which(argv[0]) is None:
        raise RunError(f"{argv[0] if argv else '(empty command)'} was not found on PATH: install it "
                       f"({INSTALL_HINT[engine]}) or set SSELANG_{engine.upper()}_COMMAND")
    return argv


def override_steps(calc, options: RunOptions) -> int | None:
    """The step count that replaces the deck's: --steps, else --duration for MD."""
    if options.steps is not None:
        return int(options.steps)
    if options.duration_ps is not None and calc.kind == "md":
        return max(1, int(round(options.duration_ps * 1000 / float(calc.settings.get("timestep_fs", 2.0)))))
    return None


def _replace(text: str, pattern: str, value: int, what: str) -> str:
    new, n = re.subn(pattern, lambda m: f"{m.group(1)}{value}", text, flags=re.M)
    if n != 1:
        raise RunError(f"cannot apply the step override: {what} found {n} times in the deck")
    return new


def _deck_for_run(calc, calc_dir: Path, options: RunOptions) -> tuple[str | None, int | None]:
    """The input file name the engine reads (None: VASP's fixed names) and the override."""
    steps = override_steps(calc, options)
    if calc.engine == "vasp":
        if steps is not None:
            raise RunError("VASP reads its INCAR by name, which sselang never edits: --steps and --duration "
                           "apply to CP2K and Quantum ESPRESSO runs only")
        return None, None
    deck = {"cp2k": "cp2k.inp", "qe": "pw.in"}[calc.engine]
    if not (calc_dir / deck).is_file():
        raise RunError(f"{calc_dir / deck} is missing: run `sselang compile` again")
    if steps is None or calc.kind == "static":
        return deck, None
    text = (calc_dir / deck).read_text(encoding="utf-8")
    if calc.engine == "cp2k":
        key = r"^(\s*STEPS\s+)\d+" if calc.kind == "md" else r"^(\s*MAX_ITER\s+)\d+(?=\s*$)"
        if calc.kind != "md":
            # MAX_ITER also bounds the SCF loop: the one to change is in &GEO_OPT
            head, sep, tail = text.partition("&GEO_OPT")
            if not sep:
                raise RunError("cannot apply the step override: no &GEO_OPT section in the deck")
            body, end, rest = tail.partition("&END GEO_OPT")
            text = head + sep + _replace(body, key, steps, "GEO_OPT MAX_ITER") + end + rest
        else:
            text = _replace(text, key, steps, "MD STEPS")
        run_deck = "cp2k.run.inp"
    else:
        text = _replace(text, r"^(\s*nstep\s*=\s*)\d+", steps, "nstep")
        run_deck = "pw.run.in"
    from ..util.atomic import write_text_atomic

    write_text_atomic(calc_dir / run_deck, text)
    return run_deck, steps


def run_calculation(calc, calc_dir: Path, options: RunOptions) -> dict:
    from . import state

    calc_dir = Path(calc_dir)
    argv = engine_command(calc.engine, options)
    deck, steps = _deck_for_run(calc, calc_dir, options)
    state.write_state(calc_dir, input=deck or "INCAR", steps_override=steps, command=shlex.join(argv))
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    start = time.monotonic()
    with open(calc_dir / LOG, "wb") as log:
        if calc.engine == "cp2k":
            proc = subprocess.run([*argv, "-i", deck, "-o", "cp2k.out"], cwd=calc_dir, env=env, stdout=log,
                                  stderr=subprocess.STDOUT)
        elif calc.engine == "qe":
            with open(calc_dir / "pw.out", "wb") as out:
                proc = subprocess.run([*argv, "-in", deck], cwd=calc_dir, env=env, stdout=out, stderr=log)
        else:
            proc = subprocess.run(argv, cwd=calc_dir, env=env, stdout=log, stderr=subprocess.STDOUT)
    seconds = round(time.monotonic() - start, 2)
    summary = {"engine": calc.engine, "kind": calc.kind, "seconds": seconds, "steps_override": steps,
               **_read_summary(calc, calc_dir)}
    if proc.returncode != 0 or not summary.pop("finished"):
        tail = (calc_dir / LOG).read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:]
        raise RunError(f"{argv[0]} stopped (exit code {proc.returncode}) without finishing"
                       + (": " + " | ".join(tail) if tail else "") + f"; see {calc_dir}")
    return summary


def _read_summary(calc, calc_dir: Path) -> dict:
    def text(name: str) -> str:
        p = calc_dir / name
        return p.read_text(encoding="utf-8", errors="replace") if p.is_file() else ""

    if calc.engine == "cp2k":
        out = text("cp2k.out")
        e = [float(x) * HARTREE_EV for x in
             re.findall(r"^ ENERGY\| Total FORCE_EVAL \( QS \) energy \[a\.u\.\]:\s+(-?\d+\.\d+)", out, re.M)]
        xyz = sorted(calc_dir.glob("*-pos-1.xyz"))
        frames = len(re.findall(r"^\s*i\s*=", xyz[0].read_text(errors="replace"), re.M)) if xyz else 0
        return {"finished": "PROGRAM ENDED" in out, "energies_eV": e, "frames": frames,
                "trajectory": xyz[0].name if xyz else None}
    if calc.engine == "qe":
        out = text("pw.out")
        e = [float(x) * RY_EV for x in re.findall(r"^!\s+total energy\s+=\s+(-?\d+\.\d+)\s+Ry", out, re.M)]
        return {"finished": "JOB DONE" in out, "energies_eV": e, "frames": len(e),
                "trajectory": "pw.out" if calc.kind == "md" else None}
    e = [float(x) for x in re.findall(r"\bF=\s*(-?[\d.]+E[+-]\d+)", text("OSZICAR"))]
    return {"finished": "General timing" in text("OUTCAR"), "energies_eV": e, "frames": len(e),
            "trajectory": "XDATCAR" if calc.kind == "md" else None}
