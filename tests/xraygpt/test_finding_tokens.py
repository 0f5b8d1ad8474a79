"""Finding tokens: the probe, the token layout, and a tiny pipeline run that uses them end to end."""

import json
from dataclasses import replace

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


def test_token_layout_grid_then_present_and_absent_slots_per_finding():
    tokens = torch.randn(3, 4, 32)
    head = torch.nn.Linear(32, len(OBSERVATIONS))
    x = finding_token_inputs(tokens, head)
    assert x.shape == (3, 4 + 14, 32 + 28)
    assert torch.equal(x[:, :4, :32], tokens) and not x[:, :4, 32:].any()  # grid tokens: zero-padded
    probs = torch.sigmoid(head(tokens.mean(1)))
    assert torch.allclose(x[:, 4:, 32:46], torch.diag_embed(probs)) and not x[:, 4:, :32].any()
    assert torch.allclose(x[:, 4:, 46:], torch.diag_embed(1 - probs))
    forced = finding_token_inputs(tokens, head, torch.full((3, 14), 0.5))  # guidance's null run
    assert torch.equal(forced[:, 4:, 32:46], forced[:, 4:, 46:]) and torch.equal(forced[:, :4], x[:, :4])
    with pytest.raises(ValueError, match="visual_tokens"):
        check_visual_tokens("grid+labels")


def test_word_initialised_projection_makes_a_sure_finding_read_like_its_name():
    from radscribe.xraygpt.finding_tokens import FINDING_WORDS, finding_word_columns, init_projection_from_words
    from radscribe.xraygpt.model import load_llm

    llm, tokenizer = load_llm(1)
    columns = finding_word_columns(llm, tokenizer)
    assert columns.shape == (576, 28)
    projection = torch.nn.Linear(32 + 28, 576)
    grid_columns = projection.weight[:, :32].detach().clone()
    init_projection_from_words(projection, 32, columns)
    embed = llm.get_input_embeddings().weight
    cardio = OBSERVATIONS.index("Cardiomegaly")
    probs = torch.zeros(2, 14)
    probs[0, cardio] = 1.0
    with torch.no_grad():
        out = projection(finding_token_inputs(torch.randn(2, 4, 32), None, probs))
    word = embed[tokenizer(" cardiomegaly", add_special_tokens=False)["input_ids"]].mean(0)
    negation = embed[tokenizer(" " + FINDING_WORDS["Cardiomegaly"][1], add_special_tokens=False)["input_ids"]].mean(0)
    assert torch.allclose(out[0, 4 + cardio], word, atol=1e-6)  # present: the name's embedding
    assert torch.allclose(out[1, 4 + cardio], negation, atol=1e-6)  # absent: the negation's
    assert torch.equal(projection.weight[:, :32], grid_columns) and not projection.bias.any()


def test_label_probabilities_and_their_jitter():
    from radscribe.xraygpt.finding_tokens import label_probabilities

    labels = [{"Cardiomegaly": 1, "Edema": -1, "Fracture": 0}] * 200
    exact = label_probabilities(labels[:1])[0]
    assert exact[OBSERVATIONS.index("Cardiomegaly")] == 1 and exact[OBSERVATIONS.index("Edema")] == 0.5
    assert exact[OBSERVATIONS.index("Fracture")] == 0 and exact[OBSERVATIONS.index("Pneumothorax")] == 0
    jittered = label_probabilities(labels, torch.Generator().manual_seed(0))
    pos, unc, neg = (jittered[:, OBSERVATIONS.index(n)] for n in ("Cardiomegaly", "Edema", "Fracture"))
    assert pos.min() >= 0.7 and neg.max() <= 0.3 and 0.3 <= unc.min() and unc.max() <= 0.7
    assert pos.std() > 0.05  # jittered, not constant


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
    assert model.projection.in_features == 32 + 28
    assert manifest["metrics"]["llm_lora"]["grounded"] is True  # the LoRA was tuned to read finding tokens
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
    gated = CliRunner().invoke(app, ["chat", str(tiny_data / "images" / "0002.png"), "--model", str(folder), "--prompt",
                                     "Describe.", "--json", "--max-new-tokens", "4", "--guidance", "4", "--guidance-gate", "1.01"])
    assert gated.exit_code == 0, gated.output  # no reading reaches 1.01: nothing to amplify, plain decoding
    assert json.loads(gated.stdout)["guidance"] == 0 and json.loads(gated.stdout)["guidance_gate"] == 1.01


