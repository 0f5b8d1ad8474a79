"""`radscribe llm chat`, `radscribe llm info` and `radscribe serve`: check and share the configured LLM.

The LLM options are defined once here (``LLM_*_OPTION`` and :func:`resolve_llm`) so every command that
talks to an LLM (later `ask` and `report`) reads the configuration the same way.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from radscribe.cli.app import app, console, err_console, handle_errors
from radscribe.errors import ConfigError
from radscribe.llm.config import ResolvedLLMConfig, resolve_llm_config

llm_app = typer.Typer(help="Talk to the configured LLM (embedded SmolLM2, an OpenAI-compatible server, or a local model).",
                      no_args_is_help=True)
app.add_typer(llm_app, name="llm")

LLM_BACKEND_OPTION = typer.Option(None, "--llm-backend", help="embedded | openai | local (env RADSCRIBE_LLM_BACKEND).")
LLM_MODEL_OPTION = typer.Option(None, "--llm-model", help="openai: model name; local: HF folder or .gguf (env RADSCRIBE_LLM_MODEL).")
LLM_BASE_URL_OPTION = typer.Option(None, "--llm-base-url", help="openai: endpoint root ending in /v1 (env RADSCRIBE_LLM_BASE_URL).")
LLM_ADAPTER_OPTION = typer.Option(None, "--llm-adapter", help="embedded/local: LoRA adapter folder merged at load (env RADSCRIBE_LLM_ADAPTER).")
LLM_CONFIG_OPTION = typer.Option(None, "--llm-config", help="TOML/JSON LLM config file (default ~/.config/radscribe/llm.toml).")


def resolve_llm(backend: Optional[str], model: Optional[str], base_url: Optional[str], config_file: Optional[Path],
                **more: object) -> ResolvedLLMConfig:
    """Flags > environment > config file > defaults; ``more`` holds other LLMConfig fields given as flags."""
    return resolve_llm_config({"backend": backend, "model": model, "base_url": base_url, **more}, config_file=config_file)


@llm_app.command("chat")
@handle_errors
def chat(
    prompt: str = typer.Option(..., "--prompt", "-p", help="The question to send."),
    system: Optional[str] = typer.Option(None, "--system", help="A system prompt sent before the question."),
    stream: bool = typer.Option(False, "--stream", help="Print the answer as it is generated."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object: text, backend, model, tokens, timings."),
    max_new_tokens: Optional[int] = typer.Option(None, "--max-new-tokens", help="Answer length limit (default 256)."),
    temperature: Optional[float] = typer.Option(None, "--temperature", help="0 = greedy, deterministic (default)."),
    top_p: Optional[float] = typer.Option(None, "--top-p", help="Nucleus sampling mass when temperature > 0."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Seed for sampling, for reproducible answers."),
    backend: Optional[str] = LLM_BACKEND_OPTION,
    model: Optional[str] = LLM_MODEL_OPTION,
    base_url: Optional[str] = LLM_BASE_URL_OPTION,
    llm_config: Optional[Path] = LLM_CONFIG_OPTION,
) -> None:
    """Ask the configured LLM a plain text question: the quickest check that an endpoint is set up right.

    Examples:

      radscribe llm chat -p "What does CT image noise look like?"

      radscribe llm chat -p "Hello" --llm-backend openai --llm-base-url http://localhost:8080/v1 --stream

      RADSCRIBE_LLM_BACKEND=openai RADSCRIBE_LLM_MODEL=gpt-4o-mini radscribe llm chat -p "Hello" --json
    """
    from radscribe.llm.registry import load_chat_model

    config = resolve_llm(backend, model, base_url, llm_config, max_new_tokens=max_new_tokens,
                         temperature=temperature, top_p=top_p, seed=seed).config
    chat_model = load_chat_model(config)
    messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
    settings = dict(max_new_tokens=config.max_new_tokens, temperature=config.temperature, top_p=config.top_p, seed=config.seed)
    if stream and not as_json:
        pieces = chat_model.stream(messages, **settings)
        for piece in pieces:
            console.print(piece, end="", markup=False, highlight=False, soft_wrap=True)
        console.print()
        return
    completion = chat_model.generate(messages, **settings)
    if as_json:
        console.print_json(json.dumps(completion.to_dict()))
    else:
        console.print(completion.text, markup=False, highlight=False, soft_wrap=True)


@llm_app.command("info")
@handle_errors
def info(
    as_json: bool = typer.Option(False, "--json", help="Print the resolved configuration and sources as JSON."),
    backend: Optional[str] = LLM_BACKEND_OPTION,
    model: Optional[str] = LLM_MODEL_OPTION,
    base_url: Optional[str] = LLM_BASE_URL_OPTION,
    llm_config: Optional[Path] = LLM_CONFIG_OPTION,
) -> None:
    """Show the LLM configuration radscribe would use and where each value came from (flag, env, file, default).

    Loads nothing and contacts nobody. The API key itself is never shown, only whether its variable is set.

    Example:

      RADSCRIBE_LLM_BACKEND=openai radscribe llm info --llm-base-url http://localhost:11434/v1
    """
    resolved = resolve_llm(backend, model, base_url, llm_config)
    values = {name: getattr(resolved.config, name) for name in resolved.sources}
    key_set = bool(os.environ.get(resolved.config.api_key_env))
    from radscribe.llm.registry import engine_choice

    # Which torch engine quantize resolves to here (the remote server decides for openai).
    engine = None if resolved.config.backend == "openai" else engine_choice(resolved.config)
    if as_json:
        console.print_json(json.dumps({"config": values, "sources": resolved.sources, "api_key_set": key_set,
                                       "engine": engine,
                                       "config_file": str(resolved.config_file) if resolved.config_file else None}))
        return
    table = Table(show_header=True, box=None, padding=(0, 2))
    for column in ("field", "value", "from"):
        table.add_column(column, overflow="fold")
    for name, value in values.items():
        shown = f"{value} ({'set' if key_set else 'not set'})" if name == "api_key_env" else str(value)
        table.add_row(name, shown if value not in ("", None) else "-", resolved.sources[name])
    if engine is not None:
        table.add_row("engine", engine, "quantize, resolved on this CPU")
    console.print(table)


@app.command("serve")
@handle_errors
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0 exposes it to the network)."),
    port: int = typer.Option(8000, "--port", help="TCP port; 0 picks a free one (the URL is printed)."),
    served_model_name: Optional[str] = typer.Option(None, "--served-model-name", help="Model id clients see."),
    backend: Optional[str] = LLM_BACKEND_OPTION,
    model: Optional[str] = LLM_MODEL_OPTION,
    base_url: Optional[str] = LLM_BASE_URL_OPTION,
    llm_config: Optional[Path] = LLM_CONFIG_OPTION,
) -> None:
    """Serve the configured LLM as an OpenAI-compatible API: GET /v1/models, POST /v1/chat/completions (stream too).

    Any OpenAI client can then use it, including radscribe's own openai backend.

    Examples:

      radscribe serve --port 8000

      curl http://127.0.0.1:8000/v1/chat/completions -H 'Content-Type: application/json' \\
        -d '{"messages": [{"role": "user", "content": "Hello"}], "temperature": 0}'
    """
    from radscribe.llm.registry import load_chat_model
    from radscribe.serve import ChatServer

    chat_model = load_chat_model(resolve_llm(backend, model, base_url, llm_config).config)
    try:
        server = ChatServer((host, port), chat_model, served_model_name)
    except OSError as error:
        raise ConfigError(f"cannot listen on {host}:{port}: {error.strerror or error}; pick another --port") from None
    # stdout, flushed: scripts and tests read the URL from this line.
    print(f"radscribe serve: {server.model_name} at {server.url} (Ctrl+C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        err_console.print("stopped")
    finally:
        server.server_close()
