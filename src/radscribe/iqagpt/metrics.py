"""Metric definitions for the CT-IQA benchmark, in one place.

* Score agreement: PLCC (Pearson), SROCC (Spearman), KROCC (Kendall tau-b) and LDCTIQAC's
  overall ``|PLCC| + |SROCC| + |KROCC|`` (max 3.0); MAE on the 0-4 scale.
* Caption metrics: BLEU-4, METEOR, ROUGE-L, CIDEr(-D) from ``pycocoevalcap`` (the COCO caption
  evaluation code; METEOR runs its bundled Java jar). Tokenisation is our caption tokenizer
  (lower-case words, numbers, punctuation dropped) instead of the Stanford PTB tokenizer, so no
  extra Java step is needed; scores are therefore comparable only within radscribe.
"""

from __future__ import annotations

import logging
import math
import shutil
from typing import Sequence

import numpy as np
from scipy import stats

from radscribe.iqagpt.tokenizer import split_words

log = logging.getLogger(__name__)


def correlations(pred: Sequence[float | None], true: Sequence[float]) -> dict:
    """PLCC, SROCC, KROCC, their absolute sum, MAE and coverage; slices with no prediction are left out (and counted)."""
    pairs = [(float(p), float(t)) for p, t in zip(pred, true) if p is not None and math.isfinite(float(p))]
    n, total = len(pairs), len(true)
    out = {"n": n, "missing": total - n}
    if n < 3:
        return {**out, "plcc": None, "srocc": None, "krocc": None, "sum_abs": None, "mae": None}
    p, t = np.array(pairs).T
    constant = np.std(p) == 0 or np.std(t) == 0
    plcc = 0.0 if constant else float(stats.pearsonr(p, t)[0])
    srocc = 0.0 if constant else float(stats.spearmanr(p, t)[0])
    krocc = 0.0 if constant else float(stats.kendalltau(p, t)[0])
    return {**out, "plcc": plcc, "srocc": srocc, "krocc": krocc, "sum_abs": abs(plcc) + abs(srocc) + abs(krocc),
            "mae": float(np.mean(np.abs(p - t)))}


def aspect_accuracy(pred: np.ndarray, true: np.ndarray) -> dict:
    """Per-aspect accuracy over slices where the truth is known (true >= 0); pred -1 counts as wrong."""
    out = {}
    for j in range(true.shape[1]):
        known = true[:, j] >= 0
        out[j] = float((pred[known, j] == true[known, j]).mean()) if known.any() else None
    return out


def confusion(pred: np.ndarray, true: np.ndarray, classes: int) -> np.ndarray:
    """classes x classes counts, rows = truth, columns = prediction (unknowns dropped)."""
    m = np.zeros((classes, classes), dtype=np.int64)
    for p, t in zip(pred, true):
        if t >= 0 and 0 <= p < classes:
            m[t, p] += 1
    return m


def _words(text: str) -> str:
    return " ".join(w for w in split_words(text) if w[0].isalnum())


def caption_metrics(candidates: Sequence[str], references: Sequence[Sequence[str]] | Sequence[str],
                    meteor: bool = True) -> dict:
    """BLEU-4, METEOR, ROUGE-L and CIDEr of generated captions against one or more references each."""
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.rouge.rouge import Rouge

    refs = {i: [_words(r) for r in ([r] if isinstance(r, str) else r)] for i, r in enumerate(references)}
    cands = {i: [_words(c) or "empty"] for i, c in enumerate(candidates)}
    out = {
        "bleu4": float(Bleu(4).compute_score(refs, cands, verbose=0)[0][3]),
        "rouge_l": float(Rouge().compute_score(refs, cands)[0]),
        "cider": float(Cider().compute_score(refs, cands)[0]),
        "meteor": None,
    }
    if meteor and shutil.which("java"):
        try:
            from pycocoevalcap.meteor.meteor import Meteor

            scorer = Meteor()
            out["meteor"] = float(scorer.compute_score(refs, cands)[0])
            scorer.close() if hasattr(scorer, "close") else None
        except Exception as error:  # Java missing or the jar failed: report the other metrics, say METEOR is absent
            log.warning("METEOR not computed: %s", error)
    return out
