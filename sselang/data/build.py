"""Build the bundled reference dataset: `python -m sselang.data.build`.

Every library phase is ordered (if partially occupied), relaxed with the
universal ML potential CHGNet (model 0.3.0, whose weights ship in the chgnet
wheel) and its energy predicted.  CHGNet was trained on Materials Project
energies *with* the MP2020 corrections applied, so its energies are already on
the MP2020 scale: they are stored as they come and never corrected again.

The scale is checked against real data: pymatgen ships 423 Materials Project
entries of elements and binaries (analysis/compatibility/calc_compounds.json.gz);
with the MP2020 corrections applied, their formation energies are compared with
the dataset's for every formula both contain, and the mean absolute error is
written into the dataset's metadata.

Only this build needs torch and chgnet; sselang reads the result without them.
Results are cached per phase (keyed by the phase's record and the model), so a
rebuild after adding phases relaxes only the new ones.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
import time
from pathlib import Path

from .library import Phase, build, phases

OUT = Path(__file__).with_name("bundled") / "entries.json.gz"
CACHE = Path(".cache") / "sselang-dataset"
FMAX = 0.1  # eV/Å: energies converge to ~1 meV/atom well before forces do
STEPS = 500
VOLUME_FLAG = 0.05  # |dV/V| above which a phase is flagged
BUILD_VERSION = 3  # part of every cache key: bump when ordering or relaxation code changes


def phase_key(p: Phase, model_version: str) -> str:
    blob = json.dumps([repr(p), model_version, FMAX, STEPS, BUILD_VERSION], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def oxidation_states(formula_comp: dict[str, float]) -> dict[str, float]:
    from ..checks.chemistry import charge_balance

    b = charge_balance(formula_comp)
    if b.states is None:  # an alloy or element: no formal charges, order by geometry alone
        return {el: 0.0 for el in formula_comp}
    return {k: float(v) for k, v in b.states.items()}


def ordered_cell(p: Phase):
    """The DFT/ML cell of a phase: the structure itself, or its lowest-Ewald ordering."""
    from ..model.formula import parse_formula
    from .ordering import order

    s = build(p)
    if s.is_ordered:
        return s.get_sorted_structure(), None
    opts = p.ordering or {}
    ox = oxidation_states(parse_formula(p.formula))
    o = order(s, ox, seed=int(opts.get("seed", 0)), keep=1, max_atoms=int(opts.get("max_atoms", 200)),
              target=parse_formula(p.formula), cell=str(opts.get("cell", "primitive")))[0]
    return o.structure, {"method": o.method, "supercell": list(o.supercell), "seed": o.seed,
                         "arrangements": o.arrangements, "ewald_energy_eV": o.ewald_energy_eV}


def _structure_doc(s) -> dict:
    return {
        "lattice": [[round(x, 6) for x in row] for row in s.lattice.matrix.tolist()],
        "species": [site.specie.symbol for site in s],
        "frac_coords": [[round(x % 1.0, 6) for x in site.frac_coords] for site in s],
    }


def relax_phase(p: Phase, model) -> dict:
    from chgnet.model import StructOptimizer

    s, ordering = ordered_cell(p)
    # the primitive cell has the same energy per atom at a fraction of the cost
    prim = s.get_primitive_structure(tolerance=0.01)
    if len(prim) < len(s):
        s = prim.get_sorted_structure()
    t0 = time.perf_counter()
    res = StructOptimizer(model=model).relax(s, fmax=FMAX, steps=STEPS, verbose=False)
    final = res["final_structure"]
    traj = res["trajectory"]
    e_atom = float(traj.energies[-1]) / len(final)
    dv = final.volume / s.volume - 1
    return {
        "name": p.name,
        "formula": final.composition.reduced_formula,
        "composition": {el.symbol: float(n) for el, n in final.composition.items()},
        "natoms": len(final),
        "energy_eV": round(e_atom * len(final), 6),
        "energy_per_atom_eV": round(e_atom, 6),
        "volume_change": round(dv, 5),
        "flagged": abs(dv) > VOLUME_FLAG,
        "relax_steps": len(traj.energies),
        "relax_seconds": round(time.perf_counter() - t0, 1),
        "ordering": ordering,
        "reference": p.reference,
        "table": p.source_file,
        "note": p.note,
        "structure": _structure_doc(final),
    }


def mp_binaries_mae(records: list[dict]) -> dict:
    """MAE of formation energies: dataset vs pymatgen's MP entries with MP2020."""
    import importlib.util
    import warnings

    from pymatgen.core import Composition
    from pymatgen.entries.compatibility import MaterialsProject2020Compatibility
    from pymatgen.entries.computed_entries import ComputedEntry

    spec = importlib.util.find_spec("pymatgen")
    path = Path(next(iter(spec.submodule_search_locations))) / "analysis" / "compatibility" / "calc_compounds.json.gz"
    raw = json.loads(gzip.open(path).read())
    entries = [ComputedEntry.from_dict(d) for d in raw.values()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mp = MaterialsProject2020Compatibility(check_potcar=False).process_entries(entries, clean=True)

    def formation(energy_per_atom: dict[str, float], refs: dict[str, float]) -> dict[str, float]:
        out = {}
        for f, e in energy_per_atom.items():
            comp = Composition(f)
            if len(comp) < 2 or any(el.symbol not in refs for el in comp):
                continue
            out[f] = e - sum(comp.get_atomic_fraction(el) * refs[el.symbol] for el in comp)
        return out

    def lowest(pairs):
        best: dict[str, float] = {}
        for f, e in pairs:
            if f not in best or e < best[f]:
                best[f] = e
        return best

    mp_e = lowest((e.composition.reduced_formula, e.energy_per_atom) for e in mp)
    ours_e = lowest((r["formula"], r["energy_per_atom_eV"]) for r in records)
    mp_refs = {f: e for f, e in mp_e.items() if len(Composition(f)) == 1}
    our_refs = {Composition(f).elements[0].symbol: e for f, e in ours_e.items() if len(Composition(f)) == 1}
    mp_refs = {Composition(f).elements[0].symbol: e for f, e in mp_refs.items()}
    mp_f, our_f = formation(mp_e, mp_refs), formation(ours_e, our_refs)
    common = sorted(set(mp_f) & set(our_f))
    rows = [{"formula": f, "mp2020_eV_atom": round(mp_f[f], 4), "dataset_eV_atom": round(our_f[f], 4),
             "error_eV_atom": round(our_f[f] - mp_f[f], 4)} for f in common]
    mae = sum(abs(r["error_eV_atom"]) for r in rows) / len(rows) if rows else None
    return {"compared": len(rows), "mae_eV_atom": None if mae is None else round(mae, 4), "rows": rows,
            "reference": "pymatgen analysis/compatibility/calc_compounds.json.gz (Materials Project GGA/GGA+U) "
                         "with MaterialsProject2020Compatibility; formation energies from each set's own elements"}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", nargs="*", help="phases to (re)build; others are taken from the cache")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--cache", type=Path, default=CACHE)
    args = ap.parse_args(argv)
    try:
        import chgnet
        import torch
        from chgnet.model import CHGNet
    except ImportError:
        print("the dataset build needs chgnet: pip install torch==2.13.0 chgnet", file=sys.stderr)
        return 2
    model = CHGNet.load(verbose=False)
    model_version = str(model.version)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    args.cache.mkdir(parents=True, exist_ok=True)
    table = phases()
    records, t_start = [], time.perf_counter()
    for name in sorted(table):
        p = table[name]
        key = phase_key(p, model_version)
        cached = args.cache / f"{name.replace('/', '_')}-{key}.json"
        if cached.exists() and not (args.only and name in args.only):
            records.append(json.loads(cached.read_text()))
            continue
        if args.only and name not in args.only:
            continue
        try:
            rec = relax_phase(p, model)
        except Exception as e:  # noqa: BLE001 - one bad phase must not stop the dataset
            print(f"{name}: FAILED: {e}", file=sys.stderr)
            continue
        cached.write_text(json.dumps(rec, sort_keys=True))
        records.append(rec)
        flag = "  FLAGGED" if rec["flagged"] else ""
        print(f"{name:26s} {rec['natoms']:4d} atoms  {rec['energy_per_atom_eV']:9.4f} eV/atom  "
              f"dV {100 * rec['volume_change']:+5.1f} %  {rec['relax_seconds']:6.1f} s{flag}", flush=True)
    records.sort(key=lambda r: r["name"])
    meta = {
        "model": f"CHGNet {model_version}",
        "packages": {"chgnet": chgnet.__version__, "torch": torch.__version__.split("+")[0]},
        "scheme": "MP2020-compatible",
        "scheme_note": "CHGNet was trained on Materials Project energies with MP2020 corrections applied; "
                       "its predictions are on that scale and are stored without further correction",
        "relaxation": {"fmax_eV_per_A": FMAX, "max_steps": STEPS, "cell": "FrechetCellFilter"},
        "volume_flag": VOLUME_FLAG,
        "phases": len(records),
        "flagged": sorted(r["name"] for r in records if r["flagged"]),
        "validation": mp_binaries_mae(records),
    }
    doc = {"metadata": meta, "entries": records}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(doc, sort_keys=True, indent=1).encode()
    with open(args.out, "wb") as fh:  # mtime=0: the same dataset gives the same bytes
        with gzip.GzipFile(fileobj=fh, mode="wb", mtime=0, filename="") as gz:
            gz.write(data)
    v = meta["validation"]
    print(f"\n{len(records)} phases, {len(meta['flagged'])} flagged; MAE vs MP2020 binaries: "
          f"{v['mae_eV_atom']} eV/atom over {v['compared']} compounds; {time.perf_counter() - t_start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