def test_the_manifest_chooses_guidance_null_reading(findings_run, tiny_data, tmp_path):
    import shutil

    from radscribe.errors import ConfigError
    from radscribe.xraygpt import load_model
    from radscribe.xraygpt.data import image_tensor

    folder = tmp_path / "normal-null"
    shutil.copytree(findings_run / "xraygpt-smollm2-lora", folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    image = image_tensor(tiny_data / "images" / "0002.png", 64)[None]
    default = load_model(findings_run / "xraygpt-smollm2-lora").model
    assert default.guidance_null == "uncertain"  # no decoding.guidance_null: every observation at 0.5, as before
    with torch.no_grad():
        assert torch.equal(default.null_embeds(image), default.visual_embeds(image, torch.full((1, 14), 0.5)))
    manifest["decoding"] = {**manifest.get("decoding", {}), "guidance_null": "normal"}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    model = load_model(folder).model
    normal = torch.zeros(1, 14)
    normal[0, OBSERVATIONS.index("No Finding")] = 1.0
    with torch.no_grad():
        assert torch.equal(model.null_embeds(image), model.visual_embeds(image, normal))
        assert not torch.equal(model.null_embeds(image), default.null_embeds(image))
    manifest["decoding"]["guidance_null"] = "nothing"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ConfigError, match="guidance_null"):
        load_model(folder)


def test_abnormal_studies_repeated(tiny_data):
    from radscribe.xraygpt.data import load_examples
    from radscribe.xraygpt.train_projection import is_abnormal, with_abnormal_repeated

    examples = load_examples(tiny_data)
    n_abnormal = sum(is_abnormal(e.labels) for e in examples)
    assert 0 < n_abnormal < len(examples)
    assert with_abnormal_repeated(examples, 1) == examples
    tripled = with_abnormal_repeated(examples, 3)
    assert len(tripled) == len(examples) + 2 * n_abnormal and sum(is_abnormal(e.labels) for e in tripled) == 3 * n_abnormal
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


def test_frozen_finding_words_leave_only_the_grid_columns_training(findings_run, tiny_run, tiny_data, tmp_path):
    from radscribe.xraygpt import load_model
    from radscribe.xraygpt.data import load_examples, split_examples
    from radscribe.xraygpt.train_projection import ProjectionTrainConfig, train_projection

    train = split_examples(load_examples(tiny_data), "train")
    model = load_model(findings_run / "xraygpt-smollm2-lora").model
    grid = model.encoder.config.token_dim
    weight, bias = model.projection.weight.detach().clone(), model.projection.bias.detach().clone()
    config = ProjectionTrainConfig(stage1_steps=2, stage2_steps=1, batch_size=2, warmup=1, max_answer_tokens=8,
                                   freeze_finding_words=True)
    train_projection(model, train, config, tmp_path / "frozen", resume=False)
    assert torch.equal(model.projection.weight[:, grid:], weight[:, grid:]) and torch.equal(model.projection.bias, bias)
    assert not torch.equal(model.projection.weight[:, :grid], weight[:, :grid])
    model.projection.weight.sum().backward()  # the hooks are gone after training
    assert model.projection.weight.grad[:, grid:].abs().sum() > 0
    grid_only = load_model(tiny_run / "xraygpt-smollm2-lora").model
    with pytest.raises(ValueError, match="freeze_finding_words"):
        train_projection(grid_only, train, config, tmp_path / "grid", resume=False)


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


