"""What reaches the answer? A fresh projection on a checkpoint's encoder and LoRA, trained with the options under
test (finding tokens, LoRA tuned with the image, abnormal studies repeated), then scored on validation studies:
image reliance (own vs another study's image), label-question AUC, and generated summaries (ROUGE-L, finding F1).

SYNTHETIC images (make-cxr) with real IU-Xray text; nothing is saved as a checkpoint.

    .venv/bin/python benchmarks/xraygpt_visual_tokens.py --data cxr --tokens grid+findings --train-lora \\
        --abnormal-repeat 2 --stage1-steps 250 --stage2-steps 250 --generate 100 --json out.json
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

ASKED = ("Cardiomegaly", "Lung Opacity", "Consolidation", "Atelectasis", "Pleural Effusion", "Lung Lesion",
         "Support Devices", "Fracture")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="a make-cxr folder (train and validate splits)")
    parser.add_argument("--model", default="xraygpt-smollm2-lora", help="checkpoint whose encoder and LoRA are used")
    parser.add_argument("--tokens", default="grid", choices=("grid", "grid+findings"))
    parser.add_argument("--train-lora", action="store_true", help="tune the LoRA adapters with the projection")
    parser.add_argument("--abnormal-repeat", type=int, default=1)
    parser.add_argument("--stage1-steps", type=int, default=250)
    parser.add_argument("--stage2-steps", type=int, default=250)
    parser.add_argument("--p-label-question", type=float, default=0.35, help="stage-2 share of label questions")
    parser.add_argument("--generate", type=int, default=100, help="validation studies to summarise (0: none)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    import torch

    from radscribe.xraygpt.checkpoint import load_model
    from radscribe.xraygpt.conversation import SUMMARY_INSTRUCTIONS, Turn, build_prompt
    from radscribe.xraygpt.data import load_examples, load_image_batch, split_examples
    from radscribe.xraygpt.evaluate import score_system
    from radscribe.xraygpt.finding_tokens import train_finding_head
    from radscribe.xraygpt.medclip_loss import label_matrix
    from radscribe.xraygpt.model import XrayGPT
    from radscribe.xraygpt.reliance import image_reliance, label_question_auc
    from radscribe.xraygpt.train_projection import ProjectionTrainConfig, is_abnormal, train_projection

    started = time.perf_counter()
    torch.set_num_threads(args.threads)
    shipped = load_model(args.model, threads=args.threads)
    examples = load_examples(args.data)
    train, val = split_examples(examples, "train"), split_examples(examples, "validate")
    size = shipped.image_size
    head = head_metrics = None
    if args.tokens == "grid+findings":
        head, head_metrics = train_finding_head(shipped.model.encoder, load_image_batch(train, size),
                                                label_matrix([e.labels for e in train]), load_image_batch(val, size),
                                                label_matrix([e.labels for e in val]))
    torch.manual_seed(0)  # a fresh projection (the checkpoint's LoRA stays as its starting point)
    model = XrayGPT(shipped.model.encoder, shipped.model.llm, shipped.model.tokenizer, None, args.tokens, head)
    if head is not None:  # as the pipeline does: finding columns start as the words (the LoRA here is not grounded)
        from radscribe.xraygpt.finding_tokens import finding_word_columns, init_projection_from_words

        init_projection_from_words(model.projection, shipped.model.encoder.config.token_dim,
                                   finding_word_columns(model.llm, model.tokenizer))
    config = ProjectionTrainConfig(stage1_steps=args.stage1_steps, stage2_steps=args.stage2_steps, max_answer_tokens=48,
                                   train_lora=args.train_lora, abnormal_repeat=args.abnormal_repeat,
                                   p_label_question=args.p_label_question)
    with tempfile.TemporaryDirectory() as work:
        trained = train_projection(model, train, config, Path(work), resume=False, val=val)
    result = {"synthetic_images": True, "options": vars(args) | {"data": str(args.data), "json": None},
              "finding_head": head_metrics, "train": trained,
              "image_reliance": {"all": image_reliance(model, val, 48),
                                 "abnormal": image_reliance(model, [e for e in val if is_abnormal(e)], 48)},
              "label_questions": label_question_auc(model, val, ASKED)}
    if args.generate:
        chosen = val[:args.generate]
        images = load_image_batch(chosen, size)
        prompt = build_prompt([Turn(SUMMARY_INSTRUCTIONS[0])])
        predictions = [model.generate(images[i], prompt, max_new_tokens=60) for i in range(len(chosen))]
        result["summaries"] = score_system(predictions, [e.summary for e in chosen])
        result["distinct_summaries"] = len(set(predictions))
        result["predictions"] = [{"report_id": e.report_id, "reference": e.summary, "generated": p}
                                 for e, p in zip(chosen, predictions)]
    result["seconds"] = round(time.perf_counter() - started, 1)
    shown = {k: v for k, v in result.items() if k != "predictions"}
    print(json.dumps(shown, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
