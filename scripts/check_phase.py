"""Check library phases while typing them in.

    python scripts/check_phase.py                 # every phase
    python scripts/check_phase.py Li2S LiCoO2     # some
    python scripts/check_phase.py --chgnet Li2S   # also CHGNet's pressure on the experimental cell

A pressure of more than a few GPa on the published cell means the table is
probably wrong (CHGNet reproduces PBE volumes within a few per cent).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sselang.data.library import build, phases  # noqa: E402
from sselang.data.validate import problems  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("names", nargs="*")
    ap.add_argument("--chgnet", action="store_true")
    ap.add_argument("--relax", action="store_true", help="also relax with CHGNet and report the volume change")
    args = ap.parse_args()
    table = phases()
    names = args.names or sorted(table)
    model = None
    bad = 0
    for n in names:
        if n not in table:
            print(f"{n}: not in the library")
            bad += 1
            continue
        p = table[n]
        probs = problems(p)
        try:
            s = build(p)
        except Exception as e:  # noqa: BLE001 - already listed among the problems
            print(f"{n}: {probs or e}")
            bad += 1
            continue
        line = f"{n:28s} {s.composition.reduced_formula:18s} sg {p.spacegroup:3d} {len(s):4d} sites  "
        line += "ordered" if p.is_ordered else "partial"
        if args.chgnet and p.is_ordered and not probs:
            if model is None:
                from chgnet.model import CHGNet

                model = CHGNet.load(verbose=False)
            pred = model.predict_structure(s, task="efs")
            # CHGNet's stress: 3x3 in GPa, ASE sign (positive = the cell pulls inwards)
            pressure = -float(pred["s"].trace()) / 3
            line += f"  E {float(pred['e']):.3f} eV/atom  P {float(pressure):+.1f} GPa"
            if args.relax:
                from chgnet.model import StructOptimizer

                res = StructOptimizer(model=model).relax(s, fmax=0.1, steps=300, verbose=False)
                dv = res["final_structure"].volume / s.volume - 1
                line += f"  dV {100 * dv:+.1f} %" + ("  <-- over 5 %" if abs(dv) > 0.05 else "")
        print(line + ("" if not probs else "\n    " + "\n    ".join(probs)))
        bad += bool(probs)
    print(f"{len(names) - bad} ok, {bad} with problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
