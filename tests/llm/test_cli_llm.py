"""`radscribe llm info` and `radscribe llm chat` through the real CLI."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from radscribe.cli.main import app

runner = CliRunner()


def test_info_reports_values_and_sources(tmp_path):
    config = tmp_path / "llm.toml"
    config.write_text('backend = "openai"\nmodel = "file-model"\n')
    env = {"RADSCRIBE_LLM_MODEL": "env-model", "XDG_CONFIG_HOME": str(tmp_path)}
    result = runner.invoke(app, ["llm", "info", "--json", "--llm-config", str(config), "--llm-base-url", "http://h:1/v1"], env=env)
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["config"]["backend"] == "openai" and info["sources"]["backend"] == f"file:{config}"
    assert info["config"]["model"] == "env-model" and info["sources"]["model"] == "env:RADSCRIBE_LLM_MODEL"
    assert info["sources"]["base_url"] == "flag" and info["sources"]["threads"] == "default"
    assert info["engine"] is None  # a remote server: its engine is not ours to say


def test_info_says_which_engine_quantize_resolves_to():
    from radscribe.llm.cpu import int8_dot_products, native_bf16

    for quantize, expected in [("bf16", "bf16"), ("none", "none"), ("int8", "int8"),
                               ("auto", "int8" if int8_dot_products() else "bf16" if native_bf16() else "none")]:
        result = runner.invoke(app, ["llm", "info", "--json"], env={"RADSCRIBE_LLM_QUANTIZE": quantize})
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["engine"] == expected


def test_info_rejects_unknown_backend_in_one_line():
    result = runner.invoke(app, ["llm", "info", "--llm-backend", "nope"])
    assert result.exit_code == 2 and "unknown LLM backend 'nope'" in result.output


def test_chat_json_with_the_embedded_model(embedded_model):
    result = runner.invoke(app, ["llm", "chat", "-p", "What is the capital of France?", "--json", "--max-new-tokens", "16"],
                           env={"RADSCRIBE_LLM_BACKEND": "embedded", "RADSCRIBE_LLM_THREADS": "1"})
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["text"] == "The capital of France is Paris." and answer["backend"] == "embedded"


def test_chat_to_a_dead_endpoint_fails_in_one_line():
    result = runner.invoke(app, ["llm", "chat", "-p", "hi", "--llm-backend", "openai", "--llm-model", "m",
                                 "--llm-base-url", "http://127.0.0.1:9/v1"])
    assert result.exit_code == 2 and "cannot reach LLM server" in result.output
