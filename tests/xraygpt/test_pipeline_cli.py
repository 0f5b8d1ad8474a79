"""End to end with minimal steps: train (CLI) -> checkpoint with manifest -> chat (CLI) -> benchmark (CLI)."""

import json
import shutil

import pytest
from typer.testing import CliRunner

from radscribe.cli.main import app
from radscribe.errors import ConfigError
from radscribe.xraygpt import load_model, read_manifest

runner = CliRunner()


def test_checkpoints_describe_themselves(tiny_run, tiny_data):
    main = read_manifest(tiny_run / "xraygpt-smollm2-lora")
    assert main["synthetic"] is True and main["name"] == "xraygpt-smollm2-lora"
    assert set(main["files"]) == {"encoder.safetensors", "projection.safetensors", "lora.safetensors", "text_head.safetensors"}
    assert main["data"]["splits"] == {"train": 16, "validate": 4, "test": 4}
    assert len(main["data"]["annotations_sha256"]) == 64
    assert main["lora_config"]["rank"] == 2 and main["encoder_config"]["image_size"] == 64
    assert main["decoding"] == {"guidance": 1.5, "guidance_gate": 0.0} and load_model(tiny_run / "xraygpt-smollm2-lora").default_guidance == 1.5
    assert main["metrics"]["llm_lora"]["val_perplexity_frozen"] > 1
    reliance = main["metrics"]["projection"]["image_reliance"]  # own image vs another study's, held-out studies
    assert reliance["val_loss_own_image"] > 0 and reliance["val_loss_other_image"] > 0
    assert reliance["other_minus_own"] == pytest.approx(reliance["val_loss_other_image"] - reliance["val_loss_own_image"], abs=2e-4)
    for stage in ("stage1", "stage2"):  # the projection kept is the best on validation studies, every step here
        record = main["metrics"]["projection"][stage]
        assert [e["step"] for e in record["evaluations"]] == [1, 2] and record["selected_on"] == "val_loss"
        best = max(record["evaluations"], key=lambda e: e["score"])
        assert record["kept_step"] == best["step"] and best["score"] == -best["val_loss_own_image"]
    assert set(main["lora_text_report_ids"]) == {json.loads(l)["report_id"] for l in
                                                 (tiny_data / "annotations.jsonl").read_text().splitlines()
                                                 if json.loads(l)["split"] == "train"}
    total = sum(f["bytes"] for f in main["files"].values())
    assert total < 5_000_000  # never the LLM's own weights
    base = read_manifest(tiny_run / "xraygpt-smollm2-base")
    assert "lora.safetensors" not in base["files"] and base["lora_config"] is None


def test_changed_file_is_refused(tiny_run, tmp_path):
    copy = tmp_path / "ckpt"
    shutil.copytree(tiny_run / "xraygpt-smollm2-base", copy)
    data = bytearray((copy / "projection.safetensors").read_bytes())
    data[-1] ^= 0xFF
    (copy / "projection.safetensors").write_bytes(bytes(data))
    with pytest.raises(ConfigError, match="sha256"):
        load_model(copy)


def test_rerun_resumes_instead_of_retraining(tiny_run, tiny_data):
    state = tiny_run / "work" / "projection-lora" / "stage2" / "train_state.pt"
    assert state.is_file()
    import torch

    assert torch.load(state, weights_only=False)["step"] == 2


