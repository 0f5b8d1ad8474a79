"""Benchmark: cost per slice of the CT-IQA data pipeline, against the 20-minute target for 2,000 slices.

Stages timed per slice: phantom, sample_params + simulate, annotate, describe, write (two 16-bit PNGs).
Baseline, timed in the same run on the same slice: scikit-image radon + iradon (FBP) with
``--baseline-views`` views, so numbers from different machines can be compared as ratios.
With ``--dataset-n`` it also times ``make_dataset`` end to end with ``--workers`` processes.

    .venv/bin/python benchmarks/ctiqa_data.py --size 512 --n 6 --json bench.json
    .venv/bin/python benchmarks/ctiqa_data.py --size 512 --n 4 --dataset-n 8 --workers 2 --profile
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import platform
import pstats
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

TARGET_SLICES = 2000
TARGET_SECONDS = 20 * 60


def _timed(fn, *args, **kwargs):
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t


def stage_times(size: int, n: int, tmp: Path) -> dict[str, list[float]]:
    from radscribe.ctiqa import annotate_simulation, sample_params
    from radscribe.ctiqa.dataset.pipeline import _protocol
    from radscribe.ctiqa.phantoms import ANATOMIES, make_phantom
    from radscribe.ctiqa.physics import simulate
    from radscribe.io.writers import write_hu_png

    describe = _protocol()[2]
    times: dict[str, list[float]] = {k: [] for k in ("phantom", "simulate", "annotate", "describe", "write")}
    for i in range(n):
        anatomy = ANATOMIES[i % len(ANATOMIES)]
        phantom, dt = _timed(make_phantom, anatomy, 100 + i, size)
        times["phantom"].append(dt)
        rng = np.random.default_rng(i)
        t = time.perf_counter()
        sim = simulate(phantom.hu, phantom.pixel_spacing_mm, sample_params(rng, phantom), body_mask=phantom.body_mask)
        times["simulate"].append(time.perf_counter() - t)
        annotation, dt = _timed(annotate_simulation, sim, phantom)
        times["annotate"].append(dt)
        _, dt = _timed(describe, annotation, anatomy=anatomy, seed=i)
        times["describe"].append(dt)
        t = time.perf_counter()
        write_hu_png(tmp / f"{i}.png", sim.degraded_hu)
        write_hu_png(tmp / f"{i}_ref.png", sim.reference_hu)
        times["write"].append(time.perf_counter() - t)
    return times


def baseline_seconds(size: int, views: int) -> float:
    """scikit-image radon + iradon (ramp FBP) of an abdomen phantom slice: a fixed reference workload."""
    from skimage.transform import iradon, radon

    from radscribe.ctiqa.phantoms import make_phantom

    mu = (make_phantom("abdomen", 100, size).hu + 1000.0) / 1000.0
    theta = np.linspace(0.0, 180.0, views, endpoint=False)
    t = time.perf_counter()
    iradon(radon(mu, theta, circle=False), theta, output_size=size)
    return time.perf_counter() - t


def dataset_seconds(size: int, n: int, workers: int, tmp: Path) -> float:
    from radscribe.ctiqa.dataset import DatasetConfig, make_dataset

    _, dt = _timed(make_dataset, DatasetConfig(out=str(tmp / "ds"), n=n, size=size, workers=workers, seed=1))
    return dt


def profile_simulate(size: int, top: int = 15) -> str:
    from radscribe.ctiqa import sample_params
    from radscribe.ctiqa.phantoms import make_phantom
    from radscribe.ctiqa.physics import simulate

    phantom = make_phantom("abdomen", 101, size)
    params = sample_params(np.random.default_rng(0), phantom)
    profiler = cProfile.Profile()
    profiler.enable()
    simulate(phantom.hu, phantom.pixel_spacing_mm, params, body_mask=phantom.body_mask)
    profiler.disable()
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(top)
    return stream.getvalue()


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--n", type=int, default=6, help="slices timed stage by stage (the first is a warm-up, dropped)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads for the stage timings")
    ap.add_argument("--baseline-views", type=int, default=360)
    ap.add_argument("--dataset-n", type=int, default=0, help="also time make_dataset on this many slices")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--profile", action="store_true", help="print the top of a cProfile of simulate()")
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory() as tmp:
        times = stage_times(args.size, args.n + 1, Path(tmp))
        times = {k: v[1:] for k, v in times.items()}  # drop the warm-up slice (projector caches, imports)
        baseline = baseline_seconds(args.size, args.baseline_views)
        per_stage = {k: float(np.median(v)) for k, v in times.items()}
        per_slice = float(np.median(np.sum([v for v in times.values()], axis=0)))
        result = {
            "size": args.size, "n_timed": args.n, "torch_threads": args.threads,
            "seconds_per_slice_by_stage": {k: round(v, 4) for k, v in per_stage.items()},
            "seconds_per_slice": round(per_slice, 4),
            "slices_per_second": round(1.0 / per_slice, 4),
            "projected_minutes_2000_one_process": round(TARGET_SLICES * per_slice / 60, 1),
            "target_minutes": TARGET_SECONDS / 60,
            "baseline": f"skimage radon+iradon, {args.baseline_views} views, {args.size} px",
            "baseline_seconds": round(baseline, 4),
            "pipeline_over_baseline": round(per_slice / baseline, 3),
            "machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version(),
                        "torch": torch.__version__},
            "synthetic": True,
        }
        if args.dataset_n:
            dt = dataset_seconds(args.size, args.dataset_n, args.workers, Path(tmp))
            result["dataset"] = {"n": args.dataset_n, "workers": args.workers, "seconds": round(dt, 2),
                                 "slices_per_second": round(args.dataset_n / dt, 4),
                                 "projected_minutes_2000": round(TARGET_SLICES * dt / args.dataset_n / 60, 1)}
    lines = [f"CT-IQA data pipeline at {args.size} px ({args.n} slices, {args.threads} torch thread(s)):"]
    lines += [f"  {k:<9} {v * 1000:8.1f} ms" for k, v in per_stage.items()]
    lines.append(f"  total     {per_slice * 1000:8.1f} ms/slice = {1 / per_slice:.2f} slices/s")
    lines.append(f"  2,000 slices, one process: {result['projected_minutes_2000_one_process']} min "
                 f"(target {TARGET_SECONDS // 60} min)")
    lines.append(f"  baseline ({result['baseline']}): {baseline:.3f} s; pipeline/baseline = "
                 f"{result['pipeline_over_baseline']}")
    if "dataset" in result:
        d = result["dataset"]
        lines.append(f"  make_dataset {d['n']} slices, {d['workers']} worker(s): {d['seconds']} s = "
                     f"{d['slices_per_second']} slices/s -> 2,000 in {d['projected_minutes_2000']} min")
    print("\n".join(lines))
    if args.profile:
        print(profile_simulate(args.size))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
