"""Encoder shapes and preprocessing; the LoRA starts equal to its base and saves only adapters."""

import numpy as np
import pytest
import torch

from radscribe.xraygpt.encoder import EncoderConfig, VisualEncoder, augment, preprocess, to_unit_range
from radscribe.xraygpt.lora import LoRAConfig, add_lora, lora_parameters, lora_state_dict


def test_encoder_tokens_and_normalised_embedding():
    config = EncoderConfig(image_size=64, widths=(8, 16), token_dim=24, grid=3, embed_dim=12)
    tokens, embed = VisualEncoder(config).eval()(torch.randn(2, 1, 64, 64))
    assert tokens.shape == (2, 9, 24) and config.n_tokens == 9
    assert torch.allclose(embed.norm(dim=1), torch.ones(2), atol=1e-5)


def test_preprocess_pads_to_square_without_distortion():
    image = np.zeros((40, 80), np.float32)
    image[:, 40:] = 1.0  # right half bright
    out = preprocess(image, 32)
    assert out.shape == (1, 32, 32)
    # padded rows above and below are black (0 -> -2 after normalisation); the middle row keeps the edge
    assert out[0, 0].max() < -1.9 and out[0, 16, 28] > 1.9 and out[0, 16, 3] < -1.9


def test_to_unit_range():
    raw = np.array([[0, 100], [200, 4000]], np.float32)
    out = to_unit_range(raw, "raw")
    assert out.min() == 0.0 and out.max() == 1.0
    display = np.array([[0.2, 0.4]], np.float32)
    assert np.array_equal(to_unit_range(display, "display"), display)
    assert np.all(to_unit_range(np.ones((3, 3)), "raw") == 0)


def test_augment_is_seeded_and_keeps_shape():
    batch = torch.randn(3, 1, 32, 32)
    a = augment(batch, torch.Generator().manual_seed(1))
    b = augment(batch, torch.Generator().manual_seed(1))
    assert a.shape == batch.shape and torch.equal(a, b)
    assert not torch.equal(a, augment(batch, torch.Generator().manual_seed(2)))


def test_lora_starts_at_base_and_trains_only_adapters():
    torch.manual_seed(0)
    net = torch.nn.Sequential()
    net.add_module("block", torch.nn.Module())
    net.block.q_proj = torch.nn.Linear(6, 6)
    net.block.v_proj = torch.nn.Linear(6, 4)
    net.block.o_proj = torch.nn.Linear(6, 6)
    x = torch.randn(5, 6)
    before = (net.block.q_proj(x), net.block.v_proj(x))
    adapted = add_lora(net, LoRAConfig(rank=2))
    assert adapted == ["block.q_proj", "block.v_proj"]
    assert torch.allclose(net.block.q_proj(x), before[0]) and torch.allclose(net.block.v_proj(x), before[1])
    assert len(lora_parameters(net)) == 4
    state = lora_state_dict(net)
    assert set(state) == {f"block.{m}.lora_{ab}" for m in ("q_proj", "v_proj") for ab in "ab"}
    assert state["block.v_proj.lora_b"].shape == (4, 2)
