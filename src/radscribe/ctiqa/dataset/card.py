"""The dataset card: README.md with what the data is, counts, and distribution plots."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from radscribe.ctiqa.dataset.records import read_records
from radscribe.io.writers import atomic_open, atomic_write_text

SPLIT_ORDER = ("train", "val", "test", "real", "test-real")
CATEGORY_ORDER = ("excellent", "good", "fair", "poor", "bad")


def summarize(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts by split, anatomy, category and split x anatomy; aspect severity counts; score stats."""
    scores = np.array([r["score"] for r in records if r.get("score") is not None], float)
    aspects: dict[str, Counter] = {}
    for r in records:
        for name, severity in (r.get("aspects") or {}).items():
            aspects.setdefault(name, Counter())[str(severity)] += 1
    patients: dict[str, set] = {}
    for r in records:
        patients.setdefault(r.get("split"), set()).add(r.get("anatomy_id"))
    return {
        "n": len(records),
        "synthetic": sorted({bool(r.get("synthetic")) for r in records}),
        "by_split": dict(Counter(r.get("split") for r in records)),
        "patients_by_split": {k: len(v) for k, v in patients.items()},
        "by_anatomy": dict(Counter(str(r.get("anatomy")) for r in records)),
        "by_category": dict(Counter(str(r.get("category")) for r in records)),
        "split_x_anatomy": dict(Counter(f"{r.get('split')}/{r.get('anatomy')}" for r in records)),
        "aspects": {k: dict(v) for k, v in aspects.items()},
        "score": {"mean": float(scores.mean()), "sd": float(scores.std()), "min": float(scores.min()),
                  "max": float(scores.max())} if scores.size else None,
        "protocol_versions": sorted({str(r.get("protocol_version")) for r in records}),
    }


def write_card(folder: str | Path, *, grid: bool = True, grid_size: int | None = None) -> Path:
    """Write folder/README.md, folder/plots/*.png and (with ``grid``) folder/preview_grid.png."""
    folder = Path(folder)
    records = read_records(folder)
    stats = summarize(records)
    settings = _settings(folder)
    plots = _plots(records, stats, folder / "plots")
    if grid:
        from radscribe.ctiqa.dataset.grid import preview_grid

        size = grid_size or min(int(settings.get("size", 512)), 512)
        info = preview_grid(folder / "preview_grid.png", size=size, crop=0.5 if size >= 384 else 1.0)
        atomic_write_json_safe(folder / "preview_grid.json", info)
    atomic_write_json_safe(folder / "card.json", stats)
    text = _markdown(folder, stats, settings, plots, grid, _examples(records))
    atomic_write_text(folder / "README.md", text)
    return folder / "README.md"


