"""Every registered baseline trains and predicts on the tiny dataset; the monotone fit on known values."""

import numpy as np
import pytest

from radscribe.iqagpt.baselines.classical import isotonic_decreasing
from radscribe.iqagpt.baselines.train import BASELINES, BaselineConfig, fit, load_baseline, predict, save_baseline
from radscribe.iqagpt.data import load_splits
from radscribe.iqagpt.models.encoder import EncoderConfig
from radscribe.iqagpt.tokenizer import WordTokenizer


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_baseline_fit_predict_save_load(name, tiny_data, tmp_path):
    train = load_splits(tiny_data, ["train"])
    cfg = BaselineConfig(epochs=1, batch_size=8, widths=(8, 16, 16), stem_stride=4)
    enc = EncoderConfig(widths=cfg.widths)
    tok = WordTokenizer.build(train.captions)
    model = BASELINES[name](enc, tok)
    fit(model, train, cfg)
    scores, aspects = predict(model, train.images[:5])
    assert scores.shape == (5,) and aspects.shape == (5, 6)
    assert np.all(np.isfinite(scores)) and scores.min() >= 0.0 and scores.max() <= 4.0
    save_baseline(model, tmp_path / name)
    again = BASELINES[name](enc, tok)
    assert load_baseline(again, tmp_path / name)
    np.testing.assert_allclose(predict(again, train.images[:5])[0], scores, rtol=1e-5, atol=1e-6)


def test_isotonic_decreasing_pools_violators():
    x, y = np.array([1.0, 2, 3, 4, 5]), np.array([4.0, 3, 3.5, 1, 0])
    kx, ky = isotonic_decreasing(x, y)
    np.testing.assert_allclose(ky, [4.0, 3.25, 1.0, 0.0])
    assert np.all(np.diff(ky) <= 0)


def test_benchmark_resumes_the_baselines_it_finished(tiny_data, tmp_path):
    """A benchmark stopped after one baseline reuses that one and trains only the others on the rerun."""
    from radscribe.iqagpt.benchmark import BenchmarkConfig, train_baselines

    names = ("multitask_classification", "noise_sigma")
    cfg = BenchmarkConfig(data=str(tiny_data), out=str(tmp_path), baselines=names,
                          baseline=BaselineConfig(epochs=1, batch_size=8, widths=(8, 16, 16), stem_stride=4))
    train = load_splits(tiny_data, ["train"])
    _, first = train_baselines(cfg, train, None)
    assert not any(i.get("reused") for i in first.values())
    (tmp_path / "baselines" / "noise_sigma.signature.json").unlink()  # as if stopped before it finished
    _, again = train_baselines(cfg, train, None)
    # reused, and its BatchNorm statistics recomputed over the training slices (all of them: fewer than 2,048)
    assert again["multitask_classification"] == {"reused": True, "batchnorm_recalibrated_on": len(train)}
    assert not again["noise_sigma"].get("reused")
    changed = BenchmarkConfig(data=str(tiny_data), out=str(tmp_path), baselines=names,
                              baseline=BaselineConfig(epochs=2, batch_size=8, widths=(8, 16, 16), stem_stride=4))
    _, other = train_baselines(changed, train, None)
    assert not any(i.get("reused") for i in other.values())  # another config: nothing reused
