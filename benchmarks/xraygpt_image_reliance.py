"""Does the image reach the LLM? Stage-1 projection training from scratch on a checkpoint's encoder and LoRA,
with the answer loss on validation studies (own image vs another study's) checked every N steps, then the
same check within abnormal and within normal studies for the last and the kept projection.

SYNTHETIC images (make-cxr) with real IU-Xray text; nothing is saved as a checkpoint.

    .venv/bin/python benchmarks/xraygpt_image_reliance.py --data cxr --steps 300 --every 50 --json out.json
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="a make-cxr folder (train and validate splits)")
    parser.add_argument("--model", default="xraygpt-smollm2-lora", help="checkpoint whose encoder and LoRA are used")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--every", type=int, default=50)
    parser.add_argument("--examples", type=int, default=48, help="validation studies per check")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    import torch

    from radscribe.xraygpt.checkpoint import load_model
    from radscribe.xraygpt.data import load_examples, split_examples
    from radscribe.xraygpt.reliance import image_reliance
from radscribe.xraygpt.train_projection import ProjectionTrainConfig, train_projection

    torch.set_num_threads(args.threads)
    model = load_model(args.model, threads=args.threads).model
    torch.manual_seed(0)
    model.projection.reset_parameters()  # the trajectory from scratch, not the checkpoint's end point
    examples = load_examples(args.data)
    train, val = split_examples(examples, "train"), split_examples(examples, "validate")
    config = ProjectionTrainConfig(stage1_steps=args.steps, stage2_steps=0, max_answer_tokens=48, select_every=args.every,
                                   select_on="image_gap", select_examples=args.examples)
    with tempfile.TemporaryDirectory() as work:
        metrics = train_projection(model, train, config, Path(work), resume=False, val=val)  # ends on the kept state
        state = torch.load(Path(work) / "stage1" / "train_state.pt", weights_only=False)
    last, kept = state["modules"]["projection"], state["extra"]["selection"]["best_modules"]["projection"]
    subsets = {"abnormal": [e for e in val if any(v == 1 for k, v in e.labels.items() if k != "No Finding")],
               "normal": [e for e in val if e.labels.get("No Finding") == 1]}
    by_subset = {}
    for name, weights in (("last", last), ("kept", kept)):
        model.projection.load_state_dict(weights, strict=False)
        for subset, chosen in subsets.items():  # each study's image swapped with another from the same subset
            by_subset[f"{name} {subset}"] = image_reliance(model, chosen, 48, max_examples=96) | {"n": min(len(chosen), 96)}
    result = {"synthetic_images": True, "trajectory": metrics["stage1"], "by_subset": by_subset}
    print(json.dumps(result, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
