"""Batched greedy decoding (what ``radscribe benchmark cxr`` uses) against one image at a time, in the same run:
the speed ratio and whether the answers are the same. SYNTHETIC images (make-cxr) unless --data says otherwise.

    .venv/bin/python benchmarks/xraygpt_batch_decode.py --data cxr --n 16 --threads 1 --json speed.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="a make-cxr folder (or --source root)")
    parser.add_argument("--model", default="xraygpt-smollm2-lora")
    parser.add_argument("--split", default="validate", choices=("validate", "test"))
    parser.add_argument("--n", type=int, default=16, help="images (one batch)")
    parser.add_argument("--guidance", type=float, default=None, help="default: the checkpoint's")
    parser.add_argument("--max-new-tokens", type=int, default=80)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    import torch

    from radscribe.xraygpt.batch_decode import generate_batch
    from radscribe.xraygpt.checkpoint import load_model
    from radscribe.xraygpt.conversation import SUMMARY_INSTRUCTIONS, Turn, build_prompt
    from radscribe.xraygpt.data import load_examples, load_image_batch, split_examples

    loaded = load_model(args.model, threads=args.threads)
    torch.set_num_threads(args.threads)
    examples = split_examples(load_examples(Path(args.data)), args.split)[: args.n]
    images = load_image_batch(examples, loaded.image_size)
    prompt = build_prompt([Turn(SUMMARY_INSTRUCTIONS[0])])
    weight = loaded.default_guidance if args.guidance is None else args.guidance
    started = time.perf_counter()
    single = [loaded.model.generate(image, prompt, max_new_tokens=args.max_new_tokens, guidance=weight) for image in images]
    one_by_one = time.perf_counter() - started
    started = time.perf_counter()
    batched = generate_batch(loaded.model, images, prompt, max_new_tokens=args.max_new_tokens, guidance=weight,
                             batch_size=len(images))
    batch_seconds = time.perf_counter() - started
    result = {"benchmark": "xraygpt_batch_decode", "synthetic": any(e.synthetic for e in examples), "model": loaded.name,
              "n": len(images), "threads": args.threads, "guidance": weight, "max_new_tokens": args.max_new_tokens,
              "one_by_one_seconds": round(one_by_one, 1), "batched_seconds": round(batch_seconds, 1),
              "speedup": round(one_by_one / batch_seconds, 2), "same_answers": sum(a == b for a, b in zip(single, batched))}
    print(json.dumps(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
