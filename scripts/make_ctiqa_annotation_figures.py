"""Figures for docs/ctiqa-annotation.md (all SYNTHETIC): score histograms and captioned examples.

    python scripts/make_ctiqa_annotation_figures.py survey256.json [survey512.json]

The surveys come from ``python -m radscribe.ctiqa.annotation.survey``. Examples are
re-simulated at 256 px from the survey's own parameters (one per category).
"""

from __future__ import annotations

import json
import sys
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from radscribe.ctiqa.annotation import CATEGORIES, Annotation, annotate_simulation  # noqa: E402
from radscribe.ctiqa.phantoms import make_phantom  # noqa: E402
from radscribe.ctiqa.physics import AcquisitionParams, simulate  # noqa: E402
from radscribe.ctiqa.text import describe  # noqa: E402
from radscribe.io import apply_window  # noqa: E402


def histogram(surveys: list[dict], path: str) -> None:
    fig, ax = plt.subplots(figsize=(6.4, 3.2), dpi=90)
    width = 0.8 / len(surveys)
    for j, s in enumerate(surveys):
        frac = np.array(s["bins"]) / s["n"]
        ax.bar(np.arange(5) + (j - (len(surveys) - 1) / 2) * width, frac, width,
               label=f"{s['size']} px, n={s['n']}")
    ax.axhline(0.1, color="k", lw=0.8, ls="--", label="10% target")
    ax.set_xticks(range(5), [f"{k}\n{c}" for k, c in enumerate(CATEGORIES)])
    ax.set_ylabel("fraction of slices")
    ax.set_title("SYNTHETIC: protocol scores of sampled acquisitions", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)


def examples(survey: dict, path: str) -> list[dict]:
    torch.set_num_threads(1)
    picked = []
    for cat in CATEGORIES[::-1]:
        rows = [r for r in survey["rows"] if r["annotation"]["category"] == cat]
        rows.sort(key=lambda r: sum(v != "none" for v in r["annotation"]["aspects"].values()))
        if rows:
            picked.append(rows[len(rows) // 2])
    fig, axes = plt.subplots(1, len(picked), figsize=(3.0 * len(picked), 3.9), dpi=80)
    out = []
    for ax, row in zip(np.atleast_1d(axes), picked):
        ph = make_phantom(row["anatomy"], 1000 + row["i"], size=survey["size"])
        params = AcquisitionParams.from_dict(row["params"])
        sim = simulate(ph.hu, ph.pixel_spacing_mm, params, body_mask=ph.body_mask)
        ann = annotate_simulation(sim, ph)
        assert ann.to_dict()["aspects"] == row["annotation"]["aspects"]
        text = describe(Annotation.from_dict(row["annotation"]), anatomy=row["anatomy"], seed=row["i"])
        ax.imshow(apply_window(sim.degraded_hu, "ldct"), cmap="gray")
        ax.set_axis_off()
        ax.set_title(f"{row['anatomy']} #{row['i']}: {ann.category} {ann.score:.1f}", fontsize=9)
        ax.text(0, 1.0, "\n".join(textwrap.wrap(text, 42)), transform=ax.transAxes, fontsize=6.5, va="top",
                ha="left", position=(0.0, -0.02))
        out.append({"i": row["i"], "anatomy": row["anatomy"], "params": row["params"], "caption": text})
    fig.suptitle("SYNTHETIC slices (W350/L40) and their template captions", fontsize=10)
    fig.subplots_adjust(bottom=0.27, top=0.9, wspace=0.05)
    fig.savefig(path)
    return out


if __name__ == "__main__":
    surveys = [json.load(open(p)) for p in sys.argv[1:]]
    histogram(surveys, "docs/img/ctiqa-score-histogram.png")
    for ex in examples(surveys[0], "docs/img/ctiqa-caption-examples.png"):
        print(json.dumps(ex))