def test_chat_one_shot_json(tiny_run, tiny_data):
    image = tiny_data / "images" / "0000.png"
    result = runner.invoke(app, ["chat", str(image), "--model", str(tiny_run / "xraygpt-smollm2-lora"),
                                 "--prompt", "Is there a pleural effusion?", "--json", "--max-new-tokens", "6"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["model"] == "xraygpt-smollm2-lora" and isinstance(payload["answer"], str)
    assert isinstance(payload["labels"], dict) and payload["out_of_distribution"] is False


def test_chat_interactive_reset_and_quit(tiny_run, tiny_data):
    image = tiny_data / "images" / "0001.png"
    result = runner.invoke(app, ["chat", str(image), "--model", str(tiny_run / "xraygpt-smollm2-lora"),
                                 "--max-new-tokens", "4"], input="Describe it.\n/reset\n/quit\n")
    assert result.exit_code == 0, result.output
    assert "conversation cleared" in result.output and result.output.count("doctor>") == 1


def test_chat_on_real_dicom_says_out_of_distribution(tiny_run, pydicom_data_dir):
    result = runner.invoke(app, ["chat", str(pydicom_data_dir / "RG1_UNCI.dcm"), "--model",
                                 str(tiny_run / "xraygpt-smollm2-lora"), "-p", "Describe the image.", "--json",
                                 "--max-new-tokens", "4"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["out_of_distribution"] is True
    assert "out of its training distribution" in result.stderr


def test_chat_bad_image_is_one_line_exit_2(tiny_run, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    result = runner.invoke(app, ["chat", str(bad), "--model", str(tiny_run / "xraygpt-smollm2-lora"), "-p", "hi"])
    assert result.exit_code == 2
    assert str(bad) in result.stderr and "Traceback" not in result.output


def test_benchmark_scores_all_systems(tiny_run, tiny_data, tmp_path):
    out = tmp_path / "report"
    result = runner.invoke(app, ["benchmark", "cxr", "--data", str(tiny_data), "--out", str(out),
                                 "--model", str(tiny_run / "xraygpt-smollm2-lora"),
                                 "--base-model", str(tiny_run / "xraygpt-smollm2-base"),
                                 "--limit", "2", "--max-new-tokens", "6", "--threads", "1"])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "benchmark.json").read_text())
    assert report["synthetic"] is True and report["n_test"] == 2
    assert report["lora_text_overlap"] == 0  # the manifest lists the LoRA's reports: train only
    assert set(report["systems"]) == {"xraygpt", "llm-no-image", "nn-retrieval", "projection-base-llm"}
    for scores in report["systems"].values():
        assert 0.0 <= scores["rougeL"] <= 1.0 and scores["cider"] >= 0.0
    assert "SYNTHETIC" in (out / "benchmark.md").read_text()
    rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert len(rows) == 2 and all(r["synthetic"] for r in rows)
    assert rows[0]["nn-retrieval"] in {json.loads(l)["summary"] for l in (tiny_data / "annotations.jsonl").read_text().splitlines()}


def test_benchmark_flags_a_model_whose_lora_read_the_scored_reports(tiny_run, tiny_data, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(tiny_run / "xraygpt-smollm2-lora", model)
    manifest = json.loads((model / "manifest.json").read_text())
    validate = [json.loads(l) for l in (tiny_data / "annotations.jsonl").read_text().splitlines()]
    first = next(r["report_id"] for r in validate if r["split"] == "validate")
    manifest["lora_text_report_ids"].append(first)
    (model / "manifest.json").write_text(json.dumps(manifest))
    out = tmp_path / "report"
    result = runner.invoke(app, ["benchmark", "cxr", "--data", str(tiny_data), "--out", str(out), "--model", str(model),
                                 "--base-model", "", "--split", "validate", "--limit", "2", "--max-new-tokens", "4",
                                 "--threads", "1"])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "benchmark.json").read_text())
    assert report["config"]["split"] == "validate" and report["lora_text_overlap"] == 1
    assert "Not held out" in (out / "benchmark.md").read_text()


def test_lora_text_never_takes_reports_the_split_rule_holds_out(tiny_data):
    from radscribe.cxr.dataset import split_for
    from radscribe.xraygpt.data import load_examples
    from radscribe.xraygpt.pipeline import lora_texts

    examples = [e for e in load_examples(tiny_data) if e.split != "test"]  # a copy without its test rows
    texts, ids = lora_texts(examples, extra=True)
    train_ids = {e.report_id for e in examples if e.split == "train"}
    extra = [i for i in ids if i not in train_ids]
    assert len(texts) == len(ids) and len(extra) > 1000
    assert all(split_for(i) == "train" for i in extra)
    assert not {e.report_id for e in examples if e.split == "validate"} & set(ids)


def test_benchmark_and_chat_decode_with_the_checkpoints_guidance(tiny_run, tiny_data, tmp_path):
    """Batched benchmark decoding gives chat's answers, with the manifest's guidance unless told otherwise."""
    from radscribe.xraygpt import load_model
    from radscribe.xraygpt.conversation import SUMMARY_INSTRUCTIONS, Turn, build_prompt
    from radscribe.xraygpt.data import load_examples, load_image_batch, split_examples

    out = tmp_path / "report"
    model_dir = tiny_run / "xraygpt-smollm2-lora"
    result = runner.invoke(app, ["benchmark", "cxr", "--data", str(tiny_data), "--out", str(out), "--model", str(model_dir),
                                 "--base-model", "", "--max-new-tokens", "6", "--batch-size", "3"])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "benchmark.json").read_text())
    assert report["config"]["guidance"] is None and report["systems"]["xraygpt"]["guidance"] == 1.5
    assert report["systems"]["xraygpt"]["guidance_null"] == "uncertain"  # the manifest sets none: the default
    assert "`xraygpt` image guidance 1.5" in (out / "benchmark.md").read_text()
    loaded = load_model(model_dir)
    studies = split_examples(load_examples(tiny_data), "test")
    images = load_image_batch(studies, loaded.image_size)
    prompt = build_prompt([Turn(SUMMARY_INSTRUCTIONS[0])])
    expected = [loaded.model.generate(image, prompt, max_new_tokens=6, guidance=1.5) for image in images]
    rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and [row["xraygpt"] for row in rows] == expected  # chunks of 3 and 1
    chat = runner.invoke(app, ["chat", str(studies[0].image_path), "--model", str(model_dir), "--prompt",
                               SUMMARY_INSTRUCTIONS[0], "--json", "--max-new-tokens", "6"])
    assert chat.exit_code == 0, chat.output
    assert json.loads(chat.stdout)["answer"] == expected[0] and json.loads(chat.stdout)["guidance"] == 1.5
    plain = runner.invoke(app, ["chat", str(studies[0].image_path), "--model", str(model_dir), "--prompt",
                                SUMMARY_INSTRUCTIONS[0], "--json", "--max-new-tokens", "6", "--guidance", "0"])
    assert json.loads(plain.stdout)["guidance"] == 0
    assert json.loads(plain.stdout)["answer"] == loaded.model.generate(images[0], prompt, max_new_tokens=6)