def test_grounded_tuning_reads_labels_and_needs_them(tiny_data, tmp_path):
    from radscribe.xraygpt.data import load_examples
    from radscribe.xraygpt.finding_tokens import finding_slots
    from radscribe.xraygpt.lora import lora_state_dict
    from radscribe.xraygpt.model import load_llm
    from radscribe.xraygpt.pipeline import report_labels
    from radscribe.xraygpt.train_llm import LLMTuneConfig, tune_llm
    from radscribe.xraygpt.train_projection import is_abnormal

    examples = load_examples(tiny_data)
    texts, ids = [e.summary for e in examples] + ["Large right pleural effusion."], [e.report_id for e in examples] + ["X"]
    labels = report_labels(examples, texts, ids)
    assert labels[:-1] == [e.labels for e in examples]  # an example's own labels are kept
    assert labels[-1].get("Pleural Effusion") == 1  # a text without an example is read by the labeler
    llm, tokenizer = load_llm(1)
    seen = []

    def prefix(probs):
        seen.append(probs)
        return finding_slots(probs, 0) @ torch.randn(576, 28).T * 0.01

    config = LLMTuneConfig(steps=2, batch_size=2, warmup=1, max_answer_tokens=8)
    with pytest.raises(ValueError, match="label"):
        tune_llm(llm, tokenizer, texts, config, tmp_path / "x", resume=False, finding_prefix=prefix)
    with pytest.raises(ValueError, match="abnormal_repeat"):  # repeating needs the labels of grounded tuning
        tune_llm(llm, tokenizer, texts, replace(config, abnormal_repeat=2), tmp_path / "x", resume=False)
    with pytest.raises(ValueError, match="finding_balance"):
        tune_llm(llm, tokenizer, texts, replace(config, finding_balance=50), tmp_path / "x", resume=False)
    metrics = tune_llm(llm, tokenizer, texts, replace(config, abnormal_repeat=3), tmp_path / "y", resume=False,
                       labels=labels, finding_prefix=prefix)
    n_abnormal = sum(is_abnormal(row) for row in labels)
    assert metrics["n_texts"] == len(texts) and metrics["n_per_pass"] == len(texts) + 2 * n_abnormal
    assert metrics["grounded"] and len(seen) == 2 and seen[0].shape == (2, 14)
    assert any(v.abs().sum() > 0 for k, v in lora_state_dict(llm).items() if k.endswith("lora_b"))  # it trained


def test_rare_findings_are_repeated_up_to_the_balance():
    from radscribe.xraygpt.train_llm import with_rare_findings_repeated

    labels = [{"No Finding": 1}] * 4 + [{"Lung Opacity": 1}] * 4 + [{"Lung Opacity": 1, "Pleural Effusion": 1},
                                                                   {"Fracture": 1, "Pleural Effusion": -1}]
    order = list(range(len(labels))) + [9]  # the fracture already shown twice
    shown = with_rare_findings_repeated(order, labels, balance=8)
    times = {i: shown.count(i) for i in range(len(labels))}
    # opacity is in 5 summaries: ceil(8 / 5) = 2; effusion (rarest of row 8) in 1: 8; fracture in 1: 8 (2 already)
    assert times == {0: 1, 1: 1, 2: 1, 3: 1, 4: 2, 5: 2, 6: 2, 7: 2, 8: 8, 9: 8} and shown[:len(order)] == order
    assert with_rare_findings_repeated(order, labels, balance=100, most=5).count(8) == 5  # capped


def test_guidance_on_finding_tokens_contrasts_with_an_uninformative_reading(findings_run, tiny_data):
    from radscribe.xraygpt import load_model
    from radscribe.xraygpt.data import image_tensor
    from radscribe.xraygpt.guidance import guided_logits

    loaded = load_model(findings_run / "xraygpt-smollm2-lora")
    model = loaded.model
    image = image_tensor(tiny_data / "images" / "0002.png", loaded.image_size)
    null = model.null_embeds(image[None])
    real = model.visual_embeds(image[None])
    assert null.shape == real.shape and torch.equal(null[:, :4], real[:, :4])  # same grid tokens
    assert not torch.allclose(null[:, 4:], real[:, 4:])  # finding tokens at 0.5 instead of the probe's reading
    with torch.no_grad():  # stage-1 form (no prompt): the runs are the visual tokens alone
        with_image, without = (model.llm(inputs_embeds=x).logits[0, -1] for x in (real, null))
    first = next(model.iter_token_ids(image, "", max_new_tokens=1, guidance=4.0))
    assert first == int(torch.argmax(guided_logits(with_image, without, 4.0)))


