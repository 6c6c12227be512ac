"""A few lines per analysis for the terminal after `compile` (analyses.json holds the rest)."""

from __future__ import annotations


def _phases(ps) -> str:
    return " + ".join(p["formula"] for p in ps)


def lines(doc: dict) -> list[str]:
    out = []
    for r in doc.get("results", []):
        k = r["kind"]
        if k == "window":
            red, ox = r.get("reduction"), r.get("oxidation")
            if r["status"] == "undefined":
                out.append(f"window {r['material']}: no Li, no window; reduced below "
                           f"{red['voltage_V']:.2f} V to {_phases(red['products'])}" if red else
                           f"window {r['material']}: no Li, no window")
            elif r["status"] == "metastable":
                out.append(f"window {r['material']}: {r['e_above_hull_meV_atom']:.1f} meV/atom above the hull; its "
                           f"decomposition exchanges no Li from {red['voltage_V']:.2f} to {ox['voltage_V']:.2f} V")
            else:
                out.append(f"window {r['material']}: {red['voltage_V']:.2f}-{ox['voltage_V']:.2f} V "
                           f"(-> {_phases(red['products'])} | {_phases(ox['products'])})")
        elif k == "profile":
            steps = ", ".join(f"{p['voltage_V']:.2f}" for p in r["plateaus"])
            out.append(f"profile {r['material']}: plateaus at {steps} V")
        elif k == "reactivity":
            how = f", open {r['open_element']} at {r['potential_V']:g} V" if r.get("open_element") else ""
            out.append(f"reactivity {r['label']}{how}: {r['minimum_meV_atom']:.0f} meV/atom at x = "
                       f"{r['x_at_minimum']:.2f} -> {' + '.join(r['products'])}")
        elif k == "screen":
            funnel = " -> ".join(str(f["remaining"]) for f in r["funnel"])
            out.append(f"screen {r['role']}: {funnel}; survivors {', '.join(r['ranking']) or 'none'}")
        elif k == "diffusion":
            done, bad = len(r["runs"]), len(r["errors"])
            total = done + bad + len(r["waiting"])
            line = f"diffusion {r['material']} ({r['engine']}): {done} of {total} runs fitted"
            if bad:
                line += f", {bad} not usable (see analyses.json)"
            for run in r["runs"]:
                line += f"; {run['temperature_K']:g} K: D = {run['D_cm2_s']:.2e} +- {run['D_err_cm2_s']:.1e} cm^2/s"
            if r.get("arrhenius"):
                a = r["arrhenius"]
                line += f"; Ea = {a['Ea_eV']:.3f} +- {a['Ea_err_eV']:.3f} eV"
                if a.get("sigma_target_mS_cm") is not None:
                    line += (f", sigma({a['T_target_K']:g} K) = {a['sigma_target_mS_cm']:.3g} "
                             f"+- {a['sigma_target_err_mS_cm']:.2g} mS/cm")
            if r.get("fidelity"):
                line += f" [{'; '.join(r['fidelity'])}]"
            out.append(line)
        elif k == "barrier":
            res = r.get("result")
            if res is None:
                out.append(f"barrier {r['material']} ({r['engine']}): NEB not run yet ({r['calculation']})"
                           + (f": {r['errors'][0]}" if r.get("errors") else ""))
            else:
                b = res.get("barrier_eV")
                out.append(f"barrier {r['material']} ({r['engine']}): "
                           + (f"{b:.3f} eV" if b is not None else "unknown (end-point energy missing)"))
        elif k == "skipped":
            out.append(f"{r['request']}: not evaluated ({r['reason']})")
    if out:
        sources = sorted({f for r in doc.get("results", []) for f in r.get("provenance", {}).get("fidelity", [])})
        if sources:
            out.append(f"energies: {', '.join(sources)}; every number with its source in analyses.json")
    return out
