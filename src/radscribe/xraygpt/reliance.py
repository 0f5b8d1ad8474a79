"""Does the answer depend on the image? Two checks on held-out studies, cheap enough to run every few steps.

* :func:`image_reliance`: the answer-token loss of the summaries with each study's own image vs another
  study's (stage-1 form). Equal losses mean nothing study-specific reaches the LLM.
* :func:`label_question_auc`: for "Is the heart enlarged?" and the other label questions, the margin
  log p(" Yes") - log p(" No") of the first answer token, ranked against the study's label (ROC AUC per
  observation). It tells whether one finding reaches the answer, and ``yes_rate`` whether it ever says yes.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Sequence

import torch

from radscribe.cxr.labeler import OBSERVATIONS
from radscribe.xraygpt.conversation import LABEL_QUESTIONS, Turn, build_prompt
from radscribe.xraygpt.data import CxrExample, load_image_batch
from radscribe.xraygpt.finding_tokens import macro_auc
from radscribe.xraygpt.medclip_loss import label_matrix

if TYPE_CHECKING:
    from radscribe.xraygpt.model import XrayGPT


@torch.no_grad()
def image_reliance(model: XrayGPT, examples: Sequence[CxrExample], max_answer_tokens: int = 64,
                   max_examples: int = 96, seed: int = 0) -> dict:
    """Answer-token loss on held-out studies with their own image vs another study's image (stage-1 form).

    Equal losses mean the projection passes no study-specific information: the LLM writes its prior
    whatever the image shows (the failure we saw after long training: it memorises training summaries).
    """
    examples = list(examples)[:max_examples]
    if len(examples) < 2:
        return {}
    images = load_image_batch(examples, model.encoder.config.image_size)
    shuffled = list(range(len(examples)))
    random.Random(seed).shuffle(shuffled)
    model.eval()
    losses = {}
    for name, order in (("own_image", list(range(len(examples)))), ("other_image", shuffled)):
        total = count = 0.0
        for start in range(0, len(examples), 8):
            idx = list(range(start, min(start + 8, len(examples))))
            batch = model.make_batch(images[[order[i] for i in idx]], ["" for _ in idx],  # moved to the model's device there
                                     [examples[i].summary for i in idx], max_answer_tokens)
            n = int((batch.labels[:, 1:] != -100).sum())
            total += float(model.loss(batch)) * n
            count += n
        losses[f"val_loss_{name}"] = round(total / max(count, 1), 4)
    losses["other_minus_own"] = round(losses["val_loss_other_image"] - losses["val_loss_own_image"], 4)
    return losses


@torch.no_grad()
def label_question_auc(model: XrayGPT, examples: Sequence[CxrExample], observations: Sequence[str],
                       batch_size: int = 16) -> dict:
    """ROC AUC of the yes-minus-no margin per observation (those with both classes), its mean and the yes rate."""
    model.eval()
    tok, embed = model.tokenizer, model.llm.get_input_embeddings()
    yes, no = (tok(word, add_special_tokens=False)["input_ids"][0] for word in (" Yes", " No"))
    images = load_image_batch(list(examples), model.encoder.config.image_size)
    margins = torch.full((len(examples), len(OBSERVATIONS)), float("nan"))
    for name in observations:
        ids = tok(build_prompt([Turn(LABEL_QUESTIONS[name])]), add_special_tokens=False)["input_ids"]
        text = embed(torch.tensor([ids], device=embed.weight.device))
        for start in range(0, len(examples), batch_size):
            visual = model.visual_embeds(images[start:start + batch_size])
            inputs = torch.cat([visual, text.expand(len(visual), -1, -1).to(visual.dtype)], 1)
            logp = model.llm(inputs_embeds=inputs, use_cache=False).logits[:, -1].float().log_softmax(-1)
            margins[start:start + len(visual), OBSERVATIONS.index(name)] = (logp[:, yes] - logp[:, no]).cpu()
    asked = [OBSERVATIONS.index(n) for n in observations]
    labels = label_matrix([e.labels for e in examples])
    _, per = macro_auc(torch.nan_to_num(margins), labels)
    per = {k: v for k, v in per.items() if k in observations}
    return {"auc": per, "mean_auc": round(sum(per.values()) / len(per), 4) if per else None,
            "yes_rate": round(float((margins[:, asked] > 0).float().mean()), 4), "n": len(examples)}
