"""Heat maps: where on the slice the decoder looked when it wrote each word.

For every generated word the last decoder layer's cross-attention (averaged over heads) is a
16 x 16 map over the image tokens; it is upsampled to the 256 x 256 input and overlaid on the
slice (ldct window). One PNG per slice shows the slice and the maps of its top words: the
quality words (aspects, severities, category) when the caption has them, else the words whose
attention is most concentrated.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from radscribe.io import MedicalImage
from radscribe.io.writers import atomic_open

QUALITY_WORDS = {
    "noise", "noisy", "grainy", "grain", "mottle", "streaks", "streak", "streaking", "metal", "artefact", "artefacts",
    "motion", "rings", "ring", "blur", "blurring", "blurred", "mild", "moderate", "severe", "minor", "marked",
    "bad", "poor", "fair", "good", "excellent",
}


def word_maps(probs_tokens: torch.Tensor, cross: torch.Tensor, words: list[str], grid: int, size: int) -> list[tuple[str, np.ndarray]]:
    """(word, map in [0, 1] of shape (size, size)) for each generated word of one caption."""
    out = []
    n = min(len(words), cross.shape[0])
    if n == 0:
        return out
    maps = cross[:n].reshape(n, 1, grid, grid)
    maps = F.interpolate(maps, size=(size, size), mode="bilinear", align_corners=False)[:, 0]
    for word, m in zip(words[:n], maps):
        m = m - m.min()
        out.append((word, (m / m.max().clamp_min(1e-12)).numpy()))
    return out


def pick_words(pairs: list[tuple[str, np.ndarray]], cross: torch.Tensor, top: int = 4) -> list[int]:
    """Indices of the words to show: first quality words (in caption order, once each), else the most focused maps."""
    chosen, seen = [], set()
    for i, (word, _) in enumerate(pairs):
        if word in QUALITY_WORDS and word not in seen:
            chosen.append(i)
            seen.add(word)
        if len(chosen) == top:
            return chosen
    if len(chosen) < top:
        peak = cross[: len(pairs)].max(-1).values
        for i in peak.argsort(descending=True).tolist():
            if i not in chosen and re.match(r"[a-z]", pairs[i][0]):
                chosen.append(i)
            if len(chosen) == top:
                break
    return sorted(chosen)


def render_png(slice_unit: np.ndarray, pairs: list[tuple[str, np.ndarray]], title: str) -> bytes:
    """The slice followed by one overlay per chosen word, as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = 1 + len(pairs)
    fig, axes = plt.subplots(1, panels, figsize=(2.2 * panels, 2.5), dpi=100)
    axes = np.atleast_1d(axes)
    axes[0].imshow(slice_unit, cmap="gray", vmin=0, vmax=1)
    axes[0].set_title("slice (W350/L40)", fontsize=8)
    for ax, (word, m) in zip(axes[1:], pairs):
        ax.imshow(slice_unit, cmap="gray", vmin=0, vmax=1)
        ax.imshow(m, cmap="jet", alpha=0.45, vmin=0, vmax=1)
        ax.set_title(f'"{word}"', fontsize=9)
    for ax in axes:
        ax.axis("off")
    fig.suptitle(title, fontsize=7, wrap=True)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def _safe_name(image: MedicalImage, taken: set[str]) -> str:
    """``<file stem>[_<slice>].png``; a second file with the same stem gets ``-2``, ``-3``..."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(image.meta.source).stem) or "slice"
    base = f"{stem}_{image.meta.frame:04d}" if image.meta.n_frames > 1 else stem
    name, k = f"{base}.png", 2
    while name in taken:
        name, k = f"{base}-{k}.png", k + 1
    taken.add(name)
    return name


def write_heatmaps(out_dir: str | Path, images: list[MedicalImage], arrays: np.ndarray, assessor, top: int = 4,
                   taken: set[str] | None = None) -> list[Path]:
    """One PNG per slice of the last ``assessor.assess_arrays(..., keep_maps=True)`` call.

    ``taken``: names already written in this run (pass the same set for every batch of one run).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tok = assessor.loaded.tokenizer
    grid = assessor.loaded.model.cfg.encoder.grid
    size = arrays.shape[-1]
    rows = [(g, i) for g in assessor.last_generated for i in range(g.tokens.shape[0])]
    written: list[Path] = []
    taken = set() if taken is None else taken
    for image, array, (gen, i) in zip(images, arrays, rows):
        words = tok.decode_words(gen.tokens[i, 1:].tolist())
        pairs = word_maps(gen.probs[i], gen.cross[i], words, grid, size)
        keep = pick_words(pairs, gen.cross[i], top)
        caption = tok.decode(gen.tokens[i, 1:].tolist())
        png = render_png(array[0].astype(np.float32) / 255.0, [pairs[k] for k in keep], caption)
        path = out / _safe_name(image, taken)
        with atomic_open(path, "wb") as handle:
            handle.write(png)
        path.chmod(0o644)
        written.append(path)
    return written
