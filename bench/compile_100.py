"""Wall time of `sselang compile` for a study of about 100 calculations.

    python bench/compile_100.py [--runs 3]

The study: 24 library phases analysed for their windows (a relaxation and a
static run each, VASP and QE: 96 decks) plus 4 AIMD temperatures of one
electrolyte (8 decks).  Acceptance: at most 5 s on this 2-core machine.
Reported: median wall time of the whole command (fresh process, lock absent)
and of a recompile (every calculation kept), peak memory.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PHASES = ["Li2S", "LiCl", "Li3P", "Li3PS4", "Li4P2S6", "LiCoO2", "LiNbO3", "LiTaO3", "Li3PO4", "Li2O", "LiBr",
          "LiI", "Li2SiO3", "LiMn2O4", "LiNiO2", "Li2MnO3", "LiCoPO4", "LiNiPO4", "LiMnPO4", "Li2TiO3", "CoS2",
          "Co9S8", "NiS2", "MnS"]


def study_text() -> str:
    lines = ['study "bench-100" { title = "about 100 calculations" }', ""]
    for p in PHASES:
        lines += [f"material M_{p} {{", f"  formula   = {p}", f'  structure = library("{p}")', "}", ""]
    lines += ["analyze M_Li3PS4 {", "  window " + ", ".join(f"M_{p}" for p in PHASES),
              "  diffusion {", "    temperatures = [600, 800, 1000, 1200] K", "    duration = 20 ps", "  }", "}", "",
              "engine vasp { preset = mp }", "", 'engine qe { pseudos = "SSSP-efficiency" }', ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        study = Path(tmp) / "bench.cell"
        study.write_text(study_text())
        first, again = [], []
        for i in range(args.runs):
            build = Path(tmp) / f"b{i}"
            cmd = [sys.executable, "-m", "sselang.cli", "compile", str(study), "--build-dir", str(build)]
            t0 = time.perf_counter()
            r = subprocess.run(cmd, capture_output=True, text=True)
            first.append(time.perf_counter() - t0)
            if r.returncode != 0:
                sys.exit(r.stderr)
            t0 = time.perf_counter()
            subprocess.run(cmd, capture_output=True, text=True, check=True)
            again.append(time.perf_counter() - t0)
        n = len(list((Path(tmp) / "b0" / "bench-100" / "calcs").iterdir()))
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"{n} calculations")
    print(f"compile (fresh build dir): median {statistics.median(first):.2f} s  (runs: {', '.join(f'{x:.2f}' for x in first)})")
    print(f"recompile (all kept):      median {statistics.median(again):.2f} s")
    print(f"peak RSS: {peak:.0f} MB")
    print(f"acceptance (<= 5 s): {'PASS' if statistics.median(first) <= 5 else 'FAIL'}")


if __name__ == "__main__":
    main()
