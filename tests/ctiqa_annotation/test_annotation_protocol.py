"""The protocol table and score formula on their own (no simulation)."""

from __future__ import annotations

import math

import pytest

from radscribe.ctiqa.annotation import (
    ASPECTS,
    CATEGORIES,
    THRESHOLDS,
    burden,
    category_of,
    score_from_burdens,
    severity_of,
)


@pytest.mark.parametrize("aspect", ASPECTS)
def test_thresholds_increase_and_burden_hits_severity_edges(aspect):
    points = THRESHOLDS[aspect]["points"]
    assert len(points) == 5 and all(b >= a for a, b in zip(points, points[1:]))
    for k, name in enumerate(("mild", "moderate", "severe"), start=1):
        assert severity_of(burden(aspect, points[k] * 1.001 + 1e-6)) == name
        assert severity_of(burden(aspect, points[k] * 0.999 - 1e-9)) != name
    assert burden(aspect, 0.0) == 0.0 and burden(aspect, float("nan")) == 0.0
    assert burden(aspect, points[4] * 10) == 4.0


@pytest.mark.parametrize("aspect", ASPECTS)
def test_burden_is_monotone(aspect):
    top = THRESHOLDS[aspect]["points"][4] * 1.5
    xs = [top * i / 200 for i in range(201)]
    us = [burden(aspect, x) for x in xs]
    assert all(b >= a for a, b in zip(us, us[1:]))


def test_score_grid_and_bounds():
    scores = set()
    for i in range(400):
        burdens = {a: ((i * 7 + j * 13) % 41) / 10.0 * (j == i % 6) for j, a in enumerate(ASPECTS)}
        s = score_from_burdens(burdens)
        assert 0.0 <= s <= 4.0
        assert math.isclose(s * 5, round(s * 5), abs_tol=1e-9)
        scores.add(s)
    assert score_from_burdens({a: 0.0 for a in ASPECTS}) == 4.0
    assert len(scores) > 5


def test_any_severe_aspect_scores_at_most_one():
    for aspect in ASPECTS:
        burdens = {a: 0.0 for a in ASPECTS}
        burdens[aspect] = 3.0
        assert score_from_burdens(burdens) <= 1.0
        assert score_from_burdens({**burdens, aspect: 1.5}) > 2.0  # mild alone stays above fair's floor


def test_one_mild_aspect_is_good_and_one_moderate_is_fair():
    for aspect in ASPECTS:
        for u, expected in ((1.5, "good"), (2.5, "fair"), (3.5, "poor"), (4.0, "bad")):
            burdens = {a: 0.0 for a in ASPECTS}
            burdens[aspect] = u
            assert category_of(score_from_burdens(burdens)) == expected, (aspect, u)


def test_more_burden_never_raises_the_score():
    base = {a: 0.5 for a in ASPECTS}
    for aspect in ASPECTS:
        assert score_from_burdens({**base, aspect: 2.5}) <= score_from_burdens(base)


def test_category_is_the_rounded_score():
    assert [category_of(s) for s in (0.0, 0.4, 0.6, 1.4, 1.6, 2.4, 2.6, 3.4, 3.6, 4.0)] == [
        "bad", "bad", "poor", "poor", "fair", "fair", "good", "good", "excellent", "excellent"]
    assert set(CATEGORIES) == {"bad", "poor", "fair", "good", "excellent"}
