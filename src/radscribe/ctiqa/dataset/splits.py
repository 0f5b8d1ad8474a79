"""Which patient each slice comes from, and which split each patient belongs to.

The plan is a pure function of the flags (n, seed, anatomies, slices per patient), so a
resumed run rebuilds exactly the same plan and can skip the indices already written.
Splits are made by ``anatomy_id``: all slices of one patient land in one split.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SPLIT_FRACTIONS = (("train", 0.8), ("val", 0.1), ("test", 0.1))


@dataclass(frozen=True)
class SliceSpec:
    """What slice ``index`` of the dataset is: which patient, which split, which random stream."""

    index: int
    anatomy: str
    phantom_seed: int
    anatomy_id: str
    split: str
    seed: int  # seeds the acquisition sampling and the simulator's noise for this slice


def assign_splits(patient_ids: list[str], seed: int, fractions=SPLIT_FRACTIONS) -> dict[str, str]:
    """Shuffle patients with ``seed`` and cut 80/10/10 (rounded; every split non-empty once there are >= 3)."""
    order = np.random.default_rng([seed, 0x5B117]).permutation(len(patient_ids))
    n = len(patient_ids)
    counts = [int(round(f * n)) for _, f in fractions[1:]]
    if n >= len(fractions):
        counts = [max(1, c) for c in counts]
    n_train = n - sum(counts)
    bounds = np.cumsum([n_train] + counts)
    splits = {}
    for rank, i in enumerate(order):
        k = int(np.searchsorted(bounds, rank, side="right"))
        splits[patient_ids[i]] = fractions[k][0]
    return splits


def plan_slices(n: int, seed: int, anatomies: tuple[str, ...], per_patient: int) -> list[SliceSpec]:
    """``n`` slices from ``ceil(n / per_patient)`` phantom patients; anatomies cycle patient by patient."""
    n_patients = math.ceil(n / per_patient)
    patients = []
    for p in range(n_patients):
        anatomy = anatomies[p % len(anatomies)]
        phantom_seed = seed * 1_000_003 + p  # distinct patients for distinct dataset seeds
        patients.append((anatomy, phantom_seed, f"{anatomy}-{phantom_seed:06d}"))
    splits = assign_splits([pid for _, _, pid in patients], seed)
    specs = []
    for index in range(n):
        anatomy, phantom_seed, pid = patients[index // per_patient]
        specs.append(SliceSpec(index, anatomy, phantom_seed, pid, splits[pid], seed_for(seed, index)))
    return specs


def seed_for(dataset_seed: int, index: int) -> int:
    """A 31-bit seed for slice ``index``, independent across indices and dataset seeds."""
    return int(np.random.default_rng([dataset_seed, index, 0xC7]).integers(0, 2**31 - 1))
