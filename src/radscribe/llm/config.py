"""Which LLM to talk to, resolved from (highest first) CLI flags, environment, a config file, then defaults.

Environment variables are ``RADSCRIBE_LLM_<FIELD>`` (e.g. ``RADSCRIBE_LLM_BACKEND=openai``). The config file
is TOML or JSON with the fields at top level or under ``[llm]``; it is ``--llm-config FILE``, else
``$RADSCRIBE_LLM_CONFIG``, else ``~/.config/radscribe/llm.toml`` when that exists. Every resolved value
remembers where it came from, so ``radscribe llm info`` can say.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Mapping, Optional, get_type_hints

from radscribe.errors import ConfigError

ENV_PREFIX = "RADSCRIBE_LLM_"
CONFIG_ENV = "RADSCRIBE_LLM_CONFIG"
QUANTIZE_CHOICES = ("auto", "none", "bf16", "int8")


@dataclass(frozen=True)
class LLMConfig:
    """Everything needed to build a ChatModel. Defaults run the embedded model on 2 CPU threads."""

    backend: str = "embedded"  # embedded | openai | local (see radscribe.llm.registry.BACKENDS)
    model: str = ""  # openai: remote model name; local: HF folder or .gguf path; embedded: ignored
    base_url: str = "http://127.0.0.1:8000/v1"  # openai: endpoint root, ending in /v1
    api_key_env: str = "OPENAI_API_KEY"  # openai: name of the variable holding the key (never the key)
    timeout_s: float = 120.0
    threads: int = 2  # embedded/local: torch CPU threads
    max_new_tokens: int = 256
    temperature: float = 0.0  # 0 = greedy, deterministic
    top_p: float = 1.0
    seed: Optional[int] = None
    # embedded/local engine: "none" = float32; "bf16"; "int8" = prompt prefilled in float, new tokens decoded
    # with int8 weights (3.4x bf16's speed; docs/llm.md section 6); "auto" = int8 for the embedded model on
    # CPUs with VNNI, else bf16 where the CPU computes it natively, else float32
    quantize: str = "auto"
    adapter: str = ""  # embedded/local: LoRA adapter folder, or a shipped one by name ("llm-lora"), merged at load


FIELD_TYPES: dict[str, Any] = get_type_hints(LLMConfig)
FIELD_NAMES = tuple(f.name for f in fields(LLMConfig))


@dataclass(frozen=True)
class ResolvedLLMConfig:
    """The config plus, per field, its source: ``flag``, ``env:NAME``, ``file:PATH`` or ``default``."""

    config: LLMConfig
    sources: dict[str, str]
    config_file: Optional[Path]


def _coerce(name: str, value: Any, where: str) -> Any:
    """Turn strings (env) and JSON/TOML values into the field's type, with a message naming the source."""
    kind = FIELD_TYPES[name]
    if value is None or (kind == Optional[int] and value in ("", "none", "None")):
        if kind == Optional[int]:
            return None
        raise ConfigError(f"{where}: {name} needs a value")
    target = int if kind in (int, Optional[int]) else float if kind is float else str
    try:
        if target is int and isinstance(value, float) and not value.is_integer():
            raise ValueError
        return target(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: {name} must be {target.__name__}, got {value!r}") from None


def default_config_file(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "radscribe" / "llm.toml"


def read_config_file(path: Path) -> dict[str, Any]:
    """Fields from a TOML or JSON file (top level or an ``llm`` table); unknown keys are errors."""
    try:
        text = path.read_text()
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except FileNotFoundError:
        raise ConfigError(f"{path}: LLM config file not found") from None
    except (OSError, ValueError) as error:  # tomllib.TOMLDecodeError and JSONDecodeError are ValueErrors
        raise ConfigError(f"{path}: cannot read LLM config: {error}") from None
    if isinstance(data, dict) and isinstance(data.get("llm"), dict):
        data = data["llm"]
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: LLM config must be a table of fields")
    unknown = sorted(set(data) - set(FIELD_NAMES))
    if unknown:
        raise ConfigError(f"{path}: unknown LLM config key(s) {', '.join(unknown)}; known: {', '.join(FIELD_NAMES)}")
    return data


def _pick_file(config_file: str | Path | None, env: Mapping[str, str]) -> Optional[Path]:
    """The file to read: one asked for (flag, then env) must exist; the default one is optional."""
    if config_file:
        return Path(config_file).expanduser()
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV]).expanduser()
    default = default_config_file(env)
    return default if default.is_file() else None


def resolve_llm_config(flags: Mapping[str, Any] | None = None, *, config_file: str | Path | None = None,
                       env: Mapping[str, str] | None = None) -> ResolvedLLMConfig:
    """Merge defaults < file < environment < flags. ``None`` flag values mean 'not given'."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    sources = {name: "default" for name in FIELD_NAMES}
    path = _pick_file(config_file, env)
    if path is not None:
        for name, value in read_config_file(path).items():
            values[name], sources[name] = _coerce(name, value, str(path)), f"file:{path}"
    for name in FIELD_NAMES:
        var = ENV_PREFIX + name.upper()
        if var in env:
            values[name], sources[name] = _coerce(name, env[var], var), f"env:{var}"
    for name, value in (flags or {}).items():
        if name not in FIELD_NAMES:
            raise ConfigError(f"unknown LLM option {name!r}")
        if value is not None:
            values[name], sources[name] = _coerce(name, value, "--llm-" + name.replace("_", "-")), "flag"
    config = replace(LLMConfig(), **values)
    check_config(config)
    return ResolvedLLMConfig(config, sources, path)


def check_config(config: LLMConfig) -> None:
    from radscribe.llm.registry import BACKENDS  # lazy: the registry imports backends lazily too

    if config.backend not in BACKENDS:
        raise ConfigError(f"unknown LLM backend {config.backend!r}; choose one of {', '.join(BACKENDS)}")
    if config.backend == "local" and not config.model:
        raise ConfigError("the local backend needs model = a Hugging Face folder or a .gguf file (RADSCRIBE_LLM_MODEL or --llm-model)")
    if config.backend == "openai" and not config.base_url.startswith(("http://", "https://")):
        raise ConfigError(f"base_url must start with http:// or https://, got {config.base_url!r}")
    if config.quantize not in QUANTIZE_CHOICES:
        raise ConfigError(f"quantize must be one of {', '.join(QUANTIZE_CHOICES)}, got {config.quantize!r}")
    if config.threads < 1 or config.timeout_s <= 0:
        raise ConfigError("threads must be >= 1 and timeout_s > 0")
