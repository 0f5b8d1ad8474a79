"""One-token decode steps for Llama-family models with int8 weights: the ``quantize = "int8"`` engine.

Why a separate decode path (docs/llm.md section 6):

* Decoding a 135M model on a CPU is bound by reading the weights (int8 reads a quarter of float32's
  bytes) and by per-call overhead: transformers' generic layer code spends about as long in Python
  as the matrix products take. Here q/k/v and gate/up are fused into one product each (4 int8
  products per layer instead of 7), the KV cache is preallocated, and no masks are built.
* Dynamic int8 gives each token one activation scale. SmolLM2 has "massive activations": the
  first token's MLP input reaches ~3,000 against a median of ~1 (blocks 11 and 28). Quantized with
  the others in one prefill, it wipes out every other token and the model stops answering. So the
  prompt is prefilled by the float model (bf16 or float32) and only the new tokens, which carry no
  massive activations, run in int8; the prompt's keys and values are copied in once.
* Ordinary tokens still have a few large channels. SmoothQuant-style scaling (alpha 0.5) moves part
  of each channel's range from the activation into the weight; the scales fold exactly into the
  RMSNorm weights (q/k/v, gate/up, the output head) and into up_proj's rows (down_proj). Channel
  ranges come from a float prefill of a few fixed radscribe prompts (:data:`CALIBRATION_CAPTIONS`),
  first token excluded. On 20 held-out captions this raised top-1 agreement with the float model's
  next token from 0.91 to 0.96, and 8-bit activations where the CPU has VNNI (:data:`REDUCE_RANGE`)
  to 0.98. Scoring 200 held-out captions: 0.775 against bf16's 0.780 (docs/llm.md section 5).
* Building takes ~3 s; :func:`cached_decoder` keeps the result on disk, keyed by the weights.

Only plain Llama blocks (RMSNorm, rotary "default" positions, SiLU gated MLP, no biases) are
supported; :func:`supports` says so and the caller falls back to the float model for anything else.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import warnings
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from radscribe.llm.cpu import int8_dot_products

log = logging.getLogger(__name__)


def supports(model) -> bool:
    """Is ``model`` a plain Llama causal LM this decoder reproduces exactly (up to int8 rounding)?"""
    config = model.config
    rope = getattr(config, "rope_parameters", None) or {"rope_type": "default"}
    return (
        getattr(config, "model_type", "") == "llama"
        and not getattr(config, "attention_bias", False)
        and not getattr(config, "mlp_bias", False)
        and getattr(config, "hidden_act", "") == "silu"
        and rope.get("rope_type", "default") == "default"
        and getattr(config, "pretraining_tp", 1) == 1
    )


# Fixed texts for the channel ranges: the kinds of prompt radscribe sends (none is from a test set).
CALIBRATION_CAPTIONS = (
    "Moderate noise throughout the liver and spleen; mild streaks radiate from the left hip prosthesis. "
    "No motion, rings or blurring. Overall quality: fair (score 2.1 of 4).",
    "No visible noise, streaks, metal artefact, motion, rings or blurring. Overall quality: excellent "
    "(score 3.7 of 4). Diagnostic confidence is not limited.",
)
CALIBRATION_QUESTION = "Is this chest radiograph normal? The heart size is normal and the lungs are clear."
SMOOTH_ALPHA = 0.5
# torch's dynamic Linear quantizes activations to 7 bits, because AVX2's u8 x s8 products are summed in
# int16 and can saturate. With VNNI the sums are int32, so 8 bits are safe: on 20 held-out captions the
# next-token agreement with float rose from 0.956 to 0.984 (mean KL 0.0077 -> 0.0036).
REDUCE_RANGE = not int8_dot_products()


def calibration_prompts() -> list[list[dict]]:
    from radscribe.llm.prompts import render

    prompts = [render("caption_to_score", caption=c) for c in CALIBRATION_CAPTIONS]
    prompts.append(render("caption_to_report", caption=CALIBRATION_CAPTIONS[0]))
    prompts.append([{"role": "user", "content": CALIBRATION_QUESTION}])
    return prompts


@torch.inference_mode()
def channel_ranges(model, prompt_ids: list[list[int]]) -> dict[str, torch.Tensor]:
    """Per input channel max |x| of every projection the decoder quantizes, over the prompts' tokens after the first."""
    ranges: dict[str, torch.Tensor] = {}

    def record(name: str):
        def hook(_module, inputs):
            x = inputs[0][0, 1:].abs().float().amax(0)
            ranges[name] = torch.maximum(ranges[name], x) if name in ranges else x
        return hook

    watched = {}
    for i, block in enumerate(model.model.layers):
        watched |= {f"qkv{i}": block.self_attn.q_proj, f"gate_up{i}": block.mlp.gate_proj, f"down{i}": block.mlp.down_proj}
    hooks = [module.register_forward_pre_hook(record(name)) for name, module in watched.items()]
    try:
        for ids in prompt_ids:  # the base model's output is the head's input: no vocabulary-sized logits
            hidden = model.model(input_ids=torch.tensor([ids])).last_hidden_state[0, 1:].abs().float().amax(0)
            ranges["head"] = torch.maximum(ranges["head"], hidden) if "head" in ranges else hidden
    finally:
        for hook in hooks:
            hook.remove()
    return ranges


