"""Self-describing captioner checkpoints: a folder with

* ``model.safetensors`` - weights (tied embedding stored once);
* ``config.json`` - model config, tokenizer words, preprocessing version, category/aspect vocabularies;
* ``manifest.json`` - how it was made (command, training config, data and protocol version),
  measured benchmark numbers and the sha256 of the weights file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from radscribe.errors import ConfigError
from radscribe.io import atomic_write_json
from radscribe.iqagpt.models.captioner import Captioner, CaptionerConfig
from radscribe.iqagpt.preprocess import PREPROCESS_VERSION
from radscribe.iqagpt.tokenizer import WordTokenizer

WEIGHTS = "model.safetensors"
CONFIG = "config.json"
MANIFEST = "manifest.json"
SHIPPED_DIR = Path(__file__).resolve().parent.parent / "checkpoints" / "ctiqa-captioner"
_TIED = "head.weight"  # same tensor as embed.weight


@dataclass
class LoadedCaptioner:
    model: Captioner
    tokenizer: WordTokenizer
    path: Path
    config: dict
    manifest: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.manifest.get("name") or f"ctiqa-captioner@{self.path.name}"


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_captioner(out_dir: str | Path, model: Captioner, tokenizer: WordTokenizer, manifest: dict | None = None) -> Path:
    """Write weights, config and manifest (weights first, manifest last: a manifest means a complete folder)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items() if k != _TIED}
    tmp = out / (WEIGHTS + ".tmp")
    save_file(state, str(tmp), metadata={"format": "pt"})
    tmp.replace(out / WEIGHTS)
    config = {
        "kind": "iqagpt-captioner",
        "model": model.cfg.to_dict(),
        "tokenizer": tokenizer.to_dict(),
        "preprocess": PREPROCESS_VERSION,
    }
    atomic_write_json(out / CONFIG, config)
    full = dict(manifest or {})
    full.setdefault("name", "ctiqa-captioner")
    full["weights"] = {"file": WEIGHTS, "sha256": sha256_file(out / WEIGHTS), "bytes": (out / WEIGHTS).stat().st_size}
    full["preprocess"] = PREPROCESS_VERSION
    atomic_write_json(out / MANIFEST, full)
    for name in (WEIGHTS, CONFIG, MANIFEST):
        (out / name).chmod(0o644)  # temp files are created private; a shipped checkpoint must be readable
    return out


def load_captioner(model_dir: str | Path | None = None, verify: bool = True) -> LoadedCaptioner:
    """Load a checkpoint folder (default: the shipped one); checks the weights' sha256 against the manifest."""
    path = Path(model_dir) if model_dir is not None else SHIPPED_DIR
    if not (path / WEIGHTS).is_file() or not (path / CONFIG).is_file():
        hint = "train one with `radscribe train captioner --data DIR --out DIR`"
        raise ConfigError(f"{path}: not a captioner checkpoint (needs {WEIGHTS} and {CONFIG}); {hint}")
    config = json.loads((path / CONFIG).read_text())
    manifest = json.loads((path / MANIFEST).read_text()) if (path / MANIFEST).is_file() else {}
    if config.get("preprocess") != PREPROCESS_VERSION:
        raise ConfigError(f"{path}: made for preprocessing {config.get('preprocess')!r}, this radscribe has {PREPROCESS_VERSION!r}")
    expected = manifest.get("weights", {}).get("sha256")
    if verify and expected and sha256_file(path / WEIGHTS) != expected:
        raise ConfigError(f"{path / WEIGHTS}: sha256 does not match manifest.json (file damaged or replaced)")
    model = Captioner(CaptionerConfig.from_dict(config["model"]))
    state = load_file(str(path / WEIGHTS))
    state[_TIED] = state["embed.weight"]
    model.load_state_dict(state)
    model.eval()
    return LoadedCaptioner(model, WordTokenizer.from_dict(config["tokenizer"]), path, config, manifest)


def update_manifest(model_dir: str | Path, **fields) -> dict:
    """Merge ``fields`` into manifest.json (e.g. benchmark numbers after a benchmark run)."""
    path = Path(model_dir) / MANIFEST
    manifest = json.loads(path.read_text()) if path.is_file() else {}
    manifest.update(fields)
    atomic_write_json(path, manifest)
    path.chmod(0o644)
    return manifest


def torch_seed(seed: int) -> torch.Generator:
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)
