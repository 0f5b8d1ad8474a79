"""Score a labeler against hand-labelled sentences: per-observation F1 and overall accuracy.

A labelled file is JSON Lines, one ``{"id", "text", "labels": {"Cardiomegaly": 1, ...}}``
per line, unmentioned observations left out. Each observation's value is one of
four classes: 1, 0, -1 or blank (unmentioned).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from radscribe.cxr.labeler.observations import OBSERVATIONS
from radscribe.cxr.labeler.rules import label_report
from radscribe.errors import InputError

CLASSES = (1, 0, -1)


@dataclass(frozen=True)
class LabeledText:
    id: str
    text: str
    labels: dict[str, int]


def load_labeled(path: str | Path) -> list[LabeledText]:
    """Read a JSON Lines file of hand-labelled sentences."""
    items = []
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            items.append(LabeledText(str(data.get("id", number)), data["text"], {k: int(v) for k, v in data["labels"].items()}))
        except (ValueError, KeyError, TypeError) as error:
            raise InputError(path, f"line {number} is not a labelled sentence ({error})") from None
    return items


def _f1(tp: int, fp: int, fn: int) -> float | None:
    """F1, or None when the class never occurs in truth or prediction (undefined, not zero)."""
    if tp + fp + fn == 0:
        return None
    return 2 * tp / (2 * tp + fp + fn)


@dataclass
class ObservationScore:
    observation: str
    support: dict[int, int] = field(default_factory=dict)  # how often each class is the truth
    f1: dict[int, float | None] = field(default_factory=dict)  # one-vs-rest F1 per class
    accuracy: float = 0.0  # over all items, blank included as a class
    # Pooled over the three classes: a prediction is right when it names the true class of a mentioned
    # observation; support counts items where the observation is mentioned (not blank) in the truth.
    precision: float | None = None
    recall: float | None = None
    f1_all: float | None = None
    n_mentioned: int = 0

    def to_dict(self) -> dict:
        return {"observation": self.observation, "support": self.n_mentioned, "precision": self.precision,
                "recall": self.recall, "f1": self.f1_all, "accuracy": self.accuracy,
                "per_class": {str(c): {"support": self.support[c], "f1": self.f1[c]} for c in CLASSES}}


@dataclass
class Evaluation:
    n_items: int
    per_observation: list[ObservationScore]
    accuracy: float  # over all (item, observation) pairs, blank included
    exact_match: float  # items whose whole label dict is right
    errors: list[tuple[LabeledText, dict[str, int]]]

    def to_dict(self) -> dict:
        """JSON-ready numbers (errors as id, text, truth, prediction)."""
        return {"n_items": self.n_items, "accuracy": self.accuracy, "exact_match": self.exact_match,
                "macro_f1": macro_f1_all(self),
                "macro_f1_by_class": {"positive": macro_f1(self, 1), "negative": macro_f1(self, 0), "uncertain": macro_f1(self, -1)},
                "per_observation": [s.to_dict() for s in self.per_observation],
                "errors": [{"id": i.id, "text": i.text, "truth": i.labels, "predicted": p} for i, p in self.errors]}


def evaluate(items: list[LabeledText], labeler: Callable[[str], dict[str, int]] = label_report) -> Evaluation:
    """Run ``labeler`` on every item and compare with the hand labels."""
    predictions = [labeler(item.text) for item in items]
    scores, correct_pairs = [], 0
    for name in OBSERVATIONS:
        truth = [item.labels.get(name) for item in items]
        pred = [p.get(name) for p in predictions]
        score = ObservationScore(name)
        for c in CLASSES:
            tp = sum(t == c and p == c for t, p in zip(truth, pred))
            fp = sum(t != c and p == c for t, p in zip(truth, pred))
            fn = sum(t == c and p != c for t, p in zip(truth, pred))
            score.support[c], score.f1[c] = tp + fn, _f1(tp, fp, fn)
        tp = sum(t is not None and t == p for t, p in zip(truth, pred))
        n_pred, score.n_mentioned = sum(p is not None for p in pred), sum(t is not None for t in truth)
        score.precision = tp / n_pred if n_pred else None
        score.recall = tp / score.n_mentioned if score.n_mentioned else None
        score.f1_all = _f1(tp, n_pred - tp, score.n_mentioned - tp)
        right = sum(t == p for t, p in zip(truth, pred))
        score.accuracy = right / len(items) if items else 0.0
        correct_pairs += right
        scores.append(score)
    errors = [(item, pred) for item, pred in zip(items, predictions) if pred != item.labels]
    n = len(items)
    return Evaluation(
        n_items=n,
        per_observation=scores,
        accuracy=correct_pairs / (n * len(OBSERVATIONS)) if n else 0.0,
        exact_match=(n - len(errors)) / n if n else 0.0,
        errors=errors,
    )


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def format_table(result: Evaluation) -> str:
    """A Markdown table: support and F1 per class for each observation, then the overall numbers."""
    lines = [
        "| observation | support | precision | recall | F1 | n(1) | n(0) | n(-1) | F1 positive | F1 negative | F1 uncertain |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in result.per_observation:
        lines.append(
            f"| {s.observation} | {s.n_mentioned} | {_fmt(s.precision)} | {_fmt(s.recall)} | {_fmt(s.f1_all)} | "
            f"{s.support[1]} | {s.support[0]} | {s.support[-1]} | {_fmt(s.f1[1])} | {_fmt(s.f1[0])} | {_fmt(s.f1[-1])} |"
        )
    lines.append("")
    lines.append(
        f"{result.n_items} items; accuracy over all item x observation pairs (blank included) "
        f"{result.accuracy:.3f}; macro F1 {_fmt(macro_f1_all(result))}; exact match of whole label sets {result.exact_match:.3f}; "
        f"macro F1 positive {_fmt(macro_f1(result, 1))}, negative {_fmt(macro_f1(result, 0))}, "
        f"uncertain {_fmt(macro_f1(result, -1))}."
    )
    return "\n".join(lines)


def macro_f1(result: Evaluation, cls: int = 1) -> float | None:
    """Mean F1 of one class over the observations where that class occurs in the truth."""
    values = [s.f1[cls] for s in result.per_observation if s.support[cls] and s.f1[cls] is not None]
    return sum(values) / len(values) if values else None


def macro_f1_all(result: Evaluation) -> float | None:
    """Mean of the pooled per-observation F1 over observations mentioned at least once in the truth."""
    values = [s.f1_all for s in result.per_observation if s.n_mentioned and s.f1_all is not None]
    return sum(values) / len(values) if values else None