def atomic_write_json_safe(path: Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def _settings(folder: Path) -> dict[str, Any]:
    path = folder / "dataset.json"
    return json.loads(path.read_text()).get("settings", {}) if path.exists() else {}


def _plots(records: list[dict], stats: dict, out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = []
    synthetic = "SYNTHETIC " if True in stats["synthetic"] else ""
    scores = [r["score"] for r in records if r.get("score") is not None]
    if scores:
        fig, ax = plt.subplots(figsize=(5, 3), dpi=100)
        splits = [s for s in SPLIT_ORDER if s in stats["by_split"]] + sorted(set(stats["by_split"]) - set(SPLIT_ORDER))
        ax.hist([[r["score"] for r in records if r.get("split") == split and r.get("score") is not None]
                 for split in splits], bins=np.linspace(-0.1, 4.1, 22), stacked=True,
                label=[f"{split} ({stats['by_split'][split]})" for split in splits])
        ax.set_xlabel("score (0 bad .. 4 excellent)"), ax.set_ylabel("slices")
        ax.set_title(f"{synthetic}score distribution", fontsize=9)
        ax.legend(fontsize=7)
        made.append(_save(fig, out / "score_hist.png"))
    if stats["aspects"]:
        names = list(stats["aspects"])
        # "none" dominates and would hide the rest: plot the degraded slices only, and say so
        levels = [lvl for lvl in sorted({lvl for c in stats["aspects"].values() for lvl in c}, key=_severity_key)
                  if lvl != "none"]
        fig, ax = plt.subplots(figsize=(6, 3), dpi=100)
        left = np.zeros(len(names))
        colours = plt.cm.YlOrRd(np.linspace(0.3, 0.9, max(len(levels), 1)))  # ordered: mild pale, severe dark
        for level, colour in zip(levels, colours):
            counts = np.array([stats["aspects"][a].get(level, 0) for a in names], float)
            ax.barh(names, counts, left=left, label=level, color=colour)
            left += counts
        ax.set_xlabel(f"slices with the aspect present (of {stats['n']})")
        ax.set_title(f"{synthetic}severity per aspect", fontsize=9)
        ax.legend(fontsize=7, title="severity", title_fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
        made.append(_save(fig, out / "aspect_severity.png"))
    return made


def _severity_key(level: str) -> tuple:
    words = ("none", "minimal", "mild", "moderate", "marked", "severe")
    if level in words:
        return (0, words.index(level), level)
    try:
        return (0, float(level), level)
    except ValueError:
        return (1, 0, level)


def _save(fig, path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    with atomic_open(path, "wb") as handle:
        fig.savefig(handle, format="png")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return f"{path.parent.name}/{path.name}"


def _table(counts: dict, order=None) -> str:
    keys = [k for k in (order or []) if k in counts] + sorted(k for k in counts if k not in (order or []))
    rows = "\n".join(f"| {k} | {counts[k]} |" for k in keys)
    return f"| value | slices |\n|---|---|\n{rows}\n"


def _examples(records: list[dict], k: int = 4) -> list[dict]:
    """A few records spread over the score range (highest to lowest)."""
    ranked = sorted((r for r in records if r.get("score") is not None), key=lambda r: (-r["score"], r.get("index", 0)))
    if len(ranked) <= k:
        return ranked
    return [ranked[round(i * (len(ranked) - 1) / (k - 1))] for i in range(k)]


def _options_beyond_defaults(settings: dict) -> str:
    """The make-ctiqa flags a folder was built with that are not their defaults (shares, split, kinds)."""
    flags = [f" --{key.replace('_', '-')} {settings[key]:g}" for key in ("targeted_fov", "wide_fov", "soft_kernel",
                                                                       "arms_down") if settings.get(key)]
    if settings.get("phantom_split", "by-patient") != "by-patient":
        flags.append(f" --phantom-split {settings['phantom_split']}")
    if settings.get("kinds"):
        flags.append(" --kinds " + ",".join(settings["kinds"]))
    return "".join(flags)


def _markdown(folder: Path, stats: dict, settings: dict, plots: list[str], grid: bool,
              examples: list[dict] | None = None) -> str:
    synthetic = True in stats["synthetic"]
    command = "radscribe data make-ctiqa --out {out} --n {n} --seed {seed} --size {size} --anatomies {a} " \
              "--per-patient {pp}".format(out=folder.name, n=settings.get("n"), seed=settings.get("seed"),
                                          size=settings.get("size"), a=",".join(settings.get("anatomies", [])),
                                          pp=settings.get("per_patient")) if settings else "(imported)"
    if settings.get("real"):
        command += " --real " + " --real ".join(settings["real"]) + f" --real-split {settings.get('real_split')}"
    command += _options_beyond_defaults(settings)
    lines = [
        f"# CT-IQA dataset: {folder.name}",
        "",
        ("**SYNTHETIC.** Every image here was made by radscribe's CT simulator (simulated acquisitions"
         + (" of real anatomy" if settings.get("real") else " of procedural phantoms") +
         "); no patient was scanned. Use it to train and test image-quality models, not for diagnosis."
         if synthetic else "**Imported** data (`synthetic: false`): scores as given by the source."),
        "",
        f"- records: {stats['n']} (`annotations.jsonl`, one JSON object per image)",
        f"- protocol version(s): {', '.join(stats['protocol_versions'])}",
        f"- built with: `{command}`",
        f"- seed: {settings.get('seed', '-')}; image size: {settings.get('size', '-')} px",
        "- images: `images/` degraded, `reference/` full-quality scan of the same slice; 16-bit PNG of HU + 1024 "
        "(`radscribe.io.read_image` returns HU)",
    ]
    if stats["score"]:
        s = stats["score"]
        lines.append(f"- score (0-4): mean {s['mean']:.2f}, SD {s['sd']:.2f}, range {s['min']:.2f}..{s['max']:.2f}")
    lines += ["", "Splits are by patient (`anatomy_id`): no patient appears in two splits.", "",
              "## Counts by split", "", _table(stats["by_split"], SPLIT_ORDER),
              "Patients by split: " + ", ".join(f"{k} {v}" for k, v in stats["patients_by_split"].items()), "",
              "## Counts by anatomy", "", _table(stats["by_anatomy"]),
              "## Counts by category", "", _table(stats["by_category"], CATEGORY_ORDER),
              "## Split x anatomy", "", _table(stats["split_x_anatomy"])]
    if stats["aspects"]:
        levels = sorted({lvl for c in stats["aspects"].values() for lvl in c}, key=_severity_key)
        header = "| aspect | " + " | ".join(levels) + " |\n|---|" + "---|" * len(levels) + "\n"
        body = "".join(f"| {a} | " + " | ".join(str(c.get(lvl, 0)) for lvl in levels) + " |\n"
                       for a, c in stats["aspects"].items())
        lines += ["## Severity per aspect", "", header + body]
    if examples:
        lines += ["## Example captions", ""] + [f"- `{r['image']}` ({r.get('anatomy')}, score {r.get('score')}): "
                                                 f"{r.get('caption')}" for r in examples] + [""]
    if plots:
        lines += ["## Distributions", ""] + [f"![{p}]({p})" for p in plots] + [""]
    if grid:
        lines += ["## Preview grid", "",
                  "One SYNTHETIC slice with each degradation alone, from none to severe (window ldct W350/L40); "
                  "each cell is labelled with its parameter and the score the annotation protocol gave it.", "",
                  "![preview grid](preview_grid.png)", ""]
    return "\n".join(lines) + "\n"
