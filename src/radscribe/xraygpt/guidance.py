"""Image guidance at decoding time: amplify what the image adds to the LLM's next-token scores.

Measured here (docs/xraygpt.md): the image does move the LLM's answer (label-question AUC up to 0.80), but
too little to change a greedy summary, which stays the language prior's normal report. Guidance contrasts
the scores with the image against the scores with no image, as classifier-free guidance does for
text-conditioned generation (Sanchez et al. 2023) and visual contrastive decoding does for vision-language
models (Leng et al. 2023, VCD):

    guided = with_image + w * (with_image - without_image)

restricted to tokens that are plausible with the image (probability at least ``plausibility`` times the
most likely one's; VCD's adaptive plausibility constraint), so amplification cannot pick a token the
model itself finds absurd. ``w = 0`` is plain decoding; the null run costs a second forward pass per token.
"""

from __future__ import annotations

import math

import torch


def guided_logits(with_image: torch.Tensor, without_image: torch.Tensor, weight: float,
                  plausibility: float = 0.1) -> torch.Tensor:
    """(..., V) next-token logits -> guided logits; implausible tokens get -inf."""
    if weight == 0:
        return with_image
    log_p = torch.log_softmax(with_image.float(), -1)
    guided = (1 + weight) * log_p - weight * torch.log_softmax(without_image.float(), -1)
    keep = log_p >= log_p.amax(-1, keepdim=True) + math.log(plausibility)
    return guided.masked_fill(~keep, float("-inf"))
