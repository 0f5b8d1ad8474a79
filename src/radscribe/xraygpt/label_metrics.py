"""Finding-level scores of generated text: the labeler reads both the generation and the reference.

A finding counts as asserted when the labeler marks it positive (1); uncertain (-1), negative and
unmentioned count as not asserted. "No Finding" is scored in F1 but is not a finding for the
hallucination rate (it asserts an absence).
"""

from __future__ import annotations

from typing import Mapping, Sequence

from radscribe.cxr.labeler import NO_FINDING, OBSERVATIONS


def positives(labels: Mapping[str, int]) -> set[str]:
    return {name for name, value in labels.items() if value == 1}


def per_observation_f1(generated: Sequence[Mapping[str, int]], reference: Sequence[Mapping[str, int]]) -> dict[str, dict]:
    """Precision, recall, F1 and support per observation (only observations with a positive reference)."""
    out = {}
    for name in OBSERVATIONS:
        tp = fp = fn = 0
        for g, r in zip(generated, reference):
            in_g, in_r = g.get(name) == 1, r.get(name) == 1
            tp += in_g and in_r
            fp += in_g and not in_r
            fn += in_r and not in_g
        if tp + fn == 0:
            continue
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[name] = {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn, "predicted": tp + fp}
    return out


def hallucination_rate(generated: Sequence[Mapping[str, int]], reference: Sequence[Mapping[str, int]]) -> float | None:
    """Positive findings asserted that the reference does not have / all positive findings asserted."""
    asserted = wrong = 0
    for g, r in zip(generated, reference):
        found = positives(g) - {NO_FINDING}
        asserted += len(found)
        wrong += len(found - positives(r))
    return wrong / asserted if asserted else None


def label_scores(generated: Sequence[Mapping[str, int]], reference: Sequence[Mapping[str, int]]) -> dict:
    per = per_observation_f1(generated, reference)
    exact = sum(positives(g) == positives(r) for g, r in zip(generated, reference)) / max(1, len(reference))
    return {
        "finding_macro_f1": sum(v["f1"] for v in per.values()) / len(per) if per else None,
        "hallucination_rate": hallucination_rate(generated, reference),
        "exact_findings_match": exact,
        "per_observation": per,
    }
