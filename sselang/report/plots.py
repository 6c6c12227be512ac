"""The report's figures: matplotlib (Agg) drawn to SVG, byte-for-byte reproducible.

Determinism: a fixed hash salt (matplotlib otherwise salts the ids of clip paths
and markers at random), no date or creator in the metadata, text kept as text
(svg.fonttype = none: no font outlines embedded, smaller files, and the numbers
in a plot stay searchable in the page).  Each figure's ids get a prefix so that
several figures inline in one HTML page never share an id.
"""

from __future__ import annotations

import io
import math
import re

import numpy as np

K_B_EV = 8.617333262e-5  # eV/K (CODATA 2018)

STYLE = {
    "svg.hashsalt": "sselang-report",
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 9.0,
    "axes.titlesize": 10.0,
    "axes.labelsize": 9.0,
    "legend.fontsize": 8.0,
    "figure.dpi": 100,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "path.simplify": False,  # simplification depends on the path's history; keep every point
}

# colour-blind safe (Okabe & Ito 2008)
COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]


def _figure(w: float, h: float):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    plt.rcParams.update(STYLE)
    return plt.figure(figsize=(w, h))


def to_svg(fig, prefix: str) -> str:
    """The figure as an <svg> element (no XML prolog), ids prefixed, closed afterwards."""
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
                bbox_inches="tight")
    plt.close(fig)
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r'id="([^"]+)"', lambda m: f'id="{prefix}-{m.group(1)}"', svg)
    svg = re.sub(r'url\(#([^)]+)\)', lambda m: f"url(#{prefix}-{m.group(1)})", svg)
    svg = re.sub(r'xlink:href="#([^"]+)"', lambda m: f'xlink:href="#{prefix}-{m.group(1)}"', svg)
    return svg.strip() + "\n"


# ----------------------------------------------------------------- window bars


def window_bars(rows: list[dict], operating: tuple[float, float] | None, prefix: str,
                charged_to: float | None = None) -> str:
    """One horizontal bar per phase from its reduction to its oxidation edge (V vs Li/Li+),
    as in Zhu, He & Mo 2015 Fig. 6a; the cell's operating range as a shaded band."""
    fig = _figure(6.4, 0.55 * len(rows) + 1.2)
    ax = fig.add_subplot()
    top = 5.0
    for i, r in enumerate(rows):
        y = len(rows) - 1 - i
        lo, hi = r["reduction_V"], r["oxidation_V"]
        lo_v = 0.0 if lo is None else lo
        hi_v = top if hi is None else min(hi, top)
        color = COLORS[0] if r["status"] == "stable" else COLORS[1]
        ax.barh(y, hi_v - lo_v, left=lo_v, height=0.5, color=color, alpha=0.85)
        label = f"{lo_v:.2f}–{hi:.2f} V" if hi is not None else f"> {lo_v:.2f} V"
        ax.text(min(hi_v + 0.05, top - 0.05), y, label, va="center", ha="left" if hi_v < top - 0.8 else "right",
                fontsize=8)
    if operating is not None:
        ax.axvspan(operating[0], operating[1], color="#999999", alpha=0.18, lw=0)
        ax.text(operating[0], len(rows) - 0.45, "operating range", fontsize=7.5, color="#555555", va="bottom")
    if charged_to is not None:
        ax.axvline(charged_to, color="#555555", lw=0.8, ls="--")
    ax.set_yticks(range(len(rows)), [r["label"] for r in reversed(rows)])
    ax.set_xlim(0, top)
    ax.set_ylim(-0.6, len(rows) - 0.1)
    ax.set_xlabel("potential vs Li/Li$^+$ (V)")
    return to_svg(fig, prefix)


def staircase(plateaus: list[dict], formula: str, prefix: str) -> str:
    """Voltage vs Li content: the Li-uptake staircase (x relative to the pristine phase)."""
    fig = _figure(5.2, 3.0)
    ax = fig.add_subplot()
    xs, vs = [], []
    for p in plateaus:
        xs += [p["x_from"], p["x_to"]]
        vs += [p["voltage_V"], p["voltage_V"]]
    ax.plot(xs, vs, color=COLORS[0], lw=1.6, drawstyle="default")
    ax.axvline(0, color="#999999", lw=0.6)
    ax.set_xlabel(f"x in Li$_{{x}}$ + {formula} (Li per formula unit)")
    ax.set_ylabel("V vs Li/Li$^+$")
    ax.set_ylim(bottom=min([0.0, *vs]) - 0.1)
    return to_svg(fig, prefix)


# ----------------------------------------------------------------- reactivity


def reaction_curve(points: list[dict], x_min: float, e_min: float, a: str, b: str, prefix: str) -> str:
    fig = _figure(5.2, 3.0)
    ax = fig.add_subplot()
    x = [p["x"] for p in points]
    e = [p["energy_meV_atom"] for p in points]
    ax.plot(x, e, "-o", color=COLORS[0], ms=3.5, lw=1.4)
    ax.plot([x_min], [e_min], "*", color=COLORS[1], ms=11)
    ax.annotate(f"{e_min:.0f} meV/atom", (x_min, e_min), textcoords="offset points", xytext=(8, -4), fontsize=8)
    ax.axhline(0, color="#999999", lw=0.6)
    ax.set_xlim(0, 1)
    ax.set_xlabel(f"x   (x {a} + (1 − x) {b}, atom fraction)")
    ax.set_ylabel("reaction energy (meV/atom)")
    return to_svg(fig, prefix)


