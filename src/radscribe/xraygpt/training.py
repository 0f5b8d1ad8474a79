"""What every XrayGPT training stage shares: distributed setup, lr schedule, resumable state, the loop.

DDP-ready without a wrapper: when ``WORLD_SIZE`` is set (torchrun), ``init_process_group`` runs, each
rank takes every ``world``-th example, and gradients of the trained parameters are averaged with
``all_reduce`` before each optimiser step, which is what DistributedDataParallel does for us.
Only rank 0 writes files.

Devices: ``resolve_device("auto")`` picks this rank's GPU when CUDA is there, else the CPU. On a GPU
the loss runs under bfloat16 autocast (trained tensors and optimiser state stay float32); on the
CPU everything stays float32, as before.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import torch

from radscribe.cli.app import track

log = logging.getLogger(__name__)
STATE_FILE = "train_state.pt"


@dataclass(frozen=True)
class Dist:
    rank: int = 0
    world: int = 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def init_distributed(device: torch.device | None = None) -> Dist:
    """Join the process group when launched by torchrun (``WORLD_SIZE`` > 1); a no-op otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("nccl" if device is not None and device.type == "cuda" else "gloo")
    return Dist(dist.get_rank(), dist.get_world_size())


def resolve_device(name: str = "auto") -> torch.device:
    """``auto``: this rank's GPU (``LOCAL_RANK`` under torchrun) when CUDA is available, else the CPU."""
    from radscribe.errors import ConfigError

    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ConfigError(f"--device {name}: this torch build sees no CUDA GPU; use --device cpu")
        return torch.device(name if ":" in name else f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}")
    if name != "cpu":
        raise ConfigError(f"--device {name}: expected auto, cpu, cuda or cuda:N")
    return torch.device("cpu")


def autocast(device: torch.device | None):
    """bfloat16 autocast on a GPU (about 2x faster there, same results to training noise); none on the CPU."""
    if device is not None and device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def average_gradients(params: Sequence[torch.nn.Parameter], d: Dist) -> None:
    if d.world <= 1:
        return
    import torch.distributed as dist

    for p in params:
        if p.grad is not None:
            dist.all_reduce(p.grad)
            p.grad /= d.world


def lr_at(step: int, total: int, peak: float, final: float, warmup: int) -> float:
    """Linear warmup then cosine decay from ``peak`` to ``final`` (XrayGPT's schedule)."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return final + 0.5 * (peak - final) * (1 + math.cos(math.pi * progress))


def batches(n: int, batch_size: int, seed: int, d: Dist) -> Iterable[list[int]]:
    """Endless shuffled index batches; each rank sees its own shard of every epoch."""
    rng = random.Random(seed)
    epoch = 0
    while True:
        order = list(range(n))
        rng.shuffle(order)
        shard = order[d.rank::d.world]
        for start in range(0, len(shard) - batch_size + 1 if len(shard) >= batch_size else 1, batch_size):
            yield shard[start:start + batch_size]
        epoch += 1


def save_state(out_dir: Path, step: int, modules: dict[str, torch.nn.Module | dict], optimizer, extra: dict) -> None:
    """Atomically write everything needed to resume (trained tensors, optimiser, step, RNG)."""
    state = {"step": step, "optimizer": optimizer.state_dict(), "extra": extra, "torch_rng": torch.get_rng_state(),
             "modules": {k: (m if isinstance(m, dict) else trainable_state(m)) for k, m in modules.items()}}
    tmp = out_dir / f".{STATE_FILE}.tmp-{os.getpid()}"
    torch.save(state, tmp)
    os.replace(tmp, out_dir / STATE_FILE)


def trainable_state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Trained parameters and every buffer (BatchNorm running statistics must survive a resume too)."""
    names = {n for n, p in module.named_parameters() if p.requires_grad} | {n for n, _ in module.named_buffers()}
    return {k: v.detach().clone() for k, v in module.state_dict().items() if k in names}


def load_state(out_dir: Path) -> dict | None:
    path = out_dir / STATE_FILE
    # on the CPU first: a state written on a GPU resumes on a CPU-only machine too
    return torch.load(path, weights_only=False, map_location="cpu") if path.is_file() else None


@dataclass
class LoopResult:
    steps: int
    seconds: float
    losses: list[float]
    resumed_from: int
    evaluations: list[dict] = field(default_factory=list)  # {"step", "score"} when run_loop had an evaluate
    kept_step: int | None = None  # the step whose modules were kept (best score), if evaluated


