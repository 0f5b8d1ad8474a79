"""Finding tokens: the probe, the token layout, and a tiny pipeline run that uses them end to end."""

import json

import pytest
import torch
from typer.testing import CliRunner

from radscribe.cli.main import app
from radscribe.cxr.labeler import OBSERVATIONS
from radscribe.xraygpt.finding_tokens import (check_visual_tokens, finding_token_inputs, fit_finding_head, macro_auc,
                                              pooled_features)


def _separable(n: int, seed: int):
    """Features whose first 14 dims (offset, scaled) carry the labels, plus noise dims."""
    gen = torch.Generator().manual_seed(seed)
    y = (torch.rand(n, len(OBSERVATIONS), generator=gen) < 0.3).float()
    x = torch.randn(n, 32, generator=gen)
    x[:, :14] = 5.0 + 3.0 * (2 * y - 1) + 0.5 * x[:, :14]  # far from zero mean: the folding must handle it
    return x, y


def test_probe_learns_held_out_findings_and_is_a_plain_linear_on_raw_features():
    x, y = _separable(400, 0)
    head = fit_finding_head(x, y)
    x_val, y_val = _separable(200, 1)
    with torch.no_grad():
        auc, per = macro_auc(head(x_val), y_val)  # raw features in: the standardisation is inside the weights
    assert auc > 0.99 and len(per) == len(OBSERVATIONS)
    shuffled = y_val[torch.randperm(len(y_val), generator=torch.Generator().manual_seed(2))]
    with torch.no_grad():
        assert macro_auc(head(x_val), shuffled)[0] < 0.65  # the check can fail: wrong labels score near chance
    assert not any(p.requires_grad for p in head.parameters())


def test_token_layout_grid_then_one_token_per_finding():
    tokens = torch.randn(3, 4, 32)
    head = torch.nn.Linear(32, len(OBSERVATIONS))
    x = finding_token_inputs(tokens, head)
    assert x.shape == (3, 4 + 14, 32 + 14)
    assert torch.equal(x[:, :4, :32], tokens) and not x[:, :4, 32:].any()  # grid tokens: zero-padded
    probs = torch.sigmoid(head(tokens.mean(1)))
    assert torch.allclose(x[:, 4:, 32:], torch.diag_embed(probs)) and not x[:, 4:, :32].any()
    with pytest.raises(ValueError, match="visual_tokens"):
        check_visual_tokens("grid+labels")


@pytest.fixture(scope="module")
def findings_run(tiny_data, tiny_config, tmp_path_factory):
    out = tmp_path_factory.mktemp("findings-run")
    config = {**tiny_config, "visual_tokens": "grid+findings", "train_base_baseline": False,
              "projection": {**tiny_config["projection"], "select_every": 0}}
    (out / "cfg.json").write_text(json.dumps(config))
    result = CliRunner().invoke(app, ["xraygpt", "train", "--data", str(tiny_data), "--out", str(out),
                                      "--config", str(out / "cfg.json"), "--threads", "1"])
    assert result.exit_code == 0, result.output
    return out


def test_pipeline_with_finding_tokens_saves_loads_and_chats(findings_run, tiny_data):
    from radscribe.xraygpt import load_model, read_manifest
    from radscribe.xraygpt.data import image_tensor

    folder = findings_run / "xraygpt-smollm2-lora"
    manifest = read_manifest(folder)
    assert manifest["visual_tokens"] == "grid+findings" and "finding_head.safetensors" in manifest["files"]
    assert manifest["metrics"]["encoder"]["finding_head"]["n_train"] == 16
    loaded = load_model(folder)
    model = loaded.model
    assert model.projection.in_features == 32 + 14
    image = image_tensor(tiny_data / "images" / "0002.png", loaded.image_size)
    assert model.visual_embeds(image[None]).shape == (1, 4 + 14, 576)
    # the saved head is the probe fitted on the frozen encoder's training features: refitting gives it again
    from radscribe.xraygpt.data import load_examples, split_examples
    from radscribe.xraygpt.medclip_loss import label_matrix

    train = split_examples(load_examples(tiny_data), "train")
    features = pooled_features(model.encoder, torch.stack([image_tensor(e.image_path, 64) for e in train]))
    refit = fit_finding_head(features, label_matrix([e.labels for e in train]))
    with torch.no_grad():
        assert torch.allclose(torch.sigmoid(refit(features)), torch.sigmoid(model.finding_head(features)), atol=1e-3)

    result = CliRunner().invoke(app, ["chat", str(tiny_data / "images" / "0002.png"), "--model", str(folder),
                                      "--prompt", "Is there cardiomegaly?", "--json", "--max-new-tokens", "4"])
    assert result.exit_code == 0, result.output
    findings = json.loads(result.stdout)["encoder_findings"]
    assert list(findings) == list(OBSERVATIONS) and all(0.0 <= p <= 1.0 for p in findings.values())


