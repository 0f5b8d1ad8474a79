"""Merging datasets: images reachable through the links, one split per patient, no overwrite."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from radscribe.cli.main import app
from radscribe.ctiqa.dataset import DatasetConfig, make_dataset, read_records
from radscribe.ctiqa.dataset.merge import merge_datasets
from radscribe.errors import ConfigError, InputError
from radscribe.io import read_image


@pytest.fixture(scope="module")
def two_sizes(tmp_path_factory):
    """The same seed at two sizes: the same phantom patients, split by two independent draws."""
    root = tmp_path_factory.mktemp("merge")
    for size in (128, 160):
        make_dataset(DatasetConfig(out=str(root / f"s{size}"), n=8, seed=3, size=size))
    return root


def test_merge_keeps_every_record_and_one_split_per_patient(two_sizes):
    out = two_sizes / "merged"
    summary = merge_datasets(out, [two_sizes / "s128", two_sizes / "s160"])
    records = read_records(out)
    assert len(records) == 16 and summary["sources"] == {"s128": 8, "s160": 8}
    assert [r["index"] for r in records] == list(range(16))
    first = {r["anatomy_id"]: r["split"] for r in read_records(two_sizes / "s128")}
    for r in records:
        assert r["split"] == first[r["anatomy_id"]]  # the first source decides
        assert read_image(out / r["image"])[0].pixels.shape[0] == (128 if r["source_dataset"] == "s128" else 160)
    originals = [r["split"] for name in ("s128", "s160") for r in read_records(two_sizes / name)]
    assert summary["split_changed"] == sum(a != b["split"] for a, b in zip(originals, records))


def test_merge_refuses_an_existing_dataset_and_a_non_dataset(two_sizes, tmp_path):
    with pytest.raises(ConfigError, match="already holds"):
        merge_datasets(two_sizes / "s128", [two_sizes / "s160"])
    with pytest.raises(InputError, match="not a CT-IQA dataset"):
        merge_datasets(tmp_path / "m", [tmp_path])


def test_merge_cli_prints_counts(two_sizes):
    result = CliRunner().invoke(app, ["data", "merge-ctiqa", str(two_sizes / "s128"), str(two_sizes / "s160"),
                                      "--out", str(two_sizes / "cli"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["sources"] == {"s128": 8, "s160": 8}
