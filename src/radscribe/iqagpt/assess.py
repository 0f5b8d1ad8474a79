"""The library API other parts of radscribe call to judge CT slices.

>>> from radscribe.io import read_image
>>> from radscribe.iqagpt import load_assessor
>>> assessor = load_assessor()                       # the shipped checkpoint
>>> [row] = assessor.assess(read_image("slice.dcm"))
>>> row["score"], row["category"], row["caption"]

Each result: ``path``, ``slice``, ``score`` (0-4), ``category``, ``aspects`` (severity per aspect),
``caption``, ``model``, ``score_parsed`` (number written in the caption), ``score_expected``
(Q-Align-style, over the category word), ``score_expected_number`` (over the score-number tokens),
and ``sop_uid`` for DICOM input.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import torch

from radscribe.errors import InputError, UnsupportedImageError
from radscribe.io import MedicalImage, get_window
from radscribe.iqagpt.checkpoint import LoadedCaptioner, load_captioner
from radscribe.iqagpt.data import category_of_score
from radscribe.iqagpt.decode import Generated, generate
from radscribe.iqagpt.models.batchnorm import fold_batchnorm
from radscribe.iqagpt.preprocess import needs_spacing, preprocess_uint8, to_model_input
from radscribe.iqagpt.score import ExpectedScore, final_score, parse_caption_fields, score_ending, score_from_parse

log = logging.getLogger(__name__)


def to_hu(image: MedicalImage, window: str | None = None) -> np.ndarray:
    """HU pixels of ``image``; a non-HU image (a screenshot PNG) needs the window it was displayed with."""
    if image.is_hu:
        return image.pixels
    if window is None:
        raise UnsupportedImageError(image.label, f"pixel values are {image.meta.units}, not HU; pass --window "
                                    "(the W/L it was displayed with, e.g. ldct) or --hu for a PNG holding HU")
    win = get_window(window)
    pixels = image.pixels.astype(np.float32)
    top = 255.0 if image.meta.units == "display" or pixels.max() <= 255 else 65535.0
    unit = pixels if image.meta.units == "display" and pixels.max() <= 1.0 else pixels / top
    return win.low + unit * win.width


@dataclass
class Assessor:
    """A loaded captioner plus everything needed to turn slices into scored captions."""

    loaded: LoadedCaptioner
    beams: int = 1
    score_method: str = "parse"  # "parse", "number" or "expected" (Q-Align style); see radscribe.iqagpt.score
    batch_size: int = 64
    # the encoder's convolutions use this many; word-by-word decoding always runs on one (decode.generate).
    # Measured 2026-12-01, idle 2-core machine, 256 test slices end to end: 2 threads 48-50 slices/s, 1 thread 33-37
    threads: int = 2
    window: str | None = None
    # mm per pixel for slices that carry none (PNG, TIFF), read only by models with pixel-size channels
    pixel_spacing: float | None = None
    last_generated: list[Generated] = field(default_factory=list, repr=False)
    _folded: torch.nn.Module | None = field(default=None, init=False, repr=False)

    @property
    def model_name(self) -> str:
        return self.loaded.name

    @property
    def inference_model(self) -> torch.nn.Module:
        """The captioner with its BatchNorms folded into the convolutions (same outputs, less work); made once."""
        if self._folded is None:
            self._folded = fold_batchnorm(self.loaded.model)
        return self._folded

    @property
    def windows(self) -> tuple[str, ...]:
        """The display windows this model's encoder was trained on (its input channels)."""
        return tuple(self.loaded.model.cfg.encoder.windows)

    def preprocess(self, images: Iterable[MedicalImage]) -> np.ndarray:
        spacing = needs_spacing(self.windows)
        return np.stack([preprocess_uint8(to_hu(im, self.window), windows=self.windows,
                                          spacing_mm=self.spacing_of(im) if spacing else None) for im in images])

    def spacing_of(self, image: MedicalImage) -> float:
        """The slice's pixel spacing (mm): its file's own, else ``pixel_spacing``; an InputError if neither."""
        mm = image.spacing_mm or self.pixel_spacing
        if mm:
            return float(mm)
        raise InputError(image.label, "no pixel spacing in this file, and this model reads the pixel size: "
                                      "pass --pixel-spacing MM")

    def assess_arrays(self, batch_uint8: np.ndarray, *, keep_maps: bool = False) -> list[dict]:
        """Captions and scores for already preprocessed slices (uint8, (B, len(windows), 256, 256))."""
        torch.set_num_threads(self.threads)
        tok = self.loaded.tokenizer
        expected = ExpectedScore(tok)
        ending = score_ending(tok)  # a caption that runs out of words before its score is made to give one
        rows: list[dict] = []
        self.last_generated = []
        for start in range(0, len(batch_uint8), self.batch_size):
            x = to_model_input(batch_uint8[start:start + self.batch_size])
            gen = generate(self.inference_model, x, tok.bos_id, tok.eos_id, tok.pad_id, beams=self.beams, need_cross=keep_maps,
                           ending=ending)
            if keep_maps:
                self.last_generated.append(gen)
            by_category = expected.category(gen.probs, gen.tokens)
            by_number = expected.number(gen.probs, gen.tokens)
            for i in range(x.shape[0]):
                caption = tok.decode(gen.tokens[i, 1:].tolist())
                fields = parse_caption_fields(caption)
                parsed = score_from_parse(fields)
                score = final_score({"parse": parsed, "number": by_number[i], "expected": by_category[i]}, self.score_method)
                rows.append({
                    "score": score,
                    "category": category_of_score(score) if score is not None else fields["category"],
                    "aspects": fields["aspects"],
                    "caption": caption,
                    "model": self.model_name,
                    "score_parsed": parsed,
                    "score_expected": None if by_category[i] is None else round(by_category[i], 3),
                    "score_expected_number": None if by_number[i] is None else round(by_number[i], 3),
                })
        return rows

    def assess(self, images: list[MedicalImage], *, keep_maps: bool = False) -> list[dict]:
        """One result dict per slice (see the module docstring)."""
        if not images:
            return []
        rows = self.assess_arrays(self.preprocess(images), keep_maps=keep_maps)
        return [with_source(image, row) for image, row in zip(images, rows)]


def with_source(image: MedicalImage, row: dict) -> dict:
    """``path``, ``slice`` (and ``sop_uid`` for DICOM) first, then the assessment."""
    head: dict = {"path": image.meta.source, "slice": image.meta.frame}
    if image.meta.format == "dicom":
        head["sop_uid"] = image.meta.sop_uid
    return {**head, **row}


def load_assessor(model_dir: str | Path | None = None, **options) -> Assessor:
    """The shipped captioner (or the checkpoint folder ``model_dir``) ready to assess slices."""
    return Assessor(load_captioner(model_dir), **options)


def throughput(assessor: Assessor, batch: np.ndarray, repeats: int = 1,
               clock: Callable[[], float] = time.perf_counter) -> float:
    """Slices per second for preprocessed input (used by the benchmark)."""
    t0 = clock()
    for _ in range(repeats):
        assessor.assess_arrays(batch)
    return repeats * len(batch) / max(1e-9, clock() - t0)