def test_abnormal_studies_repeated(tiny_data):
    from radscribe.xraygpt.data import load_examples
    from radscribe.xraygpt.train_projection import is_abnormal, with_abnormal_repeated

    examples = load_examples(tiny_data)
    n_abnormal = sum(is_abnormal(e) for e in examples)
    assert 0 < n_abnormal < len(examples)
    assert with_abnormal_repeated(examples, 1) == examples
    tripled = with_abnormal_repeated(examples, 3)
    assert len(tripled) == len(examples) + 2 * n_abnormal and sum(is_abnormal(e) for e in tripled) == 3 * n_abnormal
    with pytest.raises(ValueError, match="abnormal_repeat"):
        with_abnormal_repeated(examples, 0)


@pytest.mark.parametrize("train_lora", [False, True])
def test_lora_trains_with_the_projection_only_when_asked(tiny_run, tiny_data, tmp_path, train_lora):
    from radscribe.xraygpt import load_model
    from radscribe.xraygpt.data import load_examples, split_examples
    from radscribe.xraygpt.lora import lora_parameters, lora_state_dict
    from radscribe.xraygpt.train_projection import ProjectionTrainConfig, train_projection

    model = load_model(tiny_run / "xraygpt-smollm2-lora").model
    before = lora_state_dict(model.llm)
    projection_before = model.projection.weight.detach().clone()
    config = ProjectionTrainConfig(stage1_steps=2, stage2_steps=1, batch_size=2, warmup=1, max_answer_tokens=8,
                                   train_lora=train_lora, abnormal_repeat=2)
    train_projection(model, split_examples(load_examples(tiny_data), "train"), config, tmp_path, resume=False)
    after = lora_state_dict(model.llm)
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert bool(changed) == train_lora and not torch.equal(projection_before, model.projection.weight)
    assert not any(p.requires_grad for p in lora_parameters(model.llm))  # frozen again for chat and evaluation
    saved = torch.load(tmp_path / "stage1" / "train_state.pt", weights_only=False)["modules"]
    assert ("lora" in saved) == train_lora
    if train_lora:  # only the adapters are in the resumable state, never the LLM's own weights
        assert saved["lora"] and all(k.endswith(("lora_a", "lora_b")) for k in saved["lora"])


def test_label_question_auc_on_a_trained_checkpoint(tiny_run, tiny_data):
    from radscribe.xraygpt import load_model
    from radscribe.xraygpt.data import load_examples
    from radscribe.xraygpt.reliance import label_question_auc

    model = load_model(tiny_run / "xraygpt-smollm2-lora").model
    examples = load_examples(tiny_data)
    asked = ["Cardiomegaly", "Lung Opacity", "Pleural Effusion", "Fracture"]
    result = label_question_auc(model, examples, asked)
    with_both_classes = {n for n in asked if 0 < sum(e.labels.get(n) == 1 for e in examples) < len(examples)}
    assert set(result["auc"]) == with_both_classes and with_both_classes
    assert all(0.0 <= v <= 1.0 for v in result["auc"].values()) and 0.0 <= result["yes_rate"] <= 1.0
    assert result["n"] == len(examples) and label_question_auc(model, examples, asked) == result  # deterministic


def test_selection_on_label_questions_keeps_the_best_check(tiny_run, tiny_data, tmp_path):
    from radscribe.xraygpt import load_model
    from radscribe.xraygpt.data import load_examples, split_examples
    from radscribe.xraygpt.train_projection import ProjectionTrainConfig, train_projection

    model = load_model(tiny_run / "xraygpt-smollm2-lora").model
    examples = load_examples(tiny_data)
    config = ProjectionTrainConfig(stage1_steps=0, stage2_steps=3, batch_size=2, warmup=1, max_answer_tokens=8,
                                   select_every=1, select_on="label_questions", select_examples=8)
    metrics = train_projection(model, split_examples(examples, "train"), config, tmp_path, resume=False,
                               val=split_examples(examples, "validate") + split_examples(examples, "test"))
    record = metrics["stage2"]
    assert record["selected_on"] == "label_questions" and [e["step"] for e in record["evaluations"]] == [1, 2, 3]
    assert all("yes_rate" in e and 0.0 <= e["score"] <= 1.0 for e in record["evaluations"])
    assert record["kept_step"] == max(record["evaluations"], key=lambda e: e["score"])["step"]
