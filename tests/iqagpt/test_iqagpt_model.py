"""Preprocessing, the captioner's decoding paths, the Q-Align read-out and checkpoint round trips."""

import json

import numpy as np
import pytest
import torch

from radscribe.errors import ConfigError
from radscribe.iqagpt.checkpoint import load_captioner, save_captioner
from radscribe.iqagpt.decode import ScoreEnding, beam_search, finish_with_score, generate, greedy
from radscribe.iqagpt.models.captioner import Captioner, CaptionerConfig
from radscribe.iqagpt.models.encoder import EncoderConfig
from radscribe.iqagpt.preprocess import preprocess_uint8
from radscribe.iqagpt.score import ExpectedScore
from radscribe.iqagpt.tokenizer import WordTokenizer

TINY = CaptionerConfig(vocab_size=40, encoder=EncoderConfig(widths=(4, 8, 16)), n_layers=2, n_heads=2, max_len=12)


def test_preprocess_windows_and_area_resize():
    hu = np.full((512, 512), 40.0, np.float32)  # ldct level -> mid grey; lung window: (40 + 1350) / 1500
    hu[:2, :2] = [[-1000, 1000], [1000, 1000]]  # one 2x2 block: ldct values 0,1,1,1 -> block mean 0.75
    out = preprocess_uint8(hu)
    assert out.shape == (2, 256, 256) and out.dtype == np.uint8
    assert out[0, 100, 100] == 128 and out[1, 100, 100] == round(1390 / 1500 * 255)
    assert out[0, 0, 0] == round(0.75 * 255)


def test_preprocess_pads_non_square_with_air():
    hu = np.full((256, 128), 40.0, np.float32)
    out = preprocess_uint8(hu)
    assert out[0, 128, 0] == 0 and out[0, 128, 128] == 128  # left quarter is air, centre is tissue


def test_cached_greedy_matches_full_recompute_and_beam_of_one():
    torch.manual_seed(0)
    model = Captioner(TINY).eval()
    x = torch.rand(3, 2, 256, 256)
    memory = model.encode(x)
    tokens = greedy(model, memory, bos=1, eos=2, pad=0)
    logits, _ = model.decode(memory, tokens[:, :-1])
    logits = logits.scatter(2, tokens[:, :-1, None], float("-inf"))  # the decoders never repeat the last word
    written = tokens[:, 1:]
    valid = written != 0
    assert torch.equal(logits.argmax(-1)[valid], written[valid])
    beam = beam_search(model, memory, bos=1, eos=2, pad=0, beams=1)
    n = min(beam.shape[1], tokens.shape[1])
    assert torch.equal(beam[:, :n], tokens[:, :n])


def test_no_decoder_writes_a_word_twice_in_a_row():
    torch.manual_seed(3)
    model = Captioner(TINY).eval()
    memory = model.encode(torch.rand(4, 2, 256, 256))
    for tokens in (greedy(model, memory, 1, 2, 0), beam_search(model, memory, 1, 2, 0, beams=3)):
        for row in tokens.tolist():
            words = [w for w in row if w != 0]
            assert all(a != b for a, b in zip(words, words[1:]))


def test_a_caption_without_a_score_is_cut_and_ended_by_the_model():
    torch.manual_seed(4)
    model = Captioner(TINY).eval()  # max_len 12
    memory = model.encode(torch.rand(3, 2, 256, 256))
    tokens = greedy(model, memory, 1, 2, 0)
    unused = next(w for w in range(3, 40) if w not in tokens)
    stop = int(tokens[0, 2])
    ending = ScoreEnding(score_ids=[unused], prefix=[30, 31], stop=stop, room=3)
    out = finish_with_score(model, memory, tokens, eos=2, pad=0, ending=ending)
    assert out.shape[1] <= TINY.max_len
    for i in range(3):  # none wrote the "score": cut after a whole sentence (or to nothing), prefix, model's words
        row = [w for w in out[i].tolist() if w != 0]
        at = row.index(30)
        assert row[at + 1] == 31 and (at == 1 or row[at - 1] == stop) and len(row) > at + 2
        assert row[:at] == tokens[i, :at].tolist()
    # captions that wrote a score are left alone
    every = ScoreEnding(score_ids=list(range(40)), prefix=[30, 31], stop=stop)
    assert torch.equal(finish_with_score(model, memory, tokens, eos=2, pad=0, ending=every), tokens)


