"""Ship the finished CHGNet preview MD runs of a study with sselang.

    python scripts/bundle_previews.py examples/baseline.cell --build-dir BUILD

reads the study's plan, takes every MD calculation whose folder under BUILD holds a
finished preview (XDATCAR + preview-md.json written by `sselang run --fidelity
preview`), and copies it to sselang/data/bundled/previews/<name>/ (XDATCAR gzipped
with a zero mtime, so the same run gives the same bytes), recording in index.json the
key compile matches a planned run by: its starting supercell, temperature and timestep
(sselang.analyses.diffusion.md_start_key).  compile then shows these runs as the
"bundled preview" diffusion result until the study's own runs exist.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "sselang" / "data" / "bundled" / "previews"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("study", type=Path)
    ap.add_argument("--build-dir", type=Path, default=Path("build"))
    args = ap.parse_args(argv)

    from sselang.analyses.diffusion import md_start_key
    from sselang.compile import resolve_data
    from sselang.pipeline import front_end
    from sselang.plan import make_plan

    fe = front_end(args.study)
    data = resolve_data(fe, args.study) if fe.ok else None
    if data is None:
        print(f"{args.study} does not compile; run `sselang check` on it", file=sys.stderr)
        return 1
    plan = make_plan(fe.study, data)
    index_path = TARGET / "index.json"
    index = json.loads(index_path.read_text()) if index_path.exists() else {"previews": []}
    entries = {e["key"]: e for e in index["previews"]}
    added = 0
    for c in plan.calculations:
        d = args.build_dir / fe.study.id / "calcs" / c.id
        meta_path = d / "preview-md.json"
        if c.kind != "md" or not meta_path.is_file():
            continue
        meta = json.loads(meta_path.read_text())
        if not meta.get("finished"):
            print(f"skip {c.id}: the preview has not finished ({meta.get('steps')} of "
                  f"{meta.get('steps_requested')} steps)", file=sys.stderr)
            continue
        name = f"{fe.study.id}-{c.material}-{float(c.settings['temperature_K']):g}K"
        out = TARGET / name
        out.mkdir(parents=True, exist_ok=True)
        with open(d / "XDATCAR", "rb") as src, open(out / "XDATCAR.gz", "wb") as raw, \
                gzip.GzipFile(filename="XDATCAR", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as dst:
            shutil.copyfileobj(src, dst)
        shutil.copyfile(meta_path, out / "preview-md.json")
        entries[md_start_key(c)] = {
            "key": md_start_key(c), "folder": name, "study": fe.study.id, "material": c.material,
            "formula": fe.study.material(c.material).formula, "temperature_K": float(c.settings["temperature_K"]),
            "timestep_fs": float(c.settings.get("timestep_fs", 2.0)), "natoms": c.natoms,
            "supercell": c.settings.get("supercell"), "model": meta["model"], "package": meta.get("package"),
            "duration_ps": meta["duration_ps"], "steps": meta["steps"], "calculation": c.id,
            "made_by": f"sselang run {args.study.name} --fidelity preview --duration {meta['duration_ps']:g}ps",
        }
        added += 1
        print(f"bundled {c.id} -> {out.relative_to(ROOT)} ({(out / 'XDATCAR.gz').stat().st_size / 1e6:.2f} MB)")
    index["previews"] = sorted(entries.values(), key=lambda e: (e["study"], e["material"], e["temperature_K"]))
    TARGET.mkdir(parents=True, exist_ok=True)
    index_path.write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
    print(f"{added} run(s) bundled; index: {index_path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
