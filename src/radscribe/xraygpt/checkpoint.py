"""XrayGPT checkpoints that describe themselves, and ``load_model(name_or_path)``.

A checkpoint folder holds only what radscribe trained (never SmolLM2's own weights):

* ``encoder.safetensors``     the frozen visual encoder
* ``projection.safetensors``  the one linear layer
* ``lora.safetensors``        the LLM's LoRA adapters (absent for a base-LLM checkpoint)
* ``text_head.safetensors``   the contrastive text head (kept for retrieval; not needed to chat)
* ``finding_head.safetensors`` the probe whose 14 finding probabilities are visual tokens (only when the
  manifest says ``"visual_tokens": "grid+findings"``)
* ``manifest.json``           command, configs, data, metrics, the LLM it expects, sha256 of every file

Shipped checkpoints live in ``radscribe/checkpoints/xraygpt/<name>/`` and load by name.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from radscribe.errors import ConfigError
from radscribe.io.writers import atomic_write_json
from radscribe.xraygpt.encoder import EncoderConfig, VisualEncoder
from radscribe.xraygpt.finding_tokens import new_finding_head
from radscribe.xraygpt.guidance import NULL_READINGS
from radscribe.xraygpt.lora import LoRAConfig, lora_state_dict

MANIFEST = "manifest.json"
SHIPPED_DIR = Path(__file__).resolve().parent.parent / "checkpoints" / "xraygpt"
DEFAULT_MODEL = "xraygpt-smollm2-lora"


def shipped_models() -> dict[str, Path]:
    """Name -> folder of every checkpoint shipped with radscribe."""
    if not SHIPPED_DIR.is_dir():
        return {}
    return {p.name: p for p in sorted(SHIPPED_DIR.iterdir()) if (p / MANIFEST).is_file()}


def resolve(name_or_path: str | Path) -> Path:
    path = Path(name_or_path).expanduser()
    if (path / MANIFEST).is_file():
        return path
    shipped = shipped_models()
    if str(name_or_path) in shipped:
        return shipped[str(name_or_path)]
    known = ", ".join(shipped) or "none shipped"
    raise ConfigError(f"{name_or_path}: not an XrayGPT checkpoint folder (no {MANIFEST}) nor a shipped name ({known})")


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _save_tensors(tensors: dict[str, torch.Tensor], path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, str(tmp))
    tmp.replace(path)


def save_checkpoint(out_dir: str | Path, *, encoder: VisualEncoder, projection: torch.nn.Module | None,
                    llm: torch.nn.Module | None, lora: LoRAConfig | None, text_head: torch.nn.Module | None,
                    manifest: dict, finding_head: torch.nn.Module | None = None) -> Path:
    """Write the trained parts and a manifest (sha256 of each file added here)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {"encoder.safetensors": encoder.state_dict()}
    if projection is not None:
        files["projection.safetensors"] = projection.state_dict()
    if lora is not None and llm is not None:
        files["lora.safetensors"] = lora_state_dict(llm)
    if text_head is not None:
        files["text_head.safetensors"] = text_head.state_dict()
    if finding_head is not None:
        files["finding_head.safetensors"] = finding_head.state_dict()
    for name, tensors in files.items():
        _save_tensors(tensors, out / name)
    full = {
        "format": "radscribe-xraygpt/1",
        "synthetic": manifest.pop("synthetic", True),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "encoder_config": encoder.config.to_dict(),
        "lora_config": lora.to_dict() if lora else None,
        "visual_tokens": "grid+findings" if finding_head is not None else "grid",
        **manifest,
        "files": {name: {"sha256": sha256_file(out / name), "bytes": (out / name).stat().st_size} for name in files},
    }
    atomic_write_json(out / MANIFEST, full)
    return out


def read_manifest(name_or_path: str | Path) -> dict:
    return json.loads((resolve(name_or_path) / MANIFEST).read_text())


def load_encoder(folder: Path, manifest: dict) -> VisualEncoder:
    encoder = VisualEncoder(EncoderConfig.from_dict(manifest["encoder_config"]))
    encoder.load_state_dict(load_file(str(folder / "encoder.safetensors")))
    return encoder.eval()


def verify(folder: Path, manifest: dict) -> None:
    """Refuse a checkpoint whose files do not match the manifest's sha256."""
    for name, info in manifest.get("files", {}).items():
        if not (folder / name).is_file() or sha256_file(folder / name) != info["sha256"]:
            raise ConfigError(f"{folder / name}: missing or changed since the checkpoint was written (sha256 mismatch)")


@dataclass
class LoadedModel:
    """The model, its input size and what it is (manifest: data, metrics, labels, synthetic)."""

    model: "object"
    image_size: int
    manifest: dict
    path: Path

    @property
    def name(self) -> str:
        return self.manifest.get("name", self.path.name)

    @property
    def default_guidance(self) -> float:
        """The image guidance weight the checkpoint was validated with (manifest ``decoding``; 0 if none)."""
        return float((self.manifest.get("decoding") or {}).get("guidance", 0.0))

    @property
    def default_guidance_gate(self) -> float:
        """Guide only images whose encoder reads a finding at this probability (manifest ``decoding``; 0: all)."""
        return float((self.manifest.get("decoding") or {}).get("guidance_gate", 0.0))


def load_model(name_or_path: str | Path = DEFAULT_MODEL, *, threads: int = 2, llm=None, check: bool = True) -> LoadedModel:
    """An XrayGPT ready to chat: encoder + projection + SmolLM2 (+ LoRA) with the checkpoint's preprocessing.

    ``llm`` = ``(model, tokenizer)`` reuses an already loaded SmolLM2 (it is modified in place when
    the checkpoint has LoRA adapters).
    """
    from radscribe.xraygpt.model import XrayGPT, load_llm

    folder = resolve(name_or_path)
    manifest = json.loads((folder / MANIFEST).read_text())
    if check:
        verify(folder, manifest)
    if "projection.safetensors" not in manifest.get("files", {}):
        raise ConfigError(f"{folder}: an encoder-only checkpoint; train the projection with: radscribe xraygpt train")
    llm_model, tokenizer = llm if llm is not None else load_llm(threads)
    lora = LoRAConfig.from_dict(manifest["lora_config"]) if manifest.get("lora_config") else None
    visual_tokens = manifest.get("visual_tokens", "grid")  # checkpoints before finding tokens: grid only
    finding_head = None
    if visual_tokens == "grid+findings":
        finding_head = new_finding_head(manifest["encoder_config"]["token_dim"])
        finding_head.load_state_dict(load_file(str(folder / "finding_head.safetensors")))
    model = XrayGPT(load_encoder(folder, manifest), llm_model, tokenizer, lora, visual_tokens, finding_head)
    model.projection.load_state_dict(load_file(str(folder / "projection.safetensors")))
    model.guidance_null = (manifest.get("decoding") or {}).get("guidance_null", "uncertain")
    if model.guidance_null not in NULL_READINGS:
        raise ConfigError(f"{folder / MANIFEST}: decoding.guidance_null must be one of {', '.join(NULL_READINGS)}, "
                          f"not {model.guidance_null!r}")
    if lora is not None:
        missing = model.llm.load_state_dict(load_file(str(folder / "lora.safetensors")), strict=False)
        if missing.unexpected_keys:
            raise ConfigError(f"{folder}: LoRA tensors do not fit this LLM ({missing.unexpected_keys[:2]}...)")
    return LoadedModel(model.eval(), manifest["encoder_config"]["image_size"], manifest, folder)
