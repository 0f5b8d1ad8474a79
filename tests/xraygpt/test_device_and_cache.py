"""Where training runs (--device) and the MiniLM embedding cache that lets a GPU machine train without MiniLM."""

import pytest
import torch

from radscribe.errors import ConfigError
from radscribe.xraygpt.text_tower import _cache_file, sentence_embeddings
from radscribe.xraygpt.training import autocast, load_state, resolve_device, save_state


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ConfigError, match="expected auto, cpu"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="no CUDA GPU"):
            resolve_device("cuda")


def test_cpu_training_runs_without_autocast():
    with autocast(torch.device("cpu")):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32


def test_state_resumes_on_the_cpu(tmp_path):
    layer = torch.nn.Linear(3, 2)
    optimizer = torch.optim.AdamW(layer.parameters())
    save_state(tmp_path, 7, {"layer": layer}, optimizer, {"losses": [1.0]})
    state = load_state(tmp_path)
    assert state["step"] == 7 and state["modules"]["layer"]["weight"].device.type == "cpu"


def test_sentence_embeddings_are_cached_per_text_list(tmp_path, monkeypatch):
    monkeypatch.setenv("RADSCRIBE_CACHE", str(tmp_path))
    texts = ["No acute cardiopulmonary abnormality.", "Small left pleural effusion."]
    first = sentence_embeddings(texts)
    assert first.shape == (2, 384) and torch.allclose(first.norm(dim=1), torch.ones(2), atol=1e-5)
    cache = _cache_file(texts)
    assert cache.is_file() and cache.parent == tmp_path / "minilm"
    assert torch.equal(sentence_embeddings(texts), first)  # served from the cache
    assert _cache_file(texts[::-1]) != cache  # the order of the list is part of the key
    cache.write_bytes(b"garbage")  # an unreadable cache is recomputed, not trusted
    assert torch.allclose(sentence_embeddings(texts), first, atol=1e-6)
