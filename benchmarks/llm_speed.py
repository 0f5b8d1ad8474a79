"""Decode speed and time-to-first-token of the embedded LLM, side by side with llama.cpp on the same GGUF.

    .venv/bin/python benchmarks/llm_speed.py                       # embedded only (llama.cpp if importable)
    .venv/bin/python benchmarks/llm_speed.py --install-llama-cpp   # first pip-builds llama-cpp-python (~5-20 min)
    .venv/bin/python benchmarks/llm_speed.py --json-out speed.json --threads 2 --new-tokens 64

Both engines get the same prompt token ids (a 300-token chat prompt), the same thread count, greedy
decoding, and the same number of new tokens (end tokens are ignored so both decode exactly N). TTFT is from
the call to the first new token (prefill + one step). Decode tok/s counts tokens after the first.
Results are medians over ``--repeats`` runs after one warm-up. ``embedded_none`` is float32,
``embedded_bf16`` bfloat16 (the default, ``quantize = "auto"``, on CPUs with native bf16) and
``embedded_int8`` the int8 engine (prompt prefilled in float, new tokens through smoothed int8
projections: radscribe/llm/int8_decode.py). The building of llama-cpp-python lives
here, never in tests or CI.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from radscribe.io.writers import atomic_write_text

QUANTIZE_RUNS = ("none", "bf16", "int8")  # float32, bfloat16, int8: see LLMConfig.quantize
LLAMA_CPP_VERSION = "0.3.36"  # the version we built and measured; compiled from source by pip


def build_prompt_ids(chat_model, n_tokens: int) -> list[int]:
    """Chat-template token ids of about ``n_tokens``: a caption-style paragraph trimmed to length."""
    sentence = ("Moderate noise throughout the liver and spleen with mild streaks from sparse views; edges are "
                "slightly blurred; no metal, no rings, no motion. ")
    text = sentence * 40
    words = text.split()
    low, high = 1, len(words)
    while low < high:  # longest word prefix whose chat prompt fits n_tokens
        mid = (low + high + 1) // 2
        ids = chat_model.encode_chat([{"role": "user", "content": " ".join(words[:mid])}])
        low, high = (mid, high) if len(ids) <= n_tokens else (low, mid - 1)
    return chat_model.encode_chat([{"role": "user", "content": " ".join(words[:low])}])


def time_embedded(chat_model, prompt_ids: list[int], new_tokens: int) -> dict:
    from radscribe.llm.base import GenerationParams

    params = GenerationParams(max_new_tokens=new_tokens)
    started = time.perf_counter()
    first = None
    count = 0
    for _ in chat_model.iter_token_ids(prompt_ids, params):
        count += 1
        if first is None:
            first = time.perf_counter()
    end = time.perf_counter()
    return {"ttft_s": first - started, "decode_tok_s": (count - 1) / (end - first), "new_tokens": count}


def time_llama_cpp(llm, prompt_ids: list[int], new_tokens: int) -> dict:
    llm.reset()
    started = time.perf_counter()
    first = None
    count = 0
    for _ in llm.generate(prompt_ids, temp=0.0, top_k=1, reset=True):
        count += 1
        if first is None:
            first = time.perf_counter()
        if count >= new_tokens:
            break
    end = time.perf_counter()
    return {"ttft_s": first - started, "decode_tok_s": (count - 1) / (end - first), "new_tokens": count}


def median_runs(fn, repeats: int) -> dict:
    fn()  # warm-up: first-call allocations and caches
    runs = [fn() for _ in range(repeats)]
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]} | {"runs": runs}


def install_llama_cpp() -> None:
    """Compile llama-cpp-python into this interpreter (nice'd; takes minutes on a laptop)."""
    env = dict(os.environ, CMAKE_ARGS="-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_CURL=OFF")
    subprocess.run(["nice", "-n", "10", sys.executable, "-m", "pip", "install", "--no-deps",
                    f"llama-cpp-python=={LLAMA_CPP_VERSION}", "diskcache"], check=True, env=env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prompt-tokens", type=int, default=300)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--install-llama-cpp", action="store_true", help="pip-build llama-cpp-python first")
    parser.add_argument("--skip-llama-cpp", action="store_true")
    parser.add_argument("--json-out", type=Path, help="also write the results here")
    args = parser.parse_args()

    import torch

    from radscribe.llm import LLMConfig, load_chat_model
    from radscribe.llm.registry import native_bf16_cpu
    from radscribe.llm.weights import embedded_gguf

    chat_model = load_chat_model(LLMConfig(backend="embedded", threads=args.threads, quantize="none"))
    prompt_ids = build_prompt_ids(chat_model, args.prompt_tokens)
    result = {
        "benchmark": "llm_speed", "model": chat_model.name, "gguf": str(embedded_gguf().path),
        "prompt_tokens": len(prompt_ids), "new_tokens": args.new_tokens, "threads": args.threads,
        "repeats": args.repeats, "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                                             "loadavg_1m": os.getloadavg()[0], "torch": torch.__version__,
                                             "native_bf16": native_bf16_cpu()},
        "default_quantize": LLMConfig().quantize, "engines": {},
    }
    engines = result["engines"]
    for quantize in QUANTIZE_RUNS:
        started = time.perf_counter()  # imports are warm: the float32 model above loaded first
        model = load_chat_model(LLMConfig(backend="embedded", threads=args.threads, quantize=quantize))
        load_s = time.perf_counter() - started
        engines[f"embedded_{quantize}"] = median_runs(lambda: time_embedded(model, prompt_ids, args.new_tokens), args.repeats)
        engines[f"embedded_{quantize}"]["load_s"] = round(load_s, 3)
        del model

    if args.install_llama_cpp:
        install_llama_cpp()
    if not args.skip_llama_cpp:
        try:
            from llama_cpp import Llama, __version__ as llama_version
        except ImportError as error:
            engines["llama_cpp"] = {"skipped": f"llama_cpp not importable ({error}); run with --install-llama-cpp"}
        else:
            llm = Llama(model_path=result["gguf"], n_ctx=1024, n_threads=args.threads, n_threads_batch=args.threads,
                        n_batch=512, verbose=False)
            engines["llama_cpp"] = median_runs(lambda: time_llama_cpp(llm, prompt_ids, args.new_tokens), args.repeats)
            engines["llama_cpp"]["version"] = llama_version
            reference = engines["llama_cpp"]["decode_tok_s"]
            result["decode_ratio_vs_llama_cpp"] = {name: engines[name]["decode_tok_s"] / reference
                                                   for name in engines if name.startswith("embedded_")}
    result["machine"]["loadavg_1m_after"] = os.getloadavg()[0]
    ratios = result.get("decode_ratio_vs_llama_cpp", {})
    result["targets"] = {"decode_ratio_min": 0.5, "ttft_max_s": 0.5, "by_engine": {
        name: {"ttft_met": engines[name]["ttft_s"] < 0.5,
               "decode_ratio_met": ratios[name] >= 0.5 if name in ratios else None}
        for name in engines if name.startswith("embedded_")}}
    text = json.dumps(result, indent=2)
    print(text)
    if args.json_out:
        atomic_write_text(args.json_out, text + "\n")


if __name__ == "__main__":
    main()