ENGINE_VERSION = "int8-decode/1"  # bump when what is built changes: it keys the cache


def _fingerprint(model, prompt_ids: list[list[int]]) -> str:
    """A cheap identity of the model's weights (a strided sample of every tensor) and of the build recipe.

    A merged LoRA or another model changes the samples; hashing all 500 MB would cost more than it saves.
    """
    digest = hashlib.sha256(json.dumps([ENGINE_VERSION, SMOOTH_ALPHA, prompt_ids]).encode())
    for name, tensor in model.state_dict().items():
        flat = tensor.detach().reshape(-1)
        digest.update(f"{name}{tuple(tensor.shape)}{tensor.dtype}".encode())
        digest.update(flat[:: max(1, flat.numel() // 4096)].float().numpy().tobytes())
    return digest.hexdigest()[:24]


def cached_decoder(model, prompt_ids: list[list[int]], cache_dir: Path) -> "Int8Decoder":
    """The decoder for ``model`` (float32), from ``cache_dir`` when built before, else built and saved there.

    Building (calibration prefill, fusing, smoothing, quantizing) takes ~3 s on 2 cores; loading the
    saved int8 tensors and packing them ~0.4 s.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file, save_file

    path = cache_dir / f"{_fingerprint(model, prompt_ids)}.safetensors"
    if path.is_file():
        try:
            return Int8Decoder(model, saved=load_file(path))
        except (OSError, KeyError, RuntimeError, ValueError, SafetensorError) as error:  # a damaged file: build again
            log.warning("%s: cannot load the int8 engine (%s); building it again", path, error)
    decoder = Int8Decoder(model, ranges=channel_ranges(model, prompt_ids))
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        save_file(decoder.tensors(), str(tmp))
        os.replace(tmp, path)
    except OSError as error:  # a read-only or full cache: run anyway, build again next time
        log.warning("%s: cannot save the int8 engine (%s); it will be built again next time", cache_dir, error)
        with contextlib.suppress(OSError):
            tmp.unlink()
    return decoder


def _fused(*linears: nn.Linear) -> nn.Linear:
    """One Linear whose output is the concatenation of ``linears``' outputs (float32 weights)."""
    weight = torch.cat([lin.weight.detach().float() for lin in linears], dim=0)
    fused = nn.Linear(weight.shape[1], weight.shape[0], bias=False)
    fused.weight = nn.Parameter(weight, requires_grad=False)
    return fused


def _as_int8(module: nn.Module) -> nn.Module:
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    with warnings.catch_warnings():  # torch.ao says "migrate to torchao"; the API still works in torch 2.x
        warnings.simplefilter("ignore")
        return quantize_dynamic(module, {nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8, inplace=True)


class Int8Decoder:
    """int8 copies of a Llama model's projections, plus float norms and rotary tables, for one-token steps.

    Usage: ``state = decoder.start(hf_cache, n_prompt, max_new)`` after a float prefill, then
    ``logits = decoder.step(token_id, state)`` for each new token.
    """

    def __init__(self, model, *, int8: bool = True, ranges: dict[str, torch.Tensor] | None = None,
                 saved: dict[str, torch.Tensor] | None = None):
        """``ranges`` (from :func:`channel_ranges`) turns on smoothing; ``int8=False`` keeps float32 weights
        (the same arithmetic, used to check it); ``saved`` (from :meth:`tensors`) skips building."""
        if not supports(model):
            raise ValueError("Int8Decoder supports plain Llama models only")
        config = model.config
        self.n_heads = config.num_attention_heads
        self.n_kv = config.num_key_value_heads
        self.head_dim = getattr(config, "head_dim", None) or config.hidden_size // self.n_heads
        self.eps = float(config.rms_norm_eps)
        self.theta = float((getattr(config, "rope_parameters", None) or {}).get("rope_theta", getattr(config, "rope_theta", 10000.0)))
        if saved is not None:
            self._restore(saved, len(model.model.layers))
        else:
            self._build(model, ranges, int8)
        self.bind()
        # The float32 table, one row read per step; the prefill model may be cast to bf16 after this, and then
        # this stays a separate float32 copy (28 MB of weights x 4 bytes for SmolLM2), as measured.
        self.embed = model.model.embed_tokens.weight.detach()
        self.split_qkv = (self.n_heads * self.head_dim, self.n_kv * self.head_dim, self.n_kv * self.head_dim)

    def _build(self, model, ranges: dict[str, torch.Tensor] | None, int8: bool) -> None:
        blocks = model.model.layers
        float_w = lambda t: t.detach().float().clone()  # noqa: E731: the norms stay float32
        self.norm_in = [float_w(b.input_layernorm.weight) for b in blocks]
        self.norm_post = [float_w(b.post_attention_layernorm.weight) for b in blocks]
        self.norm_final = float_w(model.model.norm.weight)
        linears = nn.ModuleDict()
        for i, b in enumerate(blocks):
            attn, mlp = b.self_attn, b.mlp
            linears[f"qkv{i}"] = _fused(attn.q_proj, attn.k_proj, attn.v_proj)
            linears[f"o{i}"] = _fused(attn.o_proj)
            linears[f"gate_up{i}"] = _fused(mlp.gate_proj, mlp.up_proj)
            linears[f"down{i}"] = _fused(mlp.down_proj)
        linears["head"] = _fused(model.lm_head)
        if ranges:
            self._smooth(linears, ranges)
        if not int8:
            self.projections = dict(linears.items())
            return
        # Keep only fbgemm's packed weights: what the int8 op reads (and all the cache needs).
        self.projections = {name: module._packed_params._packed_params for name, module in _as_int8(linears).items()}

    def tensors(self) -> dict[str, torch.Tensor]:
        """Everything built (smoothed norms, int8 weights with their per-row scales) as plain tensors."""
        out = {f"norm_in.{i}": w for i, w in enumerate(self.norm_in)}
        out |= {f"norm_post.{i}": w for i, w in enumerate(self.norm_post)} | {"norm_final": self.norm_final}
        for name, packed in self.projections.items():
            weight, _ = torch.ops.quantized.linear_unpack(packed)  # a per-channel quantized tensor (rows)
            out[f"{name}.int8"] = weight.int_repr()
            out[f"{name}.scale"] = weight.q_per_channel_scales()
            out[f"{name}.zero"] = weight.q_per_channel_zero_points()
        return {k: v.contiguous() for k, v in out.items()}

    def _restore(self, saved: dict[str, torch.Tensor], n_layers: int) -> None:
        self.norm_in = [saved[f"norm_in.{i}"] for i in range(n_layers)]
        self.norm_post = [saved[f"norm_post.{i}"] for i in range(n_layers)]
        self.norm_final = saved["norm_final"]
        self.projections = {}
        for key in sorted(k for k in saved if k.endswith(".int8")):
            name = key.removesuffix(".int8")
            with warnings.catch_warnings():  # "quantized tensors are deprecated": they work in torch 2.13
                warnings.simplefilter("ignore")
                weight = torch._make_per_channel_quantized_tensor(saved[key], saved[f"{name}.scale"], saved[f"{name}.zero"], 0)
            self.projections[name] = torch.ops.quantized.linear_prepack(weight, None)  # the only work left at load

    def bind(self, reduce_range: bool = REDUCE_RANGE) -> None:
        """Per-layer lists of the projections as plain callables: the int8 op on its packed weights
        (no nn.Module call overhead, 121 calls per token), or the float Linear."""
        def call(name: str):
            weights = self.projections[name]
            if isinstance(weights, nn.Module):
                return weights
            return lambda x: torch.ops.quantized.linear_dynamic(x, weights, reduce_range)

        n = len(self.norm_in)
        self.qkv, self.o, self.gate_up, self.down = ([call(f"{kind}{i}") for i in range(n)] for kind in ("qkv", "o", "gate_up", "down"))
        self.head = call("head")

    @torch.no_grad()
    def _smooth(self, linears: nn.ModuleDict, ranges: dict[str, torch.Tensor]) -> None:
        """x W^T = (x / s)(W s)^T with s = range(x)^a / range(W)^(1-a); 1/s folds into the op before."""
        for name, linear in linears.items():
            kind, index = name.rstrip("0123456789"), name.lstrip("abcdefghijklmnopqrstuvwxyz_")
            if kind == "o" or name not in ranges:  # o_proj's input is attention output: no place to fold 1/s
                continue
            act = ranges[name].clamp_min(1e-5)
            weight = linear.weight.abs().amax(0).clamp_min(1e-5)
            scale = (act.pow(SMOOTH_ALPHA) / weight.pow(1 - SMOOTH_ALPHA)).clamp_min(1e-5)
            linear.weight.mul_(scale)
            if kind == "qkv":
                self.norm_in[int(index)] = self.norm_in[int(index)] / scale
            elif kind == "gate_up":
                self.norm_post[int(index)] = self.norm_post[int(index)] / scale
            elif kind == "head":
                self.norm_final = self.norm_final / scale
            elif kind == "down":  # its input is silu(gate) * up: scale up's output rows
                up = linears[f"gate_up{index}"].weight
                up[up.shape[0] // 2:] /= scale[:, None]

    def _rope(self, positions: int) -> tuple[torch.Tensor, torch.Tensor]:
        inv_freq = 1.0 / (self.theta ** (torch.arange(0, self.head_dim, 2, dtype=torch.float32) / self.head_dim))
        angles = torch.outer(torch.arange(positions, dtype=torch.float32), inv_freq)
        angles = torch.cat([angles, angles], dim=-1)
        return angles.cos(), angles.sin()

    def start(self, cache, n_prompt: int, max_new: int) -> dict:
        """Copy the prefill's keys/values (any float dtype) into preallocated float32 buffers."""
        size = n_prompt + max_new
        keys, values = [], []
        for layer in cache.layers:
            k = torch.empty(1, self.n_kv, size, self.head_dim)
            v = torch.empty(1, self.n_kv, size, self.head_dim)
            k[:, :, :n_prompt] = layer.keys[:, :, :n_prompt]
            v[:, :, :n_prompt] = layer.values[:, :, :n_prompt]
            keys.append(k)
            values.append(v)
        cos, sin = self._rope(size)
        return {"keys": keys, "values": values, "pos": n_prompt, "cos": cos, "sin": sin}

    @staticmethod
    def _rms(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight

    @staticmethod
    def _rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        half = x.shape[-1] // 2
        return x * cos + torch.cat([-x[..., half:], x[..., :half]], dim=-1) * sin

    @torch.inference_mode()
    def step(self, token_id: int, state: dict) -> torch.Tensor:
        """Logits (float32, vocabulary-sized) after appending ``token_id`` at position ``state['pos']``."""
        pos = state["pos"]
        cos, sin = state["cos"][pos], state["sin"][pos]
        x = self.embed[token_id].float().view(1, -1)
        n_q = self.split_qkv[0]
        for i in range(len(self.norm_in)):
            q, k, v = self.qkv[i](self._rms(x, self.norm_in[i], self.eps)).split(self.split_qkv, dim=-1)
            q = self._rotate(q.view(self.n_heads, 1, self.head_dim), cos, sin)
            keys, values = state["keys"][i], state["values"][i]
            keys[0, :, pos] = self._rotate(k.view(self.n_kv, self.head_dim), cos, sin)
            values[0, :, pos] = v.view(self.n_kv, self.head_dim)
            attended = F.scaled_dot_product_attention(q.unsqueeze(0), keys[:, :, : pos + 1], values[:, :, : pos + 1],
                                                      enable_gqa=True)
            x = x + self.o[i](attended.reshape(1, n_q))
            gate, up = self.gate_up[i](self._rms(x, self.norm_post[i], self.eps)).chunk(2, dim=-1)
            x = x + self.down[i](F.silu(gate) * up)
        state["pos"] = pos + 1
        return self.head(self._rms(x, self.norm_final, self.eps))[0]
