"""`radscribe benchmark ctiqa`: the captioner's three score read-outs against four baselines,
on the synthetic test split and the held-out real-anatomy split. Writes report.md, report.json
and plots (predicted vs true scatter per method, per-aspect confusion matrices).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import torch

from radscribe.errors import ConfigError
from radscribe.io import atomic_write_json, atomic_write_text
from radscribe.iqagpt.assess import Assessor, load_assessor
from radscribe.iqagpt.baselines.train import BASELINES, BaselineConfig, fit, load_baseline, predict, save_baseline
from radscribe.iqagpt.data import (ASPECTS, CTIQAData, canonical_captions, load_splits, read_annotations, record_spacing,
                                   severity_index)
from radscribe.iqagpt.metrics import aspect_accuracy, caption_metrics, confusion, correlations
from radscribe.iqagpt.models.batchnorm import recalibrate_batchnorm
from radscribe.iqagpt.models.encoder import EncoderConfig
from radscribe.iqagpt.precision import resolve_precision
from radscribe.iqagpt.preprocess import resolve_windows
from radscribe.iqagpt.score import ExpectedScore, llm_scores, parse_caption_fields, score_from_parse
from radscribe.iqagpt.tokenizer import WordTokenizer

log = logging.getLogger(__name__)
REAL_SPLITS = ("test-real", "real")
Progress = Callable[[Iterable, int, str], Iterable]


@dataclass
class BenchmarkConfig:
    data: str
    out: str
    real_data: str | None = None
    model: str | None = None  # captioner checkpoint folder; None = shipped
    baseline: BaselineConfig = field(default_factory=BaselineConfig)
    baselines: tuple[str, ...] = tuple(BASELINES)
    llm_subset: int = 16  # captions scored by the LLM per split (slow on CPU); 0 = skip
    retrain_baselines: bool = False  # False: reuse OUT/baselines/* from an earlier run with the same config
    match_epochs: bool = False  # True: baselines train as many epochs as the captioner did (its manifest)
    limit: int | None = None  # evaluate only the first N slices of each split (quick runs)
    threads: int = 2


def _references(records: list[dict], n: int = 5) -> list[list[str]]:
    """The stored caption plus n-1 other phrasings of the same annotation (the templates vary wording by seed)."""
    try:
        from radscribe.ctiqa import Annotation
        from radscribe.ctiqa.text import describe
    except ImportError:
        return [[r["caption"]] for r in records]
    refs = []
    for r in records:
        out = [r["caption"]]
        try:
            annotation = Annotation.from_dict(r)
            # seed 0 is the wording the shipped captioner was trained on (TrainConfig.caption_seed)
            seeds = [0] + [int(r.get("seed") or 0) + k for k in range(1, n - 1)]
            out += [describe(annotation, anatomy=r.get("anatomy") or "", seed=s) for s in seeds]
        except Exception as error:  # imported data (no aspects) cannot be re-described: one reference it is
            log.debug("no extra references for %s: %s", r.get("image"), error)
        refs.append(list(dict.fromkeys(out)))
    return refs


def _captioner_eval(assessor: Assessor, data: CTIQAData, llm_n: int) -> dict:
    """Captions, the three score read-outs, aspects and timing for one split."""
    tok = assessor.loaded.tokenizer
    expected = ExpectedScore(tok)
    t0 = time.perf_counter()
    rows = assessor.assess_arrays(data.images, keep_maps=False)
    seconds = time.perf_counter() - t0
    captions = [r["caption"] for r in rows]
    aspects = np.array([[severity_index(r["aspects"].get(a)) for a in ASPECTS] for r in rows], dtype=np.int64)
    out = {
        "captions": captions,
        "parse": [r["score_parsed"] for r in rows],
        "expected_category": [r["score_expected"] for r in rows],
        "expected_number": [r["score_expected_number"] for r in rows],
        "aspects": aspects,
        "seconds": seconds,
    }
    if llm_n > 0:
        subset = list(range(min(llm_n, len(data))))
        t1 = time.perf_counter()
        try:
            out["llm"] = llm_scores([captions[i] for i in subset])
            out["llm_index"] = subset
            out["llm_seconds"] = time.perf_counter() - t1
        except Exception as error:  # no LLM configured or it failed: the benchmark still reports the rest
            log.warning("LLM scoring skipped: %s", error)
            out["llm_error"] = str(error)
    return out


def _end_to_end_rate(assessor: Assessor, data: CTIQAData, data_dir: Path, n: int = 128) -> float:
    """Slices/s from decoded HU pixels to JSON lines (preprocess + caption + scores + json.dumps), batched."""
    from radscribe.io import read_image

    images = []
    for record in data.records[:n]:
        for image in read_image(data_dir / record["image"]):
            spacing = record_spacing(record, image)  # PNGs made before they carried it: the record's
            image.meta.pixel_spacing = (spacing, spacing) if spacing else image.meta.pixel_spacing
            images.append(image)
    t0 = time.perf_counter()
    rows = assessor.assess(images)
    _ = [json.dumps(r) for r in rows]
    return len(images) / (time.perf_counter() - t0)


def _method_row(name: str, pred, true_scores, pred_aspects, true_aspects, rate: float | None, extra: dict | None = None) -> dict:
    row = {"method": name, **correlations(pred, true_scores)}
    acc = aspect_accuracy(pred_aspects, true_aspects) if pred_aspects is not None and (pred_aspects >= 0).any() else {}
    row["aspect_accuracy"] = {ASPECTS[j]: v for j, v in acc.items()}
    known = [v for v in row["aspect_accuracy"].values() if v is not None]
    row["aspect_accuracy_mean"] = float(np.mean(known)) if known else None
    row["slices_per_s"] = rate
    row.update(extra or {})
    return row


def evaluate_split(split_name: str, data: CTIQAData, data_dir: Path, assessor: Assessor, baselines: dict,
                   cfg: BenchmarkConfig) -> dict:
    true = data.scores.astype(float)
    cap = _captioner_eval(assessor, data, cfg.llm_subset)
    rate_model = len(data) / cap["seconds"]
    rate_e2e = _end_to_end_rate(assessor, data, data_dir)
    caption_scores = caption_metrics(cap["captions"], _references(data.records))
    methods = [
        _method_row("captioner: Q-Align expected (category word)", cap["expected_category"], true, cap["aspects"], data.aspects,
                    rate_e2e, {"captions": caption_scores}),
        _method_row("captioner: parse caption", cap["parse"], true, cap["aspects"], data.aspects, rate_e2e),
        _method_row("captioner: expected (score number)", cap["expected_number"], true, cap["aspects"], data.aspects, rate_e2e),
    ]
    if "llm" in cap:
        idx = cap["llm_index"]
        methods.append(_method_row(f"captioner: LLM reads caption (first {len(idx)})", cap["llm"], true[idx], None, None,
                                   len(idx) / cap["llm_seconds"]))
        methods.append(_method_row(f"captioner: parse caption (same {len(idx)}, for comparison)",
                                   [cap["parse"][i] for i in idx], true[idx], None, None, None))
    predictions = {m["method"]: p for m, p in zip(methods, [cap["expected_category"], cap["parse"], cap["expected_number"]])}
    aspect_preds = {"captioner": cap["aspects"]}
    for name, model in baselines.items():
        t0 = time.perf_counter()
        scores, aspects = predict(model, data.images)
        rate = len(data) / (time.perf_counter() - t0)
        methods.append(_method_row(f"baseline: {name}", list(scores), true, aspects, data.aspects, rate))
        predictions[f"baseline: {name}"] = list(scores)
        if (aspects >= 0).any():
            aspect_preds[name] = aspects
    return {
        "split": split_name,
        "n": len(data),
        "synthetic": data.synthetic,
        "methods": methods,
        "aspect_accuracy_always_none": _always_none(data.aspects),
        "model_slices_per_s": rate_model,
        "end_to_end_slices_per_s": rate_e2e,
        "examples": [{"image": r["image"], "true_score": float(s), "reference": r["caption"], "generated": c}
                     for r, s, c in list(zip(data.records, true, cap["captions"]))[:6]],
        "_predictions": predictions,
        "_aspects": aspect_preds,
        "_true": true,
        "_true_aspects": data.aspects,
    }


def _always_none(true_aspects: np.ndarray) -> float | None:
    """Mean per-aspect accuracy of a predictor that always says 'none': the floor aspect accuracy must beat."""
    known = true_aspects >= 0
    if not known.any():
        return None
    return float(np.mean([(true_aspects[known[:, j], j] == 0).mean() for j in range(true_aspects.shape[1]) if known[:, j].any()]))


def same_augmentation(baseline: BaselineConfig, captioner_train_config: dict, epochs: bool = False) -> BaselineConfig:
    """The baselines augmented and fed as the captioner under test was (its manifest's train_config): like for like;
    with ``epochs`` also trained as long."""
    keys = ("shift_px", "flips", "transposes", "ring_channel", "windows", "precision") + (("epochs",) if epochs else ())
    # a manifest from before transposes, the ring map or bf16 training existed was trained without them
    known = ({"transposes": False, "ring_channel": False, "precision": "fp32"}
             if "flips" in captioner_train_config else {})
    known.update({k: captioner_train_config[k] for k in keys if k in captioner_train_config})
    if "windows" in known:
        known["windows"] = tuple(known["windows"])  # a list in the manifest's JSON
    return replace(baseline, **known)


def train_baselines(cfg: BenchmarkConfig, train: CTIQAData, progress: Progress | None) -> tuple[dict, dict]:
    enc = EncoderConfig(widths=tuple(cfg.baseline.widths), stem_stride=cfg.baseline.stem_stride,
                        ring_channel=cfg.baseline.ring_channel, windows=tuple(cfg.baseline.windows))
    canonical_captions(train, 0)  # CLIP-IQA learns from the same wording as the captioner
    tok = WordTokenizer.build(train.captions)
    folder = Path(cfg.out) / "baselines"
    signature = json.dumps({"config": asdict(cfg.baseline), "n_train": len(train), "data": str(cfg.data)}, sort_keys=True)
    models, info = {}, {}
    for name in cfg.baselines:
        model = BASELINES[name](enc, tok)
        # one stamp per baseline, written after its weights: an interrupted run keeps the baselines it finished
        stamp = folder / f"{name}.signature.json"
        same = stamp.is_file() and stamp.read_text() == signature
        if same and not cfg.retrain_baselines and load_baseline(model, folder / name):
            info[name] = {"reused": True}
        else:
            info[name] = fit(model, train, cfg.baseline, progress, name)
            save_baseline(model, folder / name)
            atomic_write_text(stamp, signature)
        if isinstance(model, torch.nn.Module):  # population BatchNorm statistics, whether trained now or reused
            info[name]["batchnorm_recalibrated_on"] = recalibrate_batchnorm(model, train.images)
            model.eval()
        models[name] = model
    return models, info


def run_benchmark(cfg: BenchmarkConfig, progress: Progress | None = None) -> dict:
    torch.set_num_threads(cfg.threads)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    wrap = progress or (lambda it, total, desc: it)
    assessor = load_assessor(cfg.model, threads=cfg.threads)
    baseline = same_augmentation(cfg.baseline, assessor.loaded.manifest.get("train_config") or {},
                                 epochs=cfg.match_epochs)
    cfg = replace(cfg, baseline=replace(baseline, precision=resolve_precision(baseline.precision)))  # stamped as run
    data_dir = Path(cfg.data)
    windows = assessor.windows
    if resolve_windows(cfg.baseline.windows) != windows:
        raise ConfigError(f"the baselines would see windows {list(cfg.baseline.windows)}, the captioner {list(windows)}")
    train = load_splits(data_dir, ["train"], windows=windows, progress=lambda it: wrap(it, len(it), "preprocessing train"))
    baselines, baseline_info = train_baselines(cfg, train, progress)
    splits = []
    test = load_splits(data_dir, ["test"], limit=cfg.limit, windows=windows,
                       progress=lambda it: wrap(it, len(it), "preprocessing test"))
    splits.append(evaluate_split("test (synthetic)", test, data_dir, assessor, baselines, cfg))
    real_dir = Path(cfg.real_data) if cfg.real_data else data_dir
    real_splits = sorted({r["split"] for r in read_annotations(real_dir)} & set(REAL_SPLITS))
    if real_splits:
        real = load_splits(real_dir, real_splits, limit=cfg.limit, windows=windows,
                           progress=lambda it: wrap(it, len(it), "preprocessing real"))
        splits.append(evaluate_split("held-out real anatomy (simulated acquisitions)", real, real_dir, assessor, baselines, cfg))
    report = {
        "synthetic": True,
        "note": "SYNTHETIC benchmark: simulated acquisitions annotated by radscribe's protocol, not radiologists.",
        "captioner": {"path": str(assessor.loaded.path), "manifest": {k: assessor.loaded.manifest.get(k) for k in
                                                                      ("name", "command", "train_config", "data", "best_val_loss")}},
        "baseline_config": asdict(cfg.baseline),
        "baselines_trained": baseline_info,
        "llm_subset": cfg.llm_subset,
        "threads": cfg.threads,
        "splits": [{k: v for k, v in s.items() if not k.startswith("_")} for s in splits],
    }
    from radscribe.iqagpt.report import write_plots, write_markdown

    report["plots"] = write_plots(out, splits)
    atomic_write_json(out / "report.json", _jsonable(report))
    atomic_write_text(out / "report.md", write_markdown(report))
    return report


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    if isinstance(obj, float):
        return round(obj, 4)
    return obj
