"""Measure the procedural phantoms: generation time and HU of every tissue against its target range.

    PYTHONPATH=src python scripts/measure_phantoms.py --seeds 40 > /tmp/phantom_stats.md

Per tissue and contrast phase, pixels of each painted label are eroded by one pixel (to leave
out partial-volume edges), then we report the mean over phantoms of the per-phantom mean HU,
its SD across phantoms (patient-to-patient variation) and the mean within-phantom SD (texture).
Timing is CPU time of ``make_phantom`` at 512 x 512 (time.process_time), one process.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict

import numpy as np
from scipy import ndimage

from radscribe.ctiqa.phantoms import ANATOMIES, _builder, make_phantom
from radscribe.ctiqa.phantoms.tissues import TISSUES


def timings(seeds: int, size: int) -> dict[str, list[float]]:
    out = {}
    for anatomy in ANATOMIES:
        make_phantom(anatomy, 10_000, size)  # imports and caches warmed
        cpu = []
        for seed in range(seeds):
            t0 = time.process_time()
            make_phantom(anatomy, seed, size)
            cpu.append(time.process_time() - t0)
        out[anatomy] = cpu
    return out


def tissue_stats(seeds: int, size: int) -> dict[tuple[str, str], list[tuple[float, float]]]:
    """(tissue, phase) -> [(mean, sd) per phantom label], from the painter's label map."""
    stats: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for anatomy in ANATOMIES:
        for seed in range(seeds):
            rng = np.random.default_rng([seed, ANATOMIES.index(anatomy), 0x5EED])  # as make_phantom
            canvas, _ = _builder(anatomy)(rng, size)
            hu, _, _ = canvas.finish()
            for i, (organ, tissue_name) in enumerate(canvas.keys):
                if organ in ("outside", "table"):
                    continue
                core = ndimage.binary_erosion(canvas.label == i)
                if core.sum() >= 20:
                    values = hu[core]
                    stats[(tissue_name, canvas.phase)].append((float(values.mean()), float(values.std())))
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--size", type=int, default=512)
    args = parser.parse_args()
    print(f"### Time per phantom ({args.size} x {args.size}, CPU seconds, {args.seeds} seeds each)\n")
    print("| anatomy | mean ms | median ms | max ms |\n|---|---:|---:|---:|")
    for anatomy, cpu in timings(args.seeds, args.size).items():
        print(f"| {anatomy} | {1000 * statistics.mean(cpu):.0f} | {1000 * statistics.median(cpu):.0f} | {1000 * max(cpu):.0f} |")
    print(f"\n### Tissue HU ({args.seeds} phantoms of each anatomy)\n")
    print("| tissue | phase | target HU | measured mean | SD between patients | SD within region | n |")
    print("|---|---|---|---:|---:|---:|---:|")
    for (name, phase), rows in sorted(tissue_stats(args.seeds, args.size).items()):
        lo, hi = TISSUES[name].hu_range(phase)
        means = [m for m, _ in rows]
        between = statistics.pstdev(means) if len(means) > 1 else 0.0
        within = statistics.mean(s for _, s in rows)
        target = f"{lo:g}" if lo == hi else f"{lo:g} to {hi:g}"
        print(f"| {name} | {phase} | {target} | {statistics.mean(means):.0f} | {between:.0f} | {within:.0f} | {len(rows)} |")


if __name__ == "__main__":
    main()