@dataclass
class Selection:
    """Keep the modules as they were at the best ``evaluate()["score"]`` (higher is better), checked every
    ``every`` steps; the other keys of ``evaluate()``'s dict are recorded with it."""

    evaluate: Callable[[], dict]
    every: int
    best_score: float = float("-inf")
    best_step: int | None = None
    best_modules: dict | None = None
    evaluations: list[dict] = field(default_factory=list)

    def check(self, step: int, modules: dict[str, torch.nn.Module]) -> None:
        record = dict(self.evaluate())
        score = float(record["score"])
        self.evaluations.append({"step": step, **record})
        if score > self.best_score:
            self.best_score, self.best_step = score, step
            self.best_modules = {k: trainable_state(m) for k, m in modules.items()}

    def restore(self, modules: dict[str, torch.nn.Module]) -> None:
        if self.best_modules is not None:
            for key, module in modules.items():
                module.load_state_dict(self.best_modules[key], strict=False)

    def extra(self) -> dict:
        return {"evaluations": self.evaluations, "best_score": self.best_score, "best_step": self.best_step,
                "best_modules": self.best_modules}

    def resume(self, extra: dict) -> None:
        self.evaluations = list(extra.get("evaluations", []))
        self.best_score = extra.get("best_score", float("-inf"))
        self.best_step, self.best_modules = extra.get("best_step"), extra.get("best_modules")


def run_loop(*, name: str, steps: int, step_fn: Callable[[list[int], int], torch.Tensor],
             params: Sequence[torch.nn.Parameter], optimizer, lr: tuple[float, float], warmup: int,
             batch_size: int, n_examples: int, seed: int, out_dir: Path, modules: dict[str, torch.nn.Module],
             d: Dist, save_every: int = 100, resume: bool = True, grad_clip: float = 1.0,
             device: torch.device | None = None, selection: Selection | None = None) -> LoopResult:
    """The training loop of every stage: resume, step, clip, average across ranks, save, log.

    ``step_fn(indices, step)`` returns the loss of one batch. The modules in ``modules`` are what
    is saved and restored (only their trainable tensors). With ``selection``, the modules are
    scored every ``selection.every`` steps and at the end, and the best-scoring state is kept
    (early stopping without stopping: the whole schedule runs, the record shows every score).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    start, losses, earlier_seconds = 0, [], 0.0
    state = load_state(out_dir) if resume else None
    if state is not None:
        for key, module in modules.items():
            module.load_state_dict(state["modules"][key], strict=False)
        optimizer.load_state_dict(state["optimizer"])  # its tensors follow the parameters' device
        torch.set_rng_state(state["torch_rng"])
        start, losses = state["step"], list(state["extra"].get("losses", []))
        earlier_seconds = float(state["extra"].get("seconds", 0.0))
        if selection is not None:
            selection.resume(state["extra"].get("selection", {}))
        log.warning("%s: resuming at step %d of %d", name, start, steps)
    started = time.perf_counter()
    stream = batches(n_examples, batch_size, seed, d)
    for _ in range(start):  # replay the data order so a resumed run sees what an unbroken one would
        next(stream)
    for step in track(range(start, steps), total=steps - start, description=name):
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, steps, lr[0], lr[1], warmup)
        with autocast(device):
            loss = step_fn(next(stream), step)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        average_gradients(params, d)
        torch.nn.utils.clip_grad_norm_(params, grad_clip)
        optimizer.step()
        losses.append(float(loss.detach()))
        if step % 20 == 0:
            log.info("%s step %d loss %.4f", name, step, losses[-1])
        if selection is not None and ((step + 1) % selection.every == 0 or step + 1 == steps):
            selection.check(step + 1, modules)  # every rank: the same modules give the same score
            log.info("%s step %d selection score %.4f", name, step + 1, selection.evaluations[-1]["score"])
        if d.main and ((step + 1) % save_every == 0 or step + 1 == steps):
            seconds = earlier_seconds + time.perf_counter() - started
            extra = {"losses": losses, "seconds": seconds} | ({"selection": selection.extra()} if selection else {})
            save_state(out_dir, step + 1, modules, optimizer, extra)
    result = LoopResult(steps, earlier_seconds + time.perf_counter() - started, losses, start)
    if selection is not None:
        selection.restore(modules)
        result.evaluations, result.kept_step = selection.evaluations, selection.best_step
    return result


def smoothed(losses: Sequence[float], window: int = 20) -> float | None:
    tail = list(losses[-window:])
    return round(sum(tail) / len(tail), 4) if tail else None
