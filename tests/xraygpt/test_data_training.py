"""Reading make-cxr annotations, the lr schedule, and that a resumed run equals an unbroken one."""

import json

import pytest
import torch

from radscribe.errors import InputError
from radscribe.xraygpt.data import hash_split, load_image_batch, read_annotations, split_examples
from radscribe.xraygpt.training import Dist, lr_at, run_loop


def test_read_annotations(tiny_data):
    examples = read_annotations(tiny_data)
    assert len(examples) == 24 and all(e.synthetic for e in examples)
    assert {e.split for e in examples} == {"train", "validate", "test"}
    assert len(split_examples(examples, "val")) == len(split_examples(examples, "validate")) == 4
    images = load_image_batch(examples[:3], 32)
    assert images.shape == (3, 1, 32, 32) and torch.isfinite(images).all()


def test_bad_annotation_line_names_the_file(tmp_path):
    (tmp_path / "annotations.jsonl").write_text(json.dumps({"image": "a.png"}) + "\n")
    with pytest.raises(InputError, match="annotations.jsonl: line 1"):
        read_annotations(tmp_path)
    with pytest.raises(InputError, match="make-cxr"):
        read_annotations(tmp_path / "missing")


def test_hash_split_is_stable():
    assert hash_split("s1234") == hash_split("s1234")
    splits = [hash_split(f"s{i}") for i in range(2000)]
    assert 0.05 < splits.count("test") / 2000 < 0.15


def test_lr_schedule():
    assert lr_at(0, 100, 1.0, 0.1, 10) == pytest.approx(0.1)
    assert lr_at(9, 100, 1.0, 0.1, 10) == pytest.approx(1.0)
    assert lr_at(100, 100, 1.0, 0.1, 10) == pytest.approx(0.1)


def _train(tmp, steps, data, resume=True, crash_at=None, selection=None):
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.AdamW(model.parameters(), lr=0.1)

    def step_fn(idx, step):
        if step == crash_at:
            raise KeyboardInterrupt("simulated crash")
        x, y = data[0][idx], data[1][idx]
        return ((model(x) - y) ** 2).mean()

    result = run_loop(name="t", steps=steps, step_fn=step_fn, params=list(model.parameters()), optimizer=opt,
                      lr=(0.1, 0.01), warmup=1, batch_size=4, n_examples=16, seed=3, out_dir=tmp, modules={"m": model},
                      d=Dist(), save_every=2, resume=resume, selection=selection)
    return model, result


def _scripted_selection(scores):
    """A Selection whose n-th check scores scores[n]; it also records the weight it saw then."""
    from radscribe.xraygpt.training import Selection

    seen = []
    selection = Selection(lambda: {"score": scores[len(seen) - 1], "check": len(seen) - 1}, every=2)
    original = selection.check

    def check(step, modules):
        seen.append(modules["m"].weight.detach().clone())
        original(step, modules)
    selection.check = check
    return selection, seen


def test_selection_keeps_the_best_checked_state(tmp_path):
    data = (torch.randn(16, 3), torch.randn(16, 1))
    selection, seen = _scripted_selection([1.0, 5.0, 2.0])  # checks at steps 2, 4, 6: the one at 4 is best
    model, result = _train(tmp_path / "a", 6, data, selection=selection)
    assert [e["step"] for e in result.evaluations] == [2, 4, 6] and result.kept_step == 4
    assert torch.equal(model.weight, seen[1]) and not torch.equal(model.weight, seen[2])


def test_selection_survives_a_resume(tmp_path):
    data = (torch.randn(16, 3), torch.randn(16, 1))
    straight, _ = _train(tmp_path / "a", 6, data, selection=_scripted_selection([1.0, 5.0, 2.0])[0])
    with pytest.raises(KeyboardInterrupt):  # crashes at step 5: the best (step 4) was saved with the state
        _train(tmp_path / "b", 6, data, crash_at=5, selection=_scripted_selection([1.0, 5.0, 2.0])[0])
    resumed, result = _train(tmp_path / "b", 6, data, selection=_scripted_selection([2.0])[0])
    assert result.resumed_from == 4 and result.kept_step == 4 and [e["step"] for e in result.evaluations] == [2, 4, 6]
    assert torch.allclose(resumed.weight, straight.weight, atol=1e-6)


def test_resumed_run_equals_unbroken_run(tmp_path):
    data = (torch.randn(16, 3), torch.randn(16, 1))
    straight, _ = _train(tmp_path / "a", 6, data)
    _train(tmp_path / "b", 6, data)  # writes state at step 6 ...
    state = torch.load(tmp_path / "b" / "train_state.pt", weights_only=False)
    assert state["step"] == 6
    # ... now a run that crashed at step 4 (state saved every 2 steps) and was started again
    with pytest.raises(KeyboardInterrupt):
        _train(tmp_path / "c", 6, data, crash_at=4)
    resumed, result = _train(tmp_path / "c", 6, data)
    assert result.resumed_from == 4 and len(result.losses) == 6
    assert torch.allclose(resumed.weight, straight.weight, atol=1e-6)


def test_reads_real_make_cxr_output(tmp_path):
    """The loader reads what `radscribe data make-cxr` writes (helper C's schema), not only our fixture."""
    from typer.testing import CliRunner

    from radscribe.cli.main import app

    result = CliRunner().invoke(app, ["data", "make-cxr", "--out", str(tmp_path), "--n", "4", "--size", "64"])
    assert result.exit_code == 0, result.output
    examples = read_annotations(tmp_path)
    assert len(examples) == 4 and all(e.synthetic and e.image_path.is_file() and e.summary for e in examples)
    assert load_image_batch(examples, 32).shape == (4, 1, 32, 32)


def test_resume_restores_batchnorm_statistics(tmp_path):
    from radscribe.xraygpt.training import load_state, save_state, trainable_state

    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2))
    net.train()
    net(torch.randn(4, 1, 8, 8) * 5 + 3)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    save_state(tmp_path, 1, {"net": net}, opt, {})
    fresh = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2))
    fresh.load_state_dict(load_state(tmp_path)["modules"]["net"], strict=False)
    assert torch.equal(fresh[1].running_mean, net[1].running_mean) and "1.running_var" in trainable_state(net)
