"""A multi-turn conversation about one radiograph: history, streaming answers, reset.

The image tokens come first, then the system line and the ``###Patient / ###Doctor`` turns, as in
training. Sampling defaults follow XrayGPT's demo only when asked (``temperature>0``); greedy is the default
so one-shot answers are reproducible.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import torch

from radscribe.xraygpt.checkpoint import LoadedModel
from radscribe.xraygpt.conversation import Turn, build_prompt
from radscribe.xraygpt.encoder import preprocess, to_unit_range
from radscribe.xraygpt.guidance import gated_weights

log = logging.getLogger(__name__)

OUT_OF_DISTRIBUTION_NOTE = (
    "this model was trained on SYNTHETIC radiographs (radscribe's renderer); a real radiograph is out of its "
    "training distribution, so treat its answer as a demonstration, not a reading"
)


@dataclass
class ImageInput:
    """The preprocessed image and what we know about its source."""

    tensor: torch.Tensor
    source: str
    modality: str | None
    units: str


def load_chat_image(path: str | Path, image_size: int) -> ImageInput:
    """Any file radscribe reads (DICOM CR/DX -> display values in [0, 1]; PNG/JPEG stretched)."""
    from radscribe.io import read_image

    image = read_image(path)[0]
    pixels = to_unit_range(image.pixels, image.meta.units)
    return ImageInput(preprocess(pixels, image_size), str(path), image.meta.modality, image.meta.units)


def is_out_of_distribution(image: ImageInput, manifest: dict) -> bool:
    """A model trained only on synthetic images sees any real file (DICOM, or a PNG not from make-cxr) as OOD."""
    return bool(manifest.get("synthetic", True)) and image.modality is not None


@dataclass
class ChatSession:
    loaded: LoadedModel
    image: ImageInput
    max_new_tokens: int = 160
    temperature: float = 0.0
    top_p: float = 0.9
    seed: int | None = 0
    # image guidance weight (radscribe.xraygpt.guidance); 0 = plain decoding; None = the checkpoint's default
    guidance: float | None = None
    # guide only if the encoder reads a finding at this probability (guidance.gated_weights); None = the checkpoint's
    guidance_gate: float | None = None
    history: list[Turn] = field(default_factory=list)

    @property
    def guidance_weight(self) -> float:
        """The weight this image is decoded with: the set weight, or 0 when the gate finds nothing to amplify."""
        weight = self.loaded.default_guidance if self.guidance is None else self.guidance
        gate = self.gate
        if gate <= 0 or weight == 0:
            return weight
        return gated_weights(self.loaded.model.finding_reading(self.image.tensor[None]), weight, gate)[0]

    @property
    def gate(self) -> float:
        return self.loaded.default_guidance_gate if self.guidance_gate is None else self.guidance_gate

    def reset(self) -> None:
        self.history.clear()

    def ask(self, question: str) -> Iterator[str]:
        """Stream the answer to ``question``; when the stream ends the turn is in ``history``."""
        turns = [*self.history, Turn(question.strip())]
        prompt = build_prompt(turns)
        pieces = []
        for piece in self.loaded.model.stream(self.image.tensor, prompt, max_new_tokens=self.max_new_tokens,
                                              temperature=self.temperature, top_p=self.top_p, seed=self.seed,
                                              guidance=self.guidance_weight):
            pieces.append(piece)
            yield piece
        self.history.append(Turn(question.strip(), "".join(pieces).strip()))

    def answer(self, question: str) -> str:
        return "".join(self.ask(question)).strip()
