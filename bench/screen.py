"""Coating screen at scale: sselang's screen against a naive loop that rebuilds
pymatgen's phase diagrams and InterfacialReactivity for every candidate.

Candidates: 300+ Li-M-O compounds generated from the bundled dataset's own
binary oxides and Li2O, (Li2O)_k (M_aO_b)_l with a formation-energy offset drawn
from a seeded generator, screened against the bundled NMC811 and Li3PS4 with
the coating_screen example's filters.  The energies are made up; the work is
the real work a screen does (every hull, window and interface reaction).

    python bench/screen.py [--candidates 300] [--naive-sample 30]

The naive loop is timed on a sample of candidates and scaled to the full set
(it takes minutes per hundred).
"""

from __future__ import annotations

import argparse
import random
import time


def dataset():
    from sselang.data.thermo import bundled_document

    recs = []
    for r in bundled_document()["entries"]:
        recs.append({"id": f"bundled:{r['name']}", "formula": r["formula"],
                     "composition": {k: float(v) for k, v in r["composition"].items()},
                     "energy_eV": float(r["energy_eV"])})
    return recs


def generate(recs, n, seed=0):
    from pymatgen.core import Composition

    rng = random.Random(seed)
    per_atom = {}
    for r in recs:
        c = Composition(r["composition"])
        f = c.reduced_formula
        e = r["energy_eV"] / c.num_atoms
        per_atom[f] = min(per_atom.get(f, e), e)
    oxides = sorted(f for f in per_atom if set(Composition(f).as_dict()) - {"O"} and "O" in Composition(f)
                    and len(Composition(f)) == 2 and "Li" not in Composition(f))
    out = []
    i = 0
    while len(out) < n:
        ox = oxides[i % len(oxides)]
        k, l = 1 + (i // len(oxides)) % 4, 1 + (i // (4 * len(oxides))) % 3
        i += 1
        c = Composition("Li2O") * k + Composition(ox) * l
        e = (per_atom["Li2O"] * 3 * k + per_atom[ox] * Composition(ox).num_atoms * l
             + rng.uniform(-0.08, 0.02) * c.num_atoms)
        out.append({"id": f"gen:{c.formula.replace(' ', '')}:{i}", "formula": c.reduced_formula,
                    "composition": {el.symbol: float(a) for el, a in c.items()}, "energy_eV": e})
    return out


def requirements(every_stage: bool):
    """The example's filters; with every_stage, thresholds no candidate fails, so every
    candidate goes through every analysis (the same work as the naive loop)."""
    from sselang.model.study import Requirement

    if every_stage:
        return [Requirement(metric="e_hull", op="<=", value=100.0, unit="eV/atom"),
                Requirement(metric="window", op="covers", range_V=(100.0, -100.0)),
                Requirement(metric="reactivity", with_role="cathode", op=">=", value=-100.0, unit="eV/atom"),
                Requirement(metric="reactivity", with_role="electrolyte", op=">=", value=-100.0, unit="eV/atom")]
    return [Requirement(metric="e_hull", op="<=", value=0.025, unit="eV/atom"),
            Requirement(metric="window", op="covers", range_V=(2.5, 4.3)),
            Requirement(metric="reactivity", with_role="cathode", op=">=", value=-0.1, unit="eV/atom"),
            Requirement(metric="reactivity", with_role="electrolyte", op=">=", value=-0.1, unit="eV/atom")]


def sselang_screen(recs, cands, sides, every_stage=False):
    from sselang.analyses.screen import Side, SubHulls, screen

    hulls = SubHulls(recs + cands)
    return screen([Side(c["id"], c["composition"], c) for c in cands], sides, requirements(every_stage), None, hulls)


def naive(recs, cands, sides):
    """What a script written against pymatgen does: per candidate, build each phase
    diagram it needs from all entries and run the same three analyses."""
    from pymatgen.analysis.interface_reactions import InterfacialReactivity
    from pymatgen.analysis.phase_diagram import PhaseDiagram
    from pymatgen.core import Composition, Element

    from sselang.analyses.hull import entry

    pool = [entry(r) for r in recs + cands]
    for c in cands:
        ce = entry(c)
        els = set(c["composition"]) | {"Li"}
        pd = PhaseDiagram([e for e in pool if {x.symbol for x in e.composition} <= els])
        pd.get_e_above_hull(ce, allow_negative=True)
        pd.get_element_profile(Element("Li"), ce.composition)
        for side in sides.values():
            els2 = set(c["composition"]) | set(side.composition)
            pd2 = PhaseDiagram([e for e in pool if {x.symbol for x in e.composition} <= els2])
            ir = InterfacialReactivity(Composition(ce.composition), Composition(side.composition), pd2, norm=True,
                                       use_hull_energy=False)
            min(k[2] for k in ir.get_kinks())


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--candidates", type=int, default=300)
    ap.add_argument("--naive-sample", type=int, default=20)
    a = ap.parse_args(argv)
    import warnings

    warnings.simplefilter("ignore")
    from sselang.analyses.screen import Side

    recs = dataset()
    cands = generate(recs, a.candidates)
    by = {r["id"]: r for r in recs}
    sides = {"cathode": Side("NMC811", by["bundled:NMC811"]["composition"], by["bundled:NMC811"]),
             "electrolyte": Side("Li3PS4", by["bundled:Li3PS4"]["composition"], by["bundled:Li3PS4"])}
    # both sides warm: the first imports of pymatgen's phase diagrams (about 1 s) are paid
    # before either clock starts
    sselang_screen(recs, cands[:3], sides, every_stage=True)
    naive(recs, cands[:1], sides)
    from sselang.analyses.screen import _workers

    def best_of(n, f):
        times = []
        for _ in range(n):
            t = time.perf_counter()
            out = f()
            times.append(time.perf_counter() - t)
        return min(times), out

    print(f"{_workers()} worker process(es) for the filters")
    t_filtered, (listed, funnel, ranking) = best_of(3, lambda: sselang_screen(recs, cands, sides))
    print(f"sselang, the example's filters: {len(cands)} candidates in {t_filtered:.2f} s (best of 3); funnel "
          + " -> ".join(str(f.remaining) for f in funnel) + f"; {len(ranking)} survivors")
    t_ours, _ = best_of(3, lambda: sselang_screen(recs, cands, sides, every_stage=True))
    print(f"sselang, every candidate through every stage: {t_ours:.2f} s (best of 3)")
    sample = cands[:: max(1, len(cands) // a.naive_sample)][: a.naive_sample]
    t_sample, _ = best_of(3, lambda: naive(recs, sample, sides))
    t_naive = t_sample / len(sample) * len(cands)
    print(f"naive pymatgen loop: {t_naive:.1f} s for {len(cands)} (timed on {len(sample)}, best of 3, scaled)")
    print(f"ratio naive / sselang, same work: {t_naive / t_ours:.1f}x; "
          f"naive / sselang with the funnel: {t_naive / t_filtered:.1f}x")
    import resource

    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"peak memory: {kib[0] / 1024:.0f} MiB this process, {kib[1] / 1024:.0f} MiB the largest worker")


if __name__ == "__main__":
    main()
