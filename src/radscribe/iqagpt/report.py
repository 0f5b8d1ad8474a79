"""Markdown and plots for `radscribe benchmark ctiqa` (everything labelled SYNTHETIC)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from radscribe.iqagpt.data import ASPECTS, SEVERITIES
from radscribe.iqagpt.metrics import confusion


def _f(v, digits: int = 3) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40]


def write_plots(out: Path, splits: list[dict]) -> list[str]:
    """Scatter (predicted vs true) per method and per-aspect confusion matrices, one PNG each per split."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    for split in splits:
        slug = _slug(split["split"])
        preds = split["_predictions"]
        true = split["_true"]
        cols = 4
        rows = int(np.ceil(len(preds) / cols))
        fig, axes = plt.subplots(rows, cols, figsize=(3.0 * cols, 3.0 * rows), dpi=80, squeeze=False)
        for ax, (name, pred) in zip(axes.flat, preds.items()):
            keep = [i for i, p in enumerate(pred) if p is not None]
            ax.scatter(true[keep], np.array([pred[i] for i in keep], float), s=6, alpha=0.5)
            ax.plot([0, 4], [0, 4], "k--", lw=0.8)
            ax.set_xlim(-0.2, 4.2)
            ax.set_ylim(-0.2, 4.2)
            ax.set_title(name.replace("captioner: ", "cap: ").replace("baseline: ", "base: ")[:34], fontsize=8)
            ax.set_xlabel("true score", fontsize=7)
            ax.set_ylabel("predicted", fontsize=7)
            ax.tick_params(labelsize=6)
        for ax in list(axes.flat)[len(preds):]:
            ax.axis("off")
        fig.suptitle(f"SYNTHETIC CT-IQA benchmark: {split['split']} (n={split['n']})", fontsize=9)
        fig.tight_layout()
        name = f"scatter_{slug}.png"
        fig.savefig(out / name)
        plt.close(fig)
        written.append(name)
        for model, pred_aspects in split["_aspects"].items():
            fig, axes = plt.subplots(1, len(ASPECTS), figsize=(2.2 * len(ASPECTS), 2.5), dpi=80)
            for j, (ax, aspect) in enumerate(zip(axes, ASPECTS)):
                m = confusion(pred_aspects[:, j], split["_true_aspects"][:, j], len(SEVERITIES))
                ax.imshow(m, cmap="Blues")
                for (r, c), v in np.ndenumerate(m):
                    ax.text(c, r, str(v), ha="center", va="center", fontsize=6)
                ax.set_title(aspect, fontsize=8)
                ax.set_xticks(range(4), [s[:3] for s in SEVERITIES], fontsize=6)
                ax.set_yticks(range(4), [s[:3] for s in SEVERITIES], fontsize=6)
                ax.set_xlabel("predicted", fontsize=6)
            axes[0].set_ylabel("true", fontsize=7)
            fig.suptitle(f"SYNTHETIC: {model} aspect confusion, {split['split']}", fontsize=8)
            fig.tight_layout()
            name = f"confusion_{_slug(model)}_{slug}.png"
            fig.savefig(out / name)
            plt.close(fig)
            written.append(name)
    return written


def write_markdown(report: dict) -> str:
    lines = ["# CT-IQA benchmark (SYNTHETIC)", "", report["note"], ""]
    cap = report["captioner"]
    lines += [f"Captioner: `{cap['path']}`; trained by `{(cap['manifest'] or {}).get('command')}`.",
              f"Baselines trained here on the same train split: {report['baseline_config']}.",
              f"Threads: {report['threads']}. LLM scoring on the first {report['llm_subset']} captions per split.", ""]
    for split in report["splits"]:
        lines += [f"## {split['split']} (n = {split['n']}, synthetic = {split['synthetic']})", "",
                  f"Captioner throughput: {split['end_to_end_slices_per_s']:.1f} slices/s end to end (HU pixels -> JSON), "
                  f"{split['model_slices_per_s']:.1f} slices/s model only (preprocessed input).", "",
                  "| method | n | PLCC | SROCC | KROCC | sum abs | MAE | aspect acc. | slices/s |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for m in split["methods"]:
            rate = "-" if m.get("slices_per_s") is None else f"{m['slices_per_s']:.1f}"
            lines.append(f"| {m['method']} | {m['n']} | {_f(m['plcc'])} | {_f(m['srocc'])} | {_f(m['krocc'])} | "
                         f"**{_f(m['sum_abs'])}** | {_f(m['mae'])} | {_f(m['aspect_accuracy_mean'])} | {rate} |")
        lines.append("")
        if split.get("aspect_accuracy_always_none") is not None:
            lines += [f"For scale: always answering 'none' gives a mean aspect accuracy of "
                      f"{split['aspect_accuracy_always_none']:.3f} on this split.", ""]
        first = split["methods"][0]
        if first.get("aspect_accuracy"):
            lines += ["Per-aspect accuracy (captioner, parsed from its caption): " + ", ".join(
                f"{a} {_f(v, 2)}" for a, v in first["aspect_accuracy"].items()), ""]
        if first.get("captions"):
            c = first["captions"]
            lines += [f"Caption metrics (vs reference phrasings): BLEU-4 {_f(c['bleu4'])}, METEOR {_f(c['meteor'])}, "
                      f"ROUGE-L {_f(c['rouge_l'])}, CIDEr {_f(c['cider'])}.", ""]
        lines += ["Examples:", ""]
        for ex in split["examples"][:3]:
            lines += [f"- `{ex['image']}` true {ex['true_score']:.1f}", f"  - reference: {ex['reference']}",
                      f"  - generated: {ex['generated']}"]
        lines.append("")
    lines += ["## Plots", ""] + [f"![{p}]({p})" for p in report.get("plots", [])] + [""]
    return "\n".join(lines)
