"""Patient-level splits and the crash-safe annotations log."""

from __future__ import annotations

from collections import Counter

import pytest

from radscribe.ctiqa.dataset.records import RecordLog, caption_from_score, read_records, score_category
from radscribe.ctiqa.dataset.splits import assign_splits, plan_slices
from radscribe.errors import InputError


def test_assign_splits_is_80_10_10_and_seeded():
    ids = [f"p{i}" for i in range(100)]
    splits = assign_splits(ids, seed=0)
    assert Counter(splits.values()) == {"train": 80, "val": 10, "test": 10}
    assert splits == assign_splits(ids, seed=0)
    assert splits != assign_splits(ids, seed=1)


def test_plan_keeps_each_patient_in_one_split():
    specs = plan_slices(400, seed=3, anatomies=("abdomen", "chest", "head", "pelvis"), per_patient=3)
    split_of = {}
    for s in specs:
        assert split_of.setdefault(s.anatomy_id, s.split) == s.split
    assert len(split_of) == 134  # ceil(400 / 3) patients
    assert Counter(s.anatomy for s in specs[:8]) == {"abdomen": 3, "chest": 3, "head": 2}  # cycles per patient
    assert len({s.seed for s in specs}) == 400  # every slice its own random stream
    assert specs == plan_slices(400, seed=3, anatomies=("abdomen", "chest", "head", "pelvis"), per_patient=3)


def test_small_plans_still_have_every_split():
    specs = plan_slices(3, seed=0, anatomies=("head",), per_patient=1)
    assert sorted(s.split for s in specs) == ["test", "train", "val"]


def test_record_log_drops_a_partial_last_line(tmp_path):
    path = tmp_path / "annotations.jsonl"
    with RecordLog(path) as log:
        log.append({"index": 0})
        log.append({"index": 1})
    with open(path, "ab") as handle:
        handle.write(b'{"index": 2, "ima')  # a kill in the middle of a write
    assert [r["index"] for r in read_records(tmp_path)] == [0, 1]
    with RecordLog(path) as log:  # reopening cuts the fragment off before appending
        log.append({"index": 2})
    assert [r["index"] for r in read_records(path)] == [0, 1, 2]
    assert path.read_bytes().count(b"\n") == 3


def test_read_records_needs_a_dataset(tmp_path):
    with pytest.raises(InputError, match="make-ctiqa"):
        read_records(tmp_path)


@pytest.mark.parametrize("score, category", [(0.0, "bad"), (1.49, "poor"), (2.5, "good"), (3.2, "good"), (4.0, "excellent")])
def test_score_category_and_template(score, category):
    assert score_category(score) == category
    assert category in caption_from_score(score)


def test_real_slices_are_spread_over_patients_and_within_each():
    """A folder of many scans: --n/--per-patient slices come from every patient, evenly spaced in each."""
    from types import SimpleNamespace

    from radscribe.ctiqa.dataset.writer import spread_over_patients

    slices = [SimpleNamespace(anatomy_id=f"real-{patient}-f{i}") for patient, n in (("a", 10), ("b", 2), ("c", 6))
              for i in range(n)]
    picked = [s.anatomy_id for s in spread_over_patients(slices, 9)]
    assert picked == ["real-a-f0", "real-b-f0", "real-c-f0", "real-a-f3", "real-b-f1", "real-c-f2",
                      "real-a-f6", "real-c-f5", "real-a-f9"]
    assert spread_over_patients(slices, 18) == slices and spread_over_patients(slices, 40) == slices  # all, in order
