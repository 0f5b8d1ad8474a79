"""Configuration precedence: flag > environment > config file > default, with the source of each value."""

from __future__ import annotations

import json

import pytest

from radscribe.errors import ConfigError
from radscribe.llm import LLMConfig, resolve_llm_config


@pytest.fixture()
def toml_file(tmp_path):
    path = tmp_path / "llm.toml"
    path.write_text('[llm]\nbackend = "openai"\nmodel = "from-file"\nbase_url = "http://file:1/v1"\ntimeout_s = 7\n')
    return path


def test_defaults_when_nothing_is_set(tmp_path):
    resolved = resolve_llm_config(env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert resolved.config == LLMConfig()
    assert set(resolved.sources.values()) == {"default"}
    assert resolved.config.backend == "embedded" and resolved.config.threads == 2


def test_flag_beats_env_beats_file_beats_default(toml_file):
    env = {"RADSCRIBE_LLM_MODEL": "from-env", "RADSCRIBE_LLM_BASE_URL": "http://env:2/v1"}
    resolved = resolve_llm_config({"base_url": "http://flag:3/v1", "backend": None}, config_file=toml_file, env=env)
    config, sources = resolved.config, resolved.sources
    assert config.base_url == "http://flag:3/v1" and sources["base_url"] == "flag"
    assert config.model == "from-env" and sources["model"] == "env:RADSCRIBE_LLM_MODEL"
    assert config.backend == "openai" and sources["backend"] == f"file:{toml_file}"  # None flag = not given
    assert config.timeout_s == 7.0 and isinstance(config.timeout_s, float)
    assert config.threads == 2 and sources["threads"] == "default"


def test_env_values_are_typed():
    env = {"RADSCRIBE_LLM_THREADS": "4", "RADSCRIBE_LLM_TEMPERATURE": "0.7", "RADSCRIBE_LLM_SEED": "11"}
    config = resolve_llm_config(env=env, config_file=None).config
    assert (config.threads, config.temperature, config.seed) == (4, 0.7, 11)
    with pytest.raises(ConfigError, match="RADSCRIBE_LLM_THREADS: threads must be int"):
        resolve_llm_config(env={"RADSCRIBE_LLM_THREADS": "two"})


def test_config_file_from_env_var_and_json(tmp_path):
    path = tmp_path / "llm.json"
    path.write_text(json.dumps({"backend": "local", "model": "/models/x"}))
    resolved = resolve_llm_config(env={"RADSCRIBE_LLM_CONFIG": str(path)})
    assert resolved.config.backend == "local" and resolved.config_file == path


def test_default_config_file_is_read_when_present(tmp_path):
    (tmp_path / "radscribe").mkdir()
    (tmp_path / "radscribe" / "llm.toml").write_text('max_new_tokens = 64\n')
    resolved = resolve_llm_config(env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert resolved.config.max_new_tokens == 64 and resolved.sources["max_new_tokens"].startswith("file:")


@pytest.mark.parametrize("content, message", [
    ('backend = "openai"\nmodle = "x"\n', "unknown LLM config key"),
    ('backend = "gpt"\n', "unknown LLM backend 'gpt'"),
    ('backend = "local"\n', "local backend needs model"),
    ('threads = 1.5\n', "threads must be int"),
    ('not toml at all [', "cannot read LLM config"),
])
def test_bad_config_files_name_the_problem(tmp_path, content, message):
    path = tmp_path / "bad.toml"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        resolve_llm_config(config_file=path, env={})


def test_missing_explicit_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        resolve_llm_config(config_file=tmp_path / "absent.toml", env={})
