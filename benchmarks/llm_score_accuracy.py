"""How often does the LLM get the quality score right from a caption? Zero-shot, few-shot, and with a LoRA.

    nice -n 10 .venv/bin/python benchmarks/llm_score_accuracy.py --n 200 --json-out accuracy.json
    nice -n 10 .venv/bin/python benchmarks/llm_score_accuracy.py --n 200 --adapter src/radscribe/checkpoints/llm-lora \\
        --modes zero --json-out accuracy-lora.json

Held-out captions: seed 2 (LoRA training uses seed 1). SYNTHETIC: annotations are sampled from the CT-IQA
protocol, not measured on images; captions come from radscribe.ctiqa.text.describe. A rule baseline
(no LLM) shows what the caption allows: parse_caption's score for ``full``; for ``aspects_only``, the
protocol's score formula with each severity's mid-burden.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from pathlib import Path

from radscribe.io.writers import atomic_write_text

MID_BURDEN = {"none": 0.2, "mild": 1.5, "moderate": 2.5, "severe": 3.5}


def rule_scorer(caption: str):
    from radscribe.ctiqa.annotation import category_of, score_from_burdens
    from radscribe.ctiqa.text import parse_caption

    parsed = parse_caption(caption)
    if parsed.score is not None:
        return parsed.score, category_of(parsed.score)
    burdens = {a: MID_BURDEN[s or "none"] for a, s in parsed.aspects.items()}
    score = score_from_burdens(burdens)
    return score, category_of(score)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--modes", default="zero,few", help="comma list of zero, few")
    parser.add_argument("--variants", default="full,aspects_only")
    parser.add_argument("--adapter", default="", help="LoRA adapter folder merged into the embedded model")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quantize", default="none", help="none | int8 (3x faster on a busy CPU)")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()

    from radscribe.llm import LLMConfig, load_chat_model
    from radscribe.llm.prompts import PROMPTS_VERSION
    from radscribe.llm.score_eval import evaluate, llm_score, make_examples

    examples = make_examples(args.n, seed=args.seed)
    chat_model = load_chat_model(LLMConfig(backend="embedded", threads=args.threads, adapter=args.adapter,
                                          quantize=args.quantize))
    result = {"benchmark": "llm_score_accuracy", "synthetic": True, "model": chat_model.name, "quantize": args.quantize,
              "prompts_version": PROMPTS_VERSION, "n": len(examples), "seed": args.seed,
              "categories": dict(collections.Counter(e.category for e in examples)), "runs": []}
    variants = args.variants.split(",")
    for variant in variants:
        result["runs"].append({"scorer": "rule (no LLM)", **evaluate(rule_scorer, examples, variant=variant)})
    for variant in variants:  # full first: the headline numbers land even if a long run is cut short
        for mode in args.modes.split(","):
            started = time.perf_counter()
            done = [0]

            def scorer(caption: str, few: bool = mode == "few"):
                done[0] += 1
                if done[0] % 25 == 0:
                    print(f"  {variant} {mode}-shot: {done[0]}/{len(examples)} ({time.perf_counter() - started:.0f} s)",
                          file=sys.stderr, flush=True)
                return llm_score(chat_model, caption, few_shot=few)[:2]

            run = {"scorer": f"{chat_model.name} {mode}-shot", **evaluate(scorer, examples, variant=variant),
                   "seconds": round(time.perf_counter() - started, 1)}
            result["runs"].append(run)
            print(json.dumps(run), flush=True)
            if args.json_out:  # after every run, so partial results survive
                atomic_write_text(args.json_out, json.dumps(result, indent=2) + "\n")
    text = json.dumps(result, indent=2)
    print(text)
    if args.json_out:
        atomic_write_text(args.json_out, text + "\n")


if __name__ == "__main__":
    main()