# ----------------------------------------------------------------- diffusion


def msd_plot(runs: list[dict], prefix: str) -> str:
    """Tracer MSD vs time per temperature, the fit window bold and the fitted line dashed."""
    fig = _figure(5.6, 3.4)
    ax = fig.add_subplot()
    for i, r in enumerate(sorted(runs, key=lambda r: r["temperature_K"] or 0)):
        c = COLORS[i % len(COLORS)]
        curve = np.asarray(r.get("msd_curve") or [], float)
        if curve.size == 0:
            continue
        t_ps = curve[:, 0] / 1000
        ax.plot(t_ps, curve[:, 1], color=c, lw=1.0, alpha=0.8, label=f"{r['temperature_K']:g} K")
        w0, w1 = r["window"]["start_fs"], r["window"]["end_fs"]
        inside = (curve[:, 0] >= w0) & (curve[:, 0] <= w1)
        ax.plot(t_ps[inside], curve[inside, 1], color=c, lw=2.4)
        if r.get("fit_intercept_A2") is not None:
            tt = np.array([w0, w1])
            slope = 6 * r["D_cm2_s"] / 0.1  # Å^2/fs (1 Å^2/fs = 0.1 cm^2/s)
            ax.plot(tt / 1000, slope * tt + r["fit_intercept_A2"], color="#333333", lw=0.9, ls="--")
    ax.set_xlabel("time lag (ps)")
    ax.set_ylabel("Li tracer MSD (Å$^2$)")
    ax.legend(frameon=False, loc="upper left")
    return to_svg(fig, prefix)


def arrhenius_plot(fit: dict, prefix: str) -> str:
    """log10 D vs 1000/T with error bars, the weighted fit, its 1-sigma band from the
    covariance of (ln D0, Ea), and the extrapolation to the target temperature."""
    fig = _figure(5.6, 3.6)
    ax = fig.add_subplot()
    T = np.asarray(fit["temperatures_K"], float)
    D = np.asarray(fit["D_cm2_s"], float)
    err = np.asarray(fit["D_err_cm2_s"], float)
    x = 1000 / T
    ok = D > 0
    lo = np.log10(np.clip(D - err, D * 1e-3, None))
    hi = np.log10(D + err)
    ax.errorbar(x[ok], np.log10(D[ok]), yerr=[np.log10(D[ok]) - lo[ok], hi[ok] - np.log10(D[ok])], fmt="o",
                color=COLORS[0], ms=4, capsize=2, label="MD")
    Tt = float(fit["T_target_K"])
    xs = np.linspace(min(x.min(), 1000 / Tt) * 0.97, max(x.max(), 1000 / Tt) * 1.02, 120)
    cov = np.asarray(fit["covariance"], float)
    ln_d0 = math.log(fit["D0_cm2_s"])
    beta = 1000 / xs / 1  # T
    g = np.stack([np.ones_like(xs), -1 / (K_B_EV * beta)], axis=1)  # d lnD / d(lnD0, Ea)
    ln_d = ln_d0 - fit["Ea_eV"] / (K_B_EV * beta)
    sd = np.sqrt(np.einsum("ij,jk,ik->i", g, cov, g))
    to10 = 1 / math.log(10)
    ax.plot(xs, ln_d * to10, color=COLORS[1], lw=1.2, label=f"fit, Ea = {fit['Ea_eV']:.3f} ± {fit['Ea_err_eV']:.3f} eV")
    ax.fill_between(xs, (ln_d - sd) * to10, (ln_d + sd) * to10, color=COLORS[1], alpha=0.18, lw=0)
    yt = math.log10(fit["D_target_cm2_s"])
    band = fit["D_target_band_cm2_s"]
    ax.errorbar([1000 / Tt], [yt], yerr=[[yt - math.log10(band[0])], [math.log10(band[1]) - yt]], fmt="s",
                color=COLORS[2], ms=5, capsize=2, label=f"{Tt:g} K extrapolated")
    ax.set_xlabel("1000 / T (1/K)")
    ax.set_ylabel("log$_{10}$ D (cm$^2$/s)")
    ax.legend(frameon=False, loc="lower left")
    return to_svg(fig, prefix)


# ----------------------------------------------------------------- screening and barrier


def funnel(stages: list[dict], prefix: str) -> str:
    fig = _figure(5.6, 0.42 * len(stages) + 0.9)
    ax = fig.add_subplot()
    n0 = max(1, stages[0]["remaining"])
    for i, s in enumerate(stages):
        y = len(stages) - 1 - i
        w = s["remaining"] / n0
        ax.barh(y, w, left=(1 - w) / 2, height=0.7, color=COLORS[0], alpha=0.35 + 0.6 * (i + 1) / len(stages))
        ax.text(0.5, y, f"{s['stage']}: {s['remaining']}", ha="center", va="center", fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_axis_off()
    return to_svg(fig, prefix)


def barrier_profile(reaction_coordinate: list[float], energies_eV: list[float], prefix: str) -> str:
    fig = _figure(5.2, 3.0)
    ax = fig.add_subplot()
    e0 = energies_eV[0]
    ax.plot(reaction_coordinate, [e - e0 for e in energies_eV], "-o", color=COLORS[0], ms=4)
    ax.set_xlabel("reaction coordinate (Å)")
    ax.set_ylabel("E − E(initial) (eV)")
    return to_svg(fig, prefix)