def test_generate_returns_probabilities_and_maps_per_word():
    torch.manual_seed(1)
    model = Captioner(TINY).eval()
    gen = generate(model, torch.rand(2, 2, 256, 256), 1, 2, 0)
    steps = gen.tokens.shape[1] - 1
    assert gen.probs.shape == (2, steps, 40) and gen.cross.shape == (2, steps, 16 * 16)
    assert torch.allclose(gen.probs.sum(-1), torch.ones(2, steps), atol=1e-5)
    assert torch.allclose(gen.cross.sum(-1), torch.ones(2, steps), atol=1e-5)


def test_expected_score_reads_category_and_number_positions():
    tok = WordTokenizer.build(["overall quality: bad poor fair good excellent (score 2.2 of 4). 3.0 1.0"])
    scorer = ExpectedScore(tok)
    ids = tok.encode("overall quality: good (score 3.0 of 4).")
    tokens = torch.tensor([ids])
    probs = torch.full((1, len(ids) - 1, len(tok)), 1e-9)
    at_cat = ids.index(tok.index["good"]) - 1  # probs[t] predicts token t + 1
    probs[0, at_cat, tok.index["good"]] = 0.5
    probs[0, at_cat, tok.index["excellent"]] = 0.5
    at_num = ids.index(tok.index["3.0"]) - 1
    probs[0, at_num, tok.index["3.0"]] = 0.75
    probs[0, at_num, tok.index["1.0"]] = 0.25
    assert scorer.category(probs, tokens)[0] == pytest.approx(3.5, abs=1e-4)
    assert scorer.number(probs, tokens)[0] == pytest.approx(2.5, abs=1e-4)
    no_category = torch.tensor([tok.encode("score")])
    assert scorer.category(torch.ones(1, 2, len(tok)), no_category) == [None]


def test_checkpoint_round_trip_and_tamper_check(tmp_path):
    torch.manual_seed(2)
    model = Captioner(TINY).eval()
    tok = WordTokenizer.build(["a b c"])
    save_captioner(tmp_path, model, tok, manifest={"command": "test"})
    loaded = load_captioner(tmp_path)
    x = torch.rand(1, 2, 256, 256)
    t = torch.tensor([[1, 5, 6]])
    with torch.no_grad():
        assert torch.allclose(model(x, t), loaded.model(x, t))
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["command"] == "test" and len(manifest["weights"]["sha256"]) == 64
    (tmp_path / "model.safetensors").write_bytes((tmp_path / "model.safetensors").read_bytes()[:-8] + b"\0" * 8)
    with pytest.raises(ConfigError, match="sha256"):
        load_captioner(tmp_path)


def test_missing_checkpoint_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="not a captioner checkpoint"):
        load_captioner(tmp_path)


def test_heatmap_words_prefer_quality_words_and_normalise():
    from radscribe.iqagpt.heatmap import pick_words, word_maps

    words = ["moderate", "noise", "in", "the", "liver", ".", "overall", "quality", "is", "fair"]
    cross = torch.rand(len(words), 16 * 16)
    pairs = word_maps(None, cross, words, grid=16, size=64)
    assert len(pairs) == len(words) and pairs[0][1].shape == (64, 64)
    assert all(m.min() == 0.0 and m.max() == pytest.approx(1.0) for _, m in pairs)
    assert [pairs[i][0] for i in pick_words(pairs, cross, top=3)] == ["moderate", "noise", "fair"]


def test_final_score_prefers_method_then_falls_back_and_clips():
    from radscribe.iqagpt.score import final_score

    c = {"parse": 2.2, "number": 2.46, "expected": 4.3}
    assert final_score(c, "parse") == 2.2 and final_score(c, "number") == 2.46 and final_score(c, "expected") == 4.0
    assert final_score({"parse": None, "number": 1.5, "expected": None}, "parse") == 1.5
    assert final_score({"parse": None, "number": None, "expected": None}, "parse") is None


def test_folding_batchnorm_keeps_the_encoder_output_and_leaves_the_model_alone():
    from torch import nn

    from radscribe.iqagpt.models.batchnorm import fold_batchnorm

    torch.manual_seed(2)
    model = Captioner(TINY)
    for bn in (m for m in model.modules() if isinstance(m, nn.BatchNorm2d)):  # statistics as after training
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
        bn.weight.data.uniform_(0.5, 1.5)
        bn.bias.data.uniform_(-0.2, 0.2)
    model.eval()
    folded = fold_batchnorm(model)
    x = torch.rand(2, 2, 256, 256)
    with torch.no_grad():
        assert torch.allclose(folded.encode(x), model.encode(x), atol=1e-5)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) > 0  # the original still trains as before
