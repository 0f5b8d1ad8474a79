"""Caption generation: greedy and beam search, plus a read-out pass that returns, for the
generated words, the next-word probabilities (for the Q-Align-style score) and the cross-attention
maps (for heat maps)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from radscribe.iqagpt.models.captioner import Captioner


@dataclass
class Generated:
    tokens: torch.Tensor  # (B, T) starting with <bos>, padded with <pad> after <eos>
    probs: torch.Tensor  # (B, T-1, V): p(token[t+1] | tokens[:t+1], image)
    cross: torch.Tensor  # (B, T-1, N): last-layer cross-attention of the position that emitted token[t+1]


def block_repeats(scores: torch.Tensor, last: torch.Tensor) -> torch.Tensor:
    """Next-word ``scores`` (B, V) with each row's last word ``last`` (B,) made impossible.

    No training caption has the same word twice in a row, and a model off its training distribution
    can fall into "artefact artefact artefact ..." until the length limit, leaving no score to read
    (seen on pydicom-data's 693_UNCI head with an aneurysm clip, 2026-12-02).
    """
    return scores.scatter(1, last[:, None], float("-inf"))


@torch.no_grad()
def greedy(model: Captioner, memory: torch.Tensor, bos: int, eos: int, pad: int, max_len: int | None = None) -> torch.Tensor:
    """Batched greedy decoding with cached keys/values; stops when every row has written ``<eos>``."""
    max_len = min(max_len or model.cfg.max_len, model.cfg.max_len)
    b = memory.shape[0]
    mem_kv = model.memory_kv(memory)
    caches: list[dict] = [{} for _ in model.layers]
    token = torch.full((b,), bos, dtype=torch.long, device=memory.device)
    out = [token]
    done = torch.zeros(b, dtype=torch.bool, device=memory.device)
    for position in range(max_len - 1):
        nxt = block_repeats(model.step(token, position, mem_kv, caches), token).argmax(-1)
        nxt = torch.where(done, torch.full_like(nxt, pad), nxt)
        out.append(nxt)
        done |= nxt == eos
        token = nxt
        if bool(done.all()):
            break
    return torch.stack(out, dim=1)


@torch.no_grad()
def beam_search(model: Captioner, memory: torch.Tensor, bos: int, eos: int, pad: int, beams: int = 3,
                max_len: int | None = None, length_penalty: float = 0.0) -> torch.Tensor:
    """Beam search per image (beams batched together); returns the best sequence per image."""
    max_len = min(max_len or model.cfg.max_len, model.cfg.max_len)
    best: list[torch.Tensor] = []
    for i in range(memory.shape[0]):
        mem = memory[i:i + 1].expand(beams, -1, -1)
        seqs = torch.full((1, 1), bos, dtype=torch.long, device=memory.device)
        scores = torch.zeros(1, device=memory.device)
        finished: list[tuple[float, torch.Tensor]] = []
        mem_kv_all = model.memory_kv(mem)
        for _ in range(max_len - 1):
            k = seqs.shape[0]
            logits, _ = model.decode(mem[:k], seqs, mem_kv=[(a[:k], b[:k]) for a, b in mem_kv_all])
            logp = block_repeats(logits[:, -1].log_softmax(-1), seqs[:, -1])  # (k, V)
            cand = (scores[:, None] + logp).flatten()
            top = cand.topk(min(beams * 2, cand.numel()))
            next_seqs, next_scores = [], []
            vocab = logp.shape[1]
            for score, flat in zip(top.values.tolist(), top.indices.tolist()):
                row, word = divmod(flat, vocab)
                seq = torch.cat([seqs[row], torch.tensor([word], device=memory.device)])
                if word == eos:
                    finished.append((score / (len(seq) ** length_penalty), seq))
                else:
                    next_seqs.append(seq)
                    next_scores.append(score)
                if len(next_seqs) == beams:
                    break
            if not next_seqs or (len(finished) >= beams and max(f[0] for f in finished) > max(next_scores)):
                break
            seqs, scores = torch.stack(next_seqs), torch.tensor(next_scores, device=memory.device)
        if not finished:
            finished = [(float(scores[0]), seqs[0])]
        best.append(max(finished, key=lambda f: f[0])[1])
    width = max(len(s) for s in best)
    out = torch.full((len(best), width), pad, dtype=torch.long, device=memory.device)
    for i, seq in enumerate(best):
        out[i, : len(seq)] = seq
    return out


@dataclass
class ScoreEnding:
    """How to make a caption end with a score when it ran out of length without one.

    ``score_ids``: the score-number words; ``prefix``: the words that open a score sentence the model
    learnt ("overall image quality is"); ``stop``: the sentence end (".") where a caption may be cut.
    """

    score_ids: list[int]
    prefix: list[int]
    stop: int
    room: int = 16  # words left for "<category>, with a score of 2.4 out of 4."


@torch.no_grad()
def finish_with_score(model: Captioner, memory: torch.Tensor, tokens: torch.Tensor, eos: int, pad: int,
                      ending: ScoreEnding) -> torch.Tensor:
    """Captions (B, T) that wrote no score number are cut after their last sentence that leaves room,
    given ``ending.prefix`` and continued greedily, so the model itself states a category and score.

    Rare (an image far from the training data); one row at a time, without caches.
    """
    max_len = model.cfg.max_len
    device = tokens.device
    scores = torch.tensor(ending.score_ids, dtype=torch.long, device=device)
    rows = [i for i in range(tokens.shape[0]) if not torch.isin(tokens[i], scores).any()]
    if not rows:
        return tokens
    finished = list(tokens)
    for i in rows:
        words = [w for w in tokens[i, 1:].tolist() if w not in (eos, pad)]
        limit = max_len - 1 - len(ending.prefix) - ending.room
        stops = [j + 1 for j, w in enumerate(words[:limit]) if w == ending.stop]
        seq = tokens[i, :1].tolist() + words[:stops[-1] if stops else 0] + ending.prefix
        while len(seq) < max_len:
            logits = model.decode(memory[i:i + 1], torch.tensor([seq], device=device))[0][:, -1]
            word = int(block_repeats(logits, torch.tensor(seq[-1:], device=device)).argmax(-1))
            seq.append(word)
            if word == eos:
                break
        finished[i] = torch.tensor(seq, device=device)
    width = max(len(t) for t in finished)
    out = torch.full((len(finished), width), pad, dtype=torch.long, device=device)
    for i, seq in enumerate(finished):
        out[i, :len(seq)] = seq[:width]
    return out


@torch.no_grad()
def read_out(model: Captioner, memory: torch.Tensor, tokens: torch.Tensor, pad: int, need_cross: bool = True) -> Generated:
    """One teacher-forced pass over generated tokens: probabilities and cross-attention per written word.

    Causal attention makes this identical to what the model computed while generating.
    """
    logits, cross = model.decode(memory, tokens[:, :-1], pad_mask=tokens[:, :-1] == pad, need_cross=need_cross)
    probs = logits.softmax(-1)
    if cross is None:
        cross = torch.zeros(tokens.shape[0], tokens.shape[1] - 1, memory.shape[1])
    return Generated(tokens=tokens, probs=probs, cross=cross)


def generate(model: Captioner, images: torch.Tensor, bos: int, eos: int, pad: int, *, beams: int = 1,
             need_cross: bool = True, decode_threads: int | None = 1, ending: ScoreEnding | None = None) -> Generated:
    """Encode ``images`` and write one caption each (greedy when ``beams == 1``).

    ``decode_threads``: word-by-word decoding is many tiny operations, where a second thread costs more
    in synchronisation than it gives (measured: 1 thread was faster on 2 busy cores); the encoder's
    convolutions keep the caller's thread count. ``ending``: see :func:`finish_with_score`.
    """
    model.eval()
    threads = torch.get_num_threads()
    with torch.no_grad():
        memory = model.encode(images)
        if decode_threads:
            torch.set_num_threads(decode_threads)
        try:
            if beams > 1:
                tokens = beam_search(model, memory, bos, eos, pad, beams=beams)
            else:
                tokens = greedy(model, memory, bos, eos, pad)
            if ending is not None:
                tokens = finish_with_score(model, memory, tokens, eos, pad, ending)
            return read_out(model, memory, tokens, pad, need_cross=need_cross)
        finally:
            torch.set_num_threads(threads)