def test_batched_decoding_gives_the_single_image_answers_with_finding_token_guidance(findings_run, tiny_data):
    from radscribe.xraygpt import load_model
    from radscribe.xraygpt.batch_decode import generate_batch
    from radscribe.xraygpt.data import image_tensor

    model = load_model(findings_run / "xraygpt-smollm2-lora").model
    images = torch.stack([image_tensor(tiny_data / "images" / f"000{i}.png", 64) for i in range(5)])
    for weight in (0.0, 3.0):  # the null rows are the same images with every finding at 0.5
        single = [model.generate(image, "###Patient: Describe. ###Doctor:", max_new_tokens=6, guidance=weight)
                  for image in images]
        assert generate_batch(model, images, "###Patient: Describe. ###Doctor:", max_new_tokens=6, guidance=weight,
                              batch_size=2) == single


def test_gated_guidance_decodes_normal_reads_plainly_in_batches_and_in_chat(findings_run, tiny_data):
    from radscribe.xraygpt import load_model
    from radscribe.xraygpt.batch_decode import generate_batch
    from radscribe.xraygpt.chat import ChatSession, ImageInput
    from radscribe.xraygpt.data import image_tensor
    from radscribe.xraygpt.guidance import FINDING_COLUMNS

    loaded = load_model(findings_run / "xraygpt-smollm2-lora")
    model = loaded.model
    images = torch.stack([image_tensor(tiny_data / "images" / f"000{i}.png", 64) for i in range(6)])
    strongest = model.finding_reading(images)[:, FINDING_COLUMNS].amax(1)
    gate = float(strongest.median())  # some images above the gate, some below
    guided = strongest >= gate
    assert 0 < int(guided.sum()) < len(images)
    prompt = "###Patient: Describe. ###Doctor:"
    single = [model.generate(image, prompt, max_new_tokens=6, guidance=4.0 if hit else 0.0)
              for image, hit in zip(images, guided.tolist())]
    assert generate_batch(model, images, prompt, max_new_tokens=6, guidance=4.0, guidance_gate=gate, batch_size=2) == single
    for image, hit in zip(images, guided.tolist()):  # chat applies the same gate to its one image
        session = ChatSession(loaded, ImageInput(image, "x.png", None, "unknown"), guidance=4.0, guidance_gate=gate)
        assert session.guidance_weight == (4.0 if hit else 0.0)


def test_batched_decoding_reads_given_findings(findings_run, tiny_data):
    """With every finding given as 0.5 the image run equals guidance's null run, so guidance changes nothing."""
    from radscribe.xraygpt import load_model
    from radscribe.xraygpt.batch_decode import generate_batch
    from radscribe.xraygpt.data import image_tensor

    model = load_model(findings_run / "xraygpt-smollm2-lora").model
    images = torch.stack([image_tensor(tiny_data / "images" / f"000{i}.png", 64) for i in range(3)])
    half = torch.full((3, 14), 0.5)
    plain = generate_batch(model, images, "", max_new_tokens=6, finding_probs=half)
    assert generate_batch(model, images, "", max_new_tokens=6, guidance=4.0, finding_probs=half) == plain
    with torch.no_grad():  # the head's own reading, given explicitly: the same answers as without the knob
        own = torch.sigmoid(model.finding_head(model.encoder(images)[0].mean(1)))
    assert generate_batch(model, images, "", max_new_tokens=6, finding_probs=own) == \
        generate_batch(model, images, "", max_new_tokens=6)


def test_a_rerun_reuses_the_kept_probe_instead_of_refitting_it(findings_run, tiny_data):
    from safetensors.torch import load_file, save_file

    from radscribe.xraygpt import load_model

    kept = findings_run / "work" / "finding-head" / "finding_head.safetensors"
    state = load_file(str(kept))
    saved_in_checkpoint = load_model(findings_run / "xraygpt-smollm2-lora").model.finding_head.state_dict()
    assert all(torch.equal(state[k], saved_in_checkpoint[k]) for k in state)
    state = {k: v + 0.25 for k, v in state.items()}  # a refit could never give these weights
    save_file(state, str(kept))
    result = CliRunner().invoke(app, ["xraygpt", "train", "--data", str(tiny_data), "--out", str(findings_run),
                                      "--config", str(findings_run / "cfg.json"), "--threads", "1"])
    assert result.exit_code == 0, result.output
    reloaded = load_model(findings_run / "xraygpt-smollm2-lora").model.finding_head.state_dict()
    assert all(torch.equal(state[k], reloaded[k]) for k in state)
