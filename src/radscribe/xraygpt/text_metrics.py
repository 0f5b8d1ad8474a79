"""Caption metrics, written here (no downloads): ROUGE-1/2/L, BLEU-4, METEOR, CIDEr.

All take one reference per example (the real summary) and lower-cased word tokens.

* ROUGE-N / ROUGE-L: F1 of n-gram overlap / longest common subsequence, averaged over examples.
* BLEU-4: corpus BLEU (Papineni 2002), geometric mean of 1-4-gram precisions, brevity penalty;
  a zero n-gram count is smoothed with 1/(2^k) of the denominator (Chen & Cherry method 3 style)
  so that one empty prediction does not zero the corpus score.
* METEOR: exact-match METEOR (Banerjee & Lavie 2005): unigram alignment, F-mean with recall
  weighted 9:1, fragmentation penalty 0.5*(chunks/matches)^3. No stemming or synonym modules,
  so it is lower than METEOR 1.5 on the same text.
* CIDEr: TF-IDF weighted 1-4-gram cosine (Vedantam 2015), document frequencies from the references,
  times 10; the CIDEr-D length penalty and clipping are not applied.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Sequence

_WORD = re.compile(r"[a-z0-9]+")


def tokenize(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def ngrams(tokens: Sequence[str], n: int) -> Counter:
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def _f1(overlap: float, n_pred: float, n_ref: float) -> float:
    if overlap == 0 or n_pred == 0 or n_ref == 0:
        return 0.0
    p, r = overlap / n_pred, overlap / n_ref
    return 2 * p * r / (p + r)


def rouge_n(pred: Sequence[str], ref: Sequence[str], n: int) -> float:
    p, r = ngrams(pred, n), ngrams(ref, n)
    return _f1(sum((p & r).values()), sum(p.values()), sum(r.values()))


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    if not a or not b:
        return 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b, 1):
            cur.append(prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1]))
        prev = cur
    return prev[-1]


def rouge_l(pred: Sequence[str], ref: Sequence[str]) -> float:
    return _f1(lcs_length(pred, ref), len(pred), len(ref))


def bleu4(preds: Sequence[Sequence[str]], refs: Sequence[Sequence[str]]) -> float:
    """Corpus BLEU-4 with brevity penalty."""
    matches, totals = [0] * 4, [0] * 4
    pred_len = sum(len(p) for p in preds)
    ref_len = sum(len(r) for r in refs)
    for pred, ref in zip(preds, refs):
        for n in range(1, 5):
            p, r = ngrams(pred, n), ngrams(ref, n)
            matches[n - 1] += sum((p & r).values())
            totals[n - 1] += sum(p.values())
    if pred_len == 0 or matches[0] == 0:  # no word in common: no smoothing makes that partly right
        return 0.0
    log_sum, smooth = 0.0, 1.0
    for m, t in zip(matches, totals):
        if t == 0:
            return 0.0
        if m == 0:
            smooth *= 2
            m = 1 / smooth
        log_sum += math.log(m / t)
    bp = 1.0 if pred_len > ref_len else math.exp(1 - ref_len / pred_len)
    return bp * math.exp(log_sum / 4)


def meteor(pred: Sequence[str], ref: Sequence[str], alpha: float = 0.9, beta: float = 3.0, gamma: float = 0.5) -> float:
    """Exact-match METEOR of one sentence pair (greedy left-to-right unigram alignment)."""
    if not pred or not ref:
        return 0.0
    used = [False] * len(ref)
    alignment = []
    for i, word in enumerate(pred):
        for j, ref_word in enumerate(ref):
            if not used[j] and ref_word == word:
                used[j] = True
                alignment.append((i, j))
                break
    m = len(alignment)
    if m == 0:
        return 0.0
    precision, recall = m / len(pred), m / len(ref)
    f_mean = precision * recall / (alpha * precision + (1 - alpha) * recall)
    chunks = 1 + sum(1 for (i0, j0), (i1, j1) in zip(alignment, alignment[1:]) if not (i1 == i0 + 1 and j1 == j0 + 1))
    penalty = gamma * (chunks / m) ** beta
    return f_mean * (1 - penalty)


def cider(preds: Sequence[Sequence[str]], refs: Sequence[Sequence[str]]) -> float:
    """Corpus CIDEr (one reference each), mean over examples, x10."""
    n_docs = len(refs)
    if n_docs == 0:
        return 0.0
    scores = [0.0] * len(preds)
    for n in range(1, 5):
        df = Counter()
        for ref in refs:
            df.update(set(ngrams(ref, n)))

        def vec(tokens: Sequence[str]) -> dict:
            counts = ngrams(tokens, n)
            total = sum(counts.values()) or 1
            return {g: (c / total) * math.log(n_docs / max(1.0, df[g])) for g, c in counts.items()}

        for k, (pred, ref) in enumerate(zip(preds, refs)):
            vp, vr = vec(pred), vec(ref)
            dot = sum(v * vr.get(g, 0.0) for g, v in vp.items())
            norm = math.sqrt(sum(v * v for v in vp.values())) * math.sqrt(sum(v * v for v in vr.values()))
            scores[k] += (dot / norm if norm > 0 else 0.0) / 4
    return 10.0 * sum(scores) / len(scores)


def caption_scores(predictions: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """Every caption metric of a system's outputs against the references (same order)."""
    preds = [tokenize(p) for p in predictions]
    refs = [tokenize(r) for r in references]
    n = max(1, len(preds))
    return {
        "rouge1": sum(rouge_n(p, r, 1) for p, r in zip(preds, refs)) / n,
        "rouge2": sum(rouge_n(p, r, 2) for p, r in zip(preds, refs)) / n,
        "rougeL": sum(rouge_l(p, r) for p, r in zip(preds, refs)) / n,
        "bleu4": bleu4(preds, refs),
        "meteor": sum(meteor(p, r) for p, r in zip(preds, refs)) / n,
        "cider": cider(preds, refs),
    }
