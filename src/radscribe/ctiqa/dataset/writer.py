"""make_dataset(): build a SYNTHETIC CT-IQA dataset folder, resumably.

Layout of ``out``::

    dataset.json          the settings it was built with (a resumed run must match them)
    annotations.jsonl     one record per slice (schema: records.py), appended as slices finish
    images/000123.png     degraded slice, 16-bit PNG of HU + 1024 (radscribe.io reads it as HU)
    reference/000123.png  the same slice scanned at full quality (same geometry and kernel)
    dicom/000123.dcm      with --dicom: the degraded slice as CT DICOM, "SYNTHETIC" in its descriptions
    README.md, plots/, preview_grid.png   the dataset card (card.py, grid.py)

Resuming: a record line is written only after its images, in one write() with fsync, so
after a kill the folder holds whole records; a rerun with the same settings skips them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import multiprocessing
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from radscribe.ctiqa.dataset.pipeline import (cached_phantom, refine_phantom, run_slice, run_targeted_slice,
                                              widen_phantom)
from radscribe.ctiqa.dataset.records import ANNOTATIONS_FILE, RecordLog, json_safe, read_records
from radscribe.ctiqa.dataset.splits import SliceSpec, assign_splits, plan_slices, seed_for
from radscribe.ctiqa.phantoms import ANATOMIES, ARMS_DOWN_ANATOMIES, Phantom, heldout_real_ct_paths, real_phantoms
from radscribe.ctiqa.sampling import check_kinds
from radscribe.errors import ConfigError, NoImagesFoundError
from radscribe.io.writers import atomic_write_json, write_hu_png

log = logging.getLogger(__name__)
SETTINGS_FILE = "dataset.json"
REAL_SPLIT_CHOICES = ("real", "test-real", "train", "val", "test", "by-patient")
PHANTOM_SPLIT_CHOICES = ("by-patient", "train", "val", "test")
TRAINABLE_SPLITS = ("train", "val", "by-patient")


@dataclass
class DatasetConfig:
    """How to build a dataset. Defaults make the 2,000-slice, 512-pixel SYNTHETIC set."""

    out: str
    n: int = 2000
    seed: int = 0
    size: int = 512
    anatomies: tuple[str, ...] = ANATOMIES
    per_patient: int = 2  # slices per phantom patient, each with its own sampled degradation
    dicom: bool = False
    workers: int = 1
    real: list[str] = field(default_factory=list)  # real CT files/folders used as anatomy instead of phantoms
    # split of the real-anatomy slices: "real" (evaluation), "test-real" (the held-out set), "train", "val",
    # "test", or "by-patient" (80/10/10 by source volume, as phantoms are; with under 3 volumes all train)
    real_split: str = "real"
    # share of slices reconstructed on a targeted (smaller) field of view, 40-90% of the body's (a real slice's:
    # of its field, resampled finer; real scans of small fields come on 0.3-0.5 mm pixels the volumes lack):
    # real scans come with fields from under 100 mm to over 400 mm, and a model that saw one per anatomy
    # reads a zoomed clean slice as degraded (benchmarks/ctiqa_clean_scans.py fov)
    targeted_fov: float = 0.0
    # share of the other slices reconstructed on a wider field than the body needs (120-190% of it):
    # a clean head in a 250 mm holder field or a small patient in a 500 mm field was read as blurred
    # (benchmarks/ctiqa_clean_scans.py fov); labels are unchanged, the reference is the same wide scan
    wide_fov: float = 0.0
    # share of blur draws made by a soft reconstruction kernel (smooths the noise too) instead of signal blur
    # (focal spot, detector: the noise stays sharp); 0 leaves every acquisition as it was before the option
    soft_kernel: float = 0.0
    # share of chest and abdomen phantom slices scanned with the arms down at the sides (phantoms/arms.py): more
    # noise, lined up left to right; a real arms-down abdomen's noise was read as streaks. 0: as before
    arms_down: float = 0.0
    # split of the phantom slices: "by-patient" (80/10/10) or all in one split; "train" makes a supplement whose
    # merge leaves another set's validation and test slices as they were (a like-for-like comparison needs that)
    phantom_split: str = "by-patient"
    # degradation kinds drawn (sampling.MIXTURE's names; empty: the whole mixture, as before the option): a
    # training-only supplement of the aspects a model reads worst, e.g. ("motion", "blur")
    kinds: tuple[str, ...] = ()

    def validate(self) -> None:
        if self.n < 1:
            raise ConfigError(f"--n must be at least 1, got {self.n}")
        if self.seed < 0:
            raise ConfigError(f"--seed must be non-negative, got {self.seed}")
        if not 128 <= self.size <= 2048:  # below 128 px a 400 mm body needs pixels coarser than a scanner's
            raise ConfigError(f"--size {self.size} is out of range: use 128 to 2048 (512 is typical)")
        unknown = [a for a in self.anatomies if a not in ANATOMIES]
        if unknown or not self.anatomies:
            raise ConfigError(f"unknown anatomy {unknown}; choose from {', '.join(ANATOMIES)}")
        if self.per_patient < 1:
            raise ConfigError(f"--per-patient must be at least 1, got {self.per_patient}")
        if self.workers < 1:
            raise ConfigError(f"--workers must be at least 1, got {self.workers}")
        if not 0.0 <= self.targeted_fov <= 1.0:
            raise ConfigError(f"--targeted-fov is a share of slices in [0, 1], got {self.targeted_fov}")
        if not 0.0 <= self.wide_fov <= 1.0:
            raise ConfigError(f"--wide-fov is a share of slices in [0, 1], got {self.wide_fov}")
        if not 0.0 <= self.soft_kernel <= 1.0:
            raise ConfigError(f"--soft-kernel is a share of blurred slices in [0, 1], got {self.soft_kernel}")
        if not 0.0 <= self.arms_down <= 1.0:
            raise ConfigError(f"--arms-down is a share of chest and abdomen slices in [0, 1], got {self.arms_down}")
        if self.real_split not in REAL_SPLIT_CHOICES:
            raise ConfigError(f"--real-split {self.real_split!r}: choose from {', '.join(REAL_SPLIT_CHOICES)}")
        if self.phantom_split not in PHANTOM_SPLIT_CHOICES:
            raise ConfigError(f"--phantom-split {self.phantom_split!r}: choose from {', '.join(PHANTOM_SPLIT_CHOICES)}")
        if self.real and self.phantom_split != "by-patient":
            raise ConfigError("--phantom-split is for phantom slices; real anatomy (--real) takes --real-split")
        try:
            check_kinds(self.kinds)
        except ValueError as exc:
            raise ConfigError(f"--kinds: {exc}") from None

    def settings(self) -> dict[str, Any]:
        """What fixes the content (not where it goes or how many processes make it), with the protocol version:
        a resumed run under a newer annotation protocol would mix two label sets in one folder."""
        from radscribe.ctiqa.annotation import PROTOCOL_VERSION

        d = asdict(self)
        for key in ("out", "workers"):
            d.pop(key)
        d["anatomies"] = list(self.anatomies)
        d["kinds"] = list(self.kinds)
        d["protocol_version"] = PROTOCOL_VERSION
        return d


@dataclass
class Task:
    spec: SliceSpec
    size: int
    dicom: bool
    out: str
    phantom: Phantom | None = None  # real anatomy travels with the task; phantoms are made in the worker
    targeted_fov: float = 0.0
    wide_fov: float = 0.0
    soft_kernel: float = 0.0
    arms_down: float = 0.0
    kinds: tuple[str, ...] = ()


def make_dataset(cfg: DatasetConfig, progress: Callable[[Iterator, int], Iterator] | None = None) -> dict[str, Any]:
    """Build (or finish building) the dataset in ``cfg.out``; returns a summary dict.

    ``progress(iterable, total)`` wraps the loop (the CLI passes a progress bar).
    """
    cfg.validate()
    out = Path(cfg.out)
    tasks = _plan(cfg)  # first: refused inputs leave no folder behind
    _check_settings(out, cfg)
    log_path = out / ANNOTATIONS_FILE
    done = {r["index"] for r in read_records(log_path)} if log_path.exists() else set()
    todo = [t for t in tasks if t.spec.index not in done]
    _remove_stale_temporaries(out)
    log.info("%d slices planned, %d already done, %d to make", len(tasks), len(done), len(todo))
    results = _run(todo, cfg.workers)
    if progress is not None:
        results = progress(results, len(todo))
    with RecordLog(log_path) as record_log:
        for record in results:
            record_log.append(record)
    return {"out": str(out), "planned": len(tasks), "skipped": len(done), "made": len(todo)}


def make_heldout(out: str, per_slice: int = 4, seed: int = 0, size: int = 512, workers: int = 1,
                 dicom: bool = False, progress=None) -> dict[str, Any]:
    """The held-out real-anatomy TEST split: each pydicom-data CT slice scanned ``per_slice`` ways."""
    paths = [str(p) for p in heldout_real_ct_paths()]
    if not paths:
        raise NoImagesFoundError(None, "no held-out real CT files found (is pydicom-data installed?)")
    n = len(list(real_phantoms(paths, size))) * per_slice
    cfg = DatasetConfig(out=out, n=n, seed=seed, size=size, per_patient=per_slice, workers=workers, dicom=dicom,
                        real=paths, real_split="test-real")
    return make_dataset(cfg, progress)


def _check_settings(out: Path, cfg: DatasetConfig) -> None:
    path = out / SETTINGS_FILE
    settings = cfg.settings()
    if path.exists():
        saved = json.loads(path.read_text()).get("settings", {})
        saved.setdefault("protocol_version", settings["protocol_version"])  # folders from before it was recorded
        saved.setdefault("targeted_fov", 0.0)
        saved.setdefault("wide_fov", 0.0)
        saved.setdefault("soft_kernel", 0.0)
        saved.setdefault("arms_down", 0.0)
        saved.setdefault("phantom_split", "by-patient")
        saved.setdefault("kinds", [])
        diff = sorted(k for k in set(settings) | set(saved) if saved.get(k) != settings.get(k))
        if diff:
            raise ConfigError(f"{out} holds a dataset built with other settings ({', '.join(diff)} differ); "
                              "rerun with the same flags to resume, or choose a new --out")
    else:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_json(path, {"settings": settings, "synthetic": True, "kind": "radscribe CT-IQA dataset"})


def _remove_stale_temporaries(out: Path) -> None:
    """A killed run can leave the temporary file of an atomic write; the rerun makes that slice again."""
    for sub in ("images", "reference", "dicom"):
        for tmp in (out / sub).glob(".*.tmp"):
            tmp.unlink(missing_ok=True)


def _plan(cfg: DatasetConfig) -> list[Task]:
    if not cfg.real:
        specs = plan_slices(cfg.n, cfg.seed, tuple(cfg.anatomies), cfg.per_patient)
        if cfg.phantom_split != "by-patient":
            specs = [replace(s, split=cfg.phantom_split) for s in specs]
        return [Task(s, cfg.size, cfg.dicom, cfg.out, targeted_fov=cfg.targeted_fov, wide_fov=cfg.wide_fov,
                     soft_kernel=cfg.soft_kernel, arms_down=cfg.arms_down, kinds=cfg.kinds) for s in specs]
    phantoms = list(real_phantoms(cfg.real, cfg.size))
    if not phantoms:
        raise NoImagesFoundError(cfg.real[0], "no usable CT slice in HU found here (need modality CT, >= 128 px)")
    if cfg.real_split in TRAINABLE_SPLITS:
        _refuse_heldout(phantoms)
    splits = _real_splits(phantoms, cfg.real_split, cfg.seed)
    phantoms = spread_over_patients(phantoms, math.ceil(cfg.n / cfg.per_patient))
    tasks = []
    for index in range(cfg.n):
        phantom = phantoms[(index // cfg.per_patient) % len(phantoms)]
        split = splits[patient_of(phantom)]
        spec = SliceSpec(index, phantom.anatomy, -1, phantom.anatomy_id, split, seed_for(cfg.seed, index))
        tasks.append(Task(spec, cfg.size, cfg.dicom, cfg.out, phantom, targeted_fov=cfg.targeted_fov,
                          wide_fov=cfg.wide_fov, soft_kernel=cfg.soft_kernel, kinds=cfg.kinds))
    return tasks


def spread_over_patients(phantoms: list[Phantom], k: int) -> list[Phantom]:
    """``k`` of the slices, shared as evenly as the patients allow and evenly spaced within each, patients taken
    in turn: a folder of many scans is sampled across all of them, not only its first files. With ``k`` at least
    the number of slices, all of them in file order (datasets made before this function stay the same)."""
    if k >= len(phantoms):
        return phantoms
    by_patient: dict[str, list[Phantom]] = {}
    for p in phantoms:
        by_patient.setdefault(patient_of(p), []).append(p)
    quota, taken = dict.fromkeys(by_patient, 0), 0
    while taken < k:  # one more slice to each patient that has one left, in turn
        for patient, slices in by_patient.items():
            if quota[patient] < len(slices) and taken < k:
                quota[patient] += 1
                taken += 1
    picks = {q: np.linspace(0, len(by_patient[q]) - 1, quota[q]).round().astype(int) for q in by_patient}
    return [by_patient[q][picks[q][i]] for i in range(max(quota.values())) for q in by_patient if i < quota[q]]


def patient_of(phantom: Phantom) -> str:
    return patient_id(phantom.anatomy_id)


def patient_id(anatomy_id: str) -> str:
    """Slices of one volume (or frames of one file) are one patient: ``real-<uid>-f12`` -> ``real-<uid>``."""
    head, _, frame = anatomy_id.rpartition("-f")
    return head if head and frame.isdigit() else anatomy_id


def _real_splits(phantoms: list[Phantom], real_split: str, seed: int) -> dict[str, str]:
    patients = sorted({patient_of(p) for p in phantoms})
    if real_split != "by-patient":
        return dict.fromkeys(patients, real_split)
    if len(patients) < 3:
        log.info("%d real patient(s): all go to train (80/10/10 needs at least 3)", len(patients))
        return dict.fromkeys(patients, "train")
    return assign_splits(patients, seed)


def _refuse_heldout(phantoms: list[Phantom]) -> None:
    """The held-out real-anatomy test slices must never be trained on."""
    held = {patient_of(p) for p in real_phantoms([str(q) for q in heldout_real_ct_paths()], 128)}
    clash = sorted(p.info.get("source", p.anatomy_id) for p in phantoms if patient_of(p) in held)
    if clash:
        raise ConfigError(f"{clash[0]} is in the held-out real-anatomy test split (make-ctiqa-heldout); "
                          "it cannot be used for training")


def _run(tasks: list[Task], workers: int) -> Iterator[dict[str, Any]]:
    if workers == 1 or len(tasks) < 2:
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # as in the workers: the same bits whatever --workers is
        try:
            yield from map(make_record, tasks)
        finally:
            torch.set_num_threads(threads)
        return
    ctx = multiprocessing.get_context("spawn")  # torch and fork do not mix
    with _terminate_raises(), ctx.Pool(workers, initializer=_init_worker) as pool:
        # Leaving the block (end, error, Ctrl-C or SIGTERM) terminates the workers: none is left orphaned.
        yield from pool.imap(make_record, tasks, chunksize=1)  # in order: the log stays sorted by index


@contextlib.contextmanager
def _terminate_raises() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt while the pool runs, so its clean-up runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def raise_interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _init_worker() -> None:
    import torch

    torch.set_num_threads(1)  # one process per core beats threads fighting over the same cores


# targeted field / the body's field, one of a few levels: each level is one grid size, so its projector is
# built once per worker and reused (a continuous draw rebuilt one per slice, several times slower)
FIELD_LEVELS = (0.4, 0.5, 0.6, 0.75, 0.9)
WIDE_LEVELS = (1.2, 1.4, 1.6, 1.9)
MAX_FIELD_MM = 500.0  # the widest display field of most scanners


def field_fraction(task: Task) -> float:
    """1.0, the targeted field fraction (< 1) or the wide field factor (> 1) for this slice.

    Targeted and wide draws have their own random streams, so adding wide fields leaves every
    targeted choice (and every slice that is neither) as it was. Real anatomy too (its slices resampled).
    """
    if task.targeted_fov > 0.0:
        rng = np.random.default_rng([task.spec.seed, 0xF0F])
        if rng.random() < task.targeted_fov:
            return float(FIELD_LEVELS[int(rng.integers(len(FIELD_LEVELS)))])
    if task.wide_fov > 0.0:
        rng = np.random.default_rng([task.spec.seed, 0x1DE])
        if rng.random() < task.wide_fov:
            return float(WIDE_LEVELS[int(rng.integers(len(WIDE_LEVELS)))])
    return 1.0


def arms_drawn(task: Task) -> bool:
    """Whether this phantom slice is scanned with the arms down (its own random stream, as field_fraction's)."""
    if task.arms_down <= 0.0 or task.phantom is not None or task.spec.anatomy not in ARMS_DOWN_ANATOMIES:
        return False
    return bool(np.random.default_rng([task.spec.seed, 0xA235]).random() < task.arms_down)


def make_record(task: Task) -> dict[str, Any]:
    """Make one slice: simulate, annotate, caption, write its images; return its record."""
    spec = task.spec
    fraction = field_fraction(task)
    arms = arms_drawn(task)

    def snug() -> Phantom:  # the patient on the task's grid: a real slice's own, or the drawn phantom
        return task.phantom or cached_phantom(spec.anatomy, spec.phantom_seed, task.size, arms)

    if fraction > 1.0:  # no wider than a scanner's display field
        fraction = min(fraction, MAX_FIELD_MM / snug().fov_mm)
        fraction = fraction if fraction >= 1.1 else 1.0
    if fraction < 1.0:  # the same patient on a finer grid, of which the central task.size pixels are kept
        full = (refine_phantom(task.phantom, fraction) if task.phantom is not None
                else cached_phantom(spec.anatomy, spec.phantom_seed, int(round(task.size / fraction)), arms))
        result, phantom = run_targeted_slice(full, task.size, spec.seed, soft_kernel=task.soft_kernel, kinds=task.kinds)
    elif fraction > 1.0:  # the same patient on a coarser grid: a wider field, the body smaller in it
        phantom = widen_phantom(snug(), fraction)
        result = run_slice(phantom, spec.seed, soft_kernel=task.soft_kernel, kinds=task.kinds)
    else:
        phantom = snug()
        result = run_slice(phantom, spec.seed, soft_kernel=task.soft_kernel, kinds=task.kinds)
    out = Path(task.out)
    name = f"{spec.index:06d}"
    image, reference = f"images/{name}.png", f"reference/{name}.png"
    write_hu_png(out / image, result.sim.degraded_hu, phantom.pixel_spacing_mm)
    write_hu_png(out / reference, result.sim.reference_hu, phantom.pixel_spacing_mm)
    annotation = json_safe(result.annotation.to_dict())
    record = {
        "index": spec.index,
        "image": image,
        "reference_image": reference,
        "split": spec.split,
        "anatomy": phantom.anatomy,
        "anatomy_id": spec.anatomy_id,
        "params": json_safe(result.sim.params.to_dict()),
        "aspects": annotation.get("aspects"),
        "score": annotation.get("score"),
        "category": annotation.get("category"),
        "caption": result.caption,
        "protocol_version": annotation.get("protocol_version"),
        "measurements": annotation.get("measurements"),
        "metal_sites": annotation.get("metal_sites"),
        "synthetic": True,  # the acquisition is simulated even when the anatomy is real
        "synthetic_anatomy": bool(phantom.synthetic),
        "seed": spec.seed,
        "source": phantom.info.get("source", "phantom") if not phantom.synthetic else "phantom",
        "size": int(phantom.hu.shape[0]),
        "pixel_spacing_mm": float(phantom.pixel_spacing_mm),
        "fov_mm": round(float(phantom.fov_mm), 1),
        "targeted_fov": fraction < 1.0,
        "wide_fov": fraction > 1.0,
        "arms_down": bool(phantom.info.get("arms_down", False)),
    }
    if task.dicom:
        from radscribe.ctiqa.dataset.dicom_out import write_ct_dicom

        record["dicom"] = f"dicom/{name}.dcm"
        write_ct_dicom(out / record["dicom"], result.sim.degraded_hu, phantom.pixel_spacing_mm,
                       uid_key=f"{spec.anatomy_id}/{spec.seed}/{spec.index}",
                       description=f"CT-IQA {phantom.anatomy} {record['category']}",
                       comments=f"score {record['score']}; {result.caption}")
    return record
