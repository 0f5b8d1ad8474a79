"""How high can finding F1 go with this encoder? Scores finding lists that need no LLM, on the benchmark's own
metric (labeler on the reference summary; macro-F1 over observations with a positive reference):

* ``probe``: a linear probe on the frozen encoder's pooled feature (fitted on the training split), its findings
  written out verbatim at a threshold; what an LLM fed by this encoder would score if it passed them on perfectly;
* ``probe-val-thresholds``: the same with one threshold per observation chosen on the validation split;
* ``nn-retrieval``: the labels of the nearest training image's summary (baseline (b) of ``benchmark cxr``);
* ``always-normal``: "No Finding" for every study;
* ``llm-from-true-labels`` (``--llm``, a checkpoint with finding tokens): the checkpoint's own summaries when its
  finding tokens carry each study's TRUE labels (1 / 0.5 / 0) instead of its probe's reading, greedy with its
  guidance: how much of a perfect reading the LLM passes on;
* ``lora-from-true-labels-words`` (``--llm-words``): the same, but the TRUE-label finding tokens enter through the
  word-initialised columns grounded LoRA tuning trained with, and without the grid tokens or a trained
  projection: what the radiology LoRA alone passes on, before the projection stages.

SYNTHETIC images (make-cxr) with real IU-Xray text; nothing is trained but the probe (seconds).

    .venv/bin/python benchmarks/xraygpt_finding_ceiling.py --data cxr --split test --json ceiling.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="a make-cxr folder")
    parser.add_argument("--model", default="xraygpt-smollm2-lora", help="checkpoint whose encoder is probed")
    parser.add_argument("--split", default="test", choices=("validate", "test"))
    parser.add_argument("--limit", type=int, default=0, help="score the first N studies of the split (0: all)")
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--llm", action="store_true", help="also decode from true-label finding tokens (minutes)")
    parser.add_argument("--llm-words", action="store_true",
                        help="also decode from true-label finding tokens through the word columns, no image (minutes)")
    parser.add_argument("--max-new-tokens", type=int, default=80)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    import torch

    from radscribe.cxr.labeler import NO_FINDING, OBSERVATIONS, label_report
    from radscribe.xraygpt.checkpoint import load_model
    from radscribe.xraygpt.data import load_examples, load_image_batch, split_examples
    from radscribe.xraygpt.evaluate import nearest_summaries
    from radscribe.xraygpt.finding_tokens import pooled_features, train_finding_head
    from radscribe.xraygpt.label_metrics import label_scores
    from radscribe.xraygpt.medclip_loss import label_matrix

    torch.set_num_threads(args.threads)
    loaded = load_model(args.model, threads=args.threads)
    encoder, size = loaded.model.encoder, loaded.image_size
    examples = load_examples(args.data)
    train, val = split_examples(examples, "train"), split_examples(examples, "validate")
    scored = split_examples(examples, args.split)[: args.limit or None]
    head, head_metrics = train_finding_head(encoder, load_image_batch(train, size), label_matrix([e.labels for e in train]),
                                            load_image_batch(val, size), label_matrix([e.labels for e in val]))

    def probabilities(chosen):
        with torch.no_grad():
            return torch.sigmoid(head(pooled_features(encoder, load_image_batch(chosen, size))))

    def as_labels(probs: torch.Tensor, thresholds: list[float]) -> list[dict[str, int]]:
        out = []
        for row in probs.tolist():
            found = {name: int(p > t) for name, p, t in zip(OBSERVATIONS, row, thresholds) if name != NO_FINDING}
            # the labeler's own rule: "No Finding" unless something other than a device is present
            found[NO_FINDING] = int(not any(v for k, v in found.items() if k != "Support Devices"))
            out.append(found)
        return out

    reference = [label_report(e.summary) for e in scored]
    val_reference = [label_report(e.summary) for e in val]
    p_val, p_scored = probabilities(val), probabilities(scored)
    tuned = []
    for j, name in enumerate(OBSERVATIONS):  # the threshold with the best validation F1 for each observation
        truth = torch.tensor([r.get(name) == 1 for r in val_reference])

        def f1(t: float) -> float:
            said = p_val[:, j] > t
            return 2 * float((said & truth).sum()) / max(1, int(said.sum()) + int(truth.sum()))

        tuned.append(max((i / 20 for i in range(1, 20)), key=f1))
    systems = {
        "probe": as_labels(p_scored, [args.threshold] * len(OBSERVATIONS)),
        "probe-val-thresholds": as_labels(p_scored, tuned),
        "nn-retrieval": [label_report(s) for s in nearest_summaries(encoder, train, load_image_batch(scored, size), size)],
        "always-normal": [{NO_FINDING: 1} for _ in scored],
    }
    from radscribe.xraygpt.finding_tokens import label_probabilities

    if args.llm:
        from radscribe.xraygpt.batch_decode import generate_batch
        from radscribe.xraygpt.conversation import SUMMARY_INSTRUCTIONS, Turn, build_prompt

        summaries = generate_batch(loaded.model, load_image_batch(scored, size), build_prompt([Turn(SUMMARY_INSTRUCTIONS[0])]),
                                   max_new_tokens=args.max_new_tokens, guidance=loaded.default_guidance,
                                   finding_probs=label_probabilities([e.labels for e in scored]))
        systems["llm-from-true-labels"] = [label_report(s) for s in summaries]
    if args.llm_words:
        summaries = lora_from_word_tokens(loaded, label_probabilities([e.labels for e in scored]), args.max_new_tokens)
        systems["lora-from-true-labels-words"] = [label_report(s) for s in summaries]
    result = {"synthetic_images": True, "data": str(args.data), "model": args.model, "split": args.split,
              "n_studies": len(scored), "threshold": args.threshold, "val_thresholds": dict(zip(OBSERVATIONS, tuned)),
              "llm_guidance": loaded.default_guidance if args.llm or args.llm_words else None,
              "probe": head_metrics, "systems": {name: label_scores(found, reference) for name, found in systems.items()}}
    print(f"SYNTHETIC images; {len(scored)} {args.split} studies; probe validation macro AUC {head_metrics['val_macro_auc']}")
    print(f"{'system':22s} macro-F1  hallucination  exact")
    for name, s in result["systems"].items():
        hall = "n/a" if s["hallucination_rate"] is None else f"{s['hallucination_rate']:.3f}"
        print(f"{name:22s} {s['finding_macro_f1']:.3f}     {hall:>6s}         {s['exact_findings_match']:.3f}")
    per = result["systems"]["probe"]["per_observation"]
    print("probe per observation (F1, support): " + ", ".join(f"{k} {v['f1']:.2f} ({v['support']})" for k, v in per.items()))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


def lora_from_word_tokens(loaded, probs, max_new_tokens: int, batch_size: int = 16) -> list[str]:
    """Summaries from finding tokens ``probs`` (N, 14) made with the word columns (no grid tokens), greedy with the
    checkpoint's guidance (null rows: every finding at 0.5), after the summary instruction."""
    import torch

    from radscribe.xraygpt.batch_decode import decode_runs
    from radscribe.xraygpt.conversation import SUMMARY_INSTRUCTIONS, Turn, build_prompt
    from radscribe.xraygpt.finding_tokens import finding_slots, finding_word_columns

    model, guidance = loaded.model, loaded.default_guidance
    columns = finding_word_columns(model.llm, model.tokenizer)
    embed = model.llm.get_input_embeddings()
    prompt = embed(torch.tensor([model.text_ids(build_prompt([Turn(SUMMARY_INSTRUCTIONS[0])]))]))

    def rows(p: torch.Tensor) -> torch.Tensor:
        return torch.cat([finding_slots(p, 0) @ columns.T, prompt.expand(len(p), -1, -1)], 1)

    out = []
    with torch.inference_mode():
        for start in range(0, len(probs), batch_size):
            p = probs[start:start + batch_size]
            runs = [rows(p)] + ([rows(torch.full_like(p, 0.5))] if guidance > 0 else [])
            out += [model.text_from_ids(iter(ids)).strip() for ids in decode_runs(model, runs, max_new_tokens, guidance)]
    return out


if __name__ == "__main__":
    main()
