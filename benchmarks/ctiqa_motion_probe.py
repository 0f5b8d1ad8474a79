"""Can a model see mild motion at all? A small CNN trained only to grade one aspect, on three inputs (SYNTHETIC).

The captioner never reads mild motion or mild blur (docs/iqagpt-experiments.md). This probe asks whether the
information is in the image the captioner is given, on slices where only that aspect (or nothing) is degraded:

* ``native``: the ldct and lung windows at the slice's own resolution (8-bit, as a reader's screen);
* ``input``:  the same, area-averaged to the captioner's 256 x 256 grid (what the captioner sees of a 512 slice);
* ``difference``: degraded minus the noise-free reference scan at native resolution: a full-reference control,
  which no real reader has; where it finds the aspect and ``native`` does not, the artefact is there but is not
  told apart from anatomy without the reference.

Each arm trains the same CNN for the same steps (seeded), grading none / mild / moderate / severe with
class-balanced cross-entropy, and is scored on another folder's slices by the AUC of P(aspect present) for mild
against none and for moderate against none.

    .venv/bin/python benchmarks/ctiqa_motion_probe.py --train ctiqa-probe512-train --test ctiqa-probe512-test \\
        --aspect motion --json probe.json
    # the folders: radscribe data make-ctiqa --out ctiqa-probe512-train --n 1000 --seed 22 --size 512 \\
    #     --kinds clean,motion --phantom-split train -j 2      (and --seed 21 --phantom-split test for --test)
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from scipy.stats import rankdata
from torch import nn

SEVERITIES = ("none", "mild", "moderate", "severe")
WINDOWS = ("ldct", "lung")
ARMS = ("native", "input", "difference")


def auc(negative: np.ndarray, positive: np.ndarray) -> float | None:
    if len(negative) == 0 or len(positive) == 0:
        return None
    ranks = rankdata(np.r_[negative, positive])
    n1 = len(positive)
    return float((ranks[len(negative):].sum() - n1 * (n1 + 1) / 2) / (len(negative) * n1))


def select(folder: Path, split: str | None, aspect: str) -> list[dict]:
    """Records where nothing but ``aspect`` is degraded (it may be none too), on a standard field."""
    from radscribe.ctiqa.dataset import read_records

    keep = []
    for r in read_records(folder):
        if split and r["split"] != split:
            continue
        others = [a for a, sev in r["aspects"].items() if a != aspect and sev != "none"]
        if not others and not r.get("targeted_fov") and not r.get("wide_fov"):
            keep.append(r)
    return keep


def windowed(hu: np.ndarray) -> np.ndarray:
    from radscribe.io import apply_window, get_window
    from radscribe.io.windowing import to_uint8

    return np.stack([to_uint8(apply_window(hu, get_window(w))) for w in WINDOWS]).astype(np.float32) / 255.0


def load(folder: Path, records: list[dict], arm: str) -> torch.Tensor:
    """(N, 2, n, n) float inputs of one arm (all slices of one size)."""
    from radscribe.io import read_image

    out = []
    for r in records:
        degraded = windowed(read_image(folder / r["image"])[0].pixels.astype(np.float32))
        if arm == "difference":
            reference = windowed(read_image(folder / r["reference_image"])[0].pixels.astype(np.float32))
            degraded = np.clip(0.5 + 4.0 * (degraded - reference), 0.0, 1.0)  # x4: a few grey levels visible
        x = torch.from_numpy(degraded)
        if arm == "input" and x.shape[-1] > 256:
            x = F.interpolate(x[None], size=(256, 256), mode="area")[0]
            x = torch.round(x * 255.0) / 255.0  # the captioner's 8-bit input
        out.append(x)
    return torch.stack(out)


class Probe(nn.Module):
    """Five 3x3 stride-2 conv stages (the first reads every pixel), then global mean and max pooling."""

    def __init__(self, channels: int = 2, classes: int = 4):
        super().__init__()
        widths, layers, c = (16, 32, 64, 64, 128), [], channels
        for i, w in enumerate(widths):
            layers += [nn.Conv2d(c, w, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU()]
            c = w
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(2 * c, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.features(x)
        return self.head(torch.cat([f.mean((2, 3)), f.amax((2, 3))], 1))


def train_and_score(x: torch.Tensor, y: torch.Tensor, x_test: torch.Tensor, y_test: np.ndarray, steps: int,
                    batch: int, seed: int) -> dict:
    from radscribe.iqagpt.precision import native_bf16

    bf16 = native_bf16()  # about twice as fast where the CPU has it; the probe's conclusions do not hinge on it
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = Probe(x.shape[1])
    counts = torch.bincount(y, minlength=4).float().clamp(min=1)
    weight = (counts.max() / counts) ** 0.5
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    t0 = time.time()
    model.train()
    for step in range(steps):
        idx = torch.randint(len(x), (batch,), generator=gen)
        n = x.shape[-1] // 2  # a random half-size crop: the same pixels, a quarter of the arithmetic
        r0, c0 = (int(v) for v in torch.randint(n + 1, (2,), generator=gen))
        xb = x[idx, :, r0:r0 + n, c0:c0 + n]
        if torch.rand(1, generator=gen) < 0.5:  # quality does not depend on orientation
            xb = xb.flip(-1)
        if torch.rand(1, generator=gen) < 0.5:
            xb = xb.flip(-2)
        for group in optimizer.param_groups:
            group["lr"] = 1e-3 * 0.5 * (1 + np.cos(np.pi * step / steps))
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(model(xb).float(), y[idx], weight=weight)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        probs = torch.cat([model(x_test[i:i + 16]).softmax(1) for i in range(0, len(x_test), 16)])
    present = 1.0 - probs[:, 0].numpy()
    graded = probs.argmax(1).numpy()
    out = {"train_seconds": round(time.time() - t0, 1), "bf16": bf16, "accuracy": round(float((graded == y_test).mean()), 3)}
    for level in (1, 2, 3):
        name = SEVERITIES[level]
        a = auc(present[y_test == 0], present[y_test == level])
        out[f"auc_{name}_vs_none"] = None if a is None else round(a, 3)
        out[f"read_right_{name}"] = round(float((graded[y_test == level] == level).mean()), 3) if (y_test == level).any() else None
    out["false_alarms_on_none"] = round(float((graded[y_test == 0] != 0).mean()), 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", type=Path, required=True, help="make-ctiqa folder (its train split is used)")
    parser.add_argument("--test", type=Path, required=True, help="make-ctiqa folder of other patients (all splits)")
    parser.add_argument("--aspect", default="motion", choices=("motion", "blur"))
    parser.add_argument("--arms", default=",".join(ARMS), help=f"comma-separated, of {', '.join(ARMS)}")
    parser.add_argument("--steps", type=int, default=600, help="training steps per arm")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    train, test = select(args.train, "train", args.aspect), select(args.test, None, args.aspect)
    level = {s: i for i, s in enumerate(SEVERITIES)}
    y = torch.tensor([level[r["aspects"][args.aspect]] for r in train])
    y_test = np.array([level[r["aspects"][args.aspect]] for r in test])
    report = {"synthetic": True, "aspect": args.aspect, "train": str(args.train), "test": str(args.test),
              "n_train": {s: int((y == i).sum()) for i, s in enumerate(SEVERITIES)},
              "n_test": {s: int((y_test == i).sum()) for i, s in enumerate(SEVERITIES)},
              "steps": args.steps, "batch": args.batch, "seed": args.seed, "arms": {}}
    print(f"SYNTHETIC. {args.aspect} probe: train {report['n_train']}, test {report['n_test']}", flush=True)
    for arm in args.arms.split(","):
        result = train_and_score(load(args.train, train, arm), y, load(args.test, test, arm), y_test,
                                 args.steps, args.batch, args.seed)
        report["arms"][arm] = result
        print(f"{arm:>10}: " + "  ".join(f"{k} {v}" for k, v in result.items()), flush=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
