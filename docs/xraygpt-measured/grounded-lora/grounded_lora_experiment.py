"""Experiment G3 (docs/xraygpt.md, "Does the LLM write findings it is given?"): a LoRA tuned on real summaries
CONDITIONED on 14 finding tokens made from the report's own labels (present -> embedding of the finding's name, absent
-> of its negation), then summaries from those tokens (true labels or the shipped encoder's probe) with and without
image guidance. G1 and G2 ran earlier versions of this script: the same training (G1 rank 8 on q,v; G2 without jitter),
scored without guidance. SYNTHETIC images. Written as an experiment script, kept as run.
usage: grounded_lora_experiment.py STEPS NEVAL OUT.json RANK TARGETS LR jitter|nojitter"""
import json, sys, time, random
from pathlib import Path
import torch
torch.set_num_threads(2)
from radscribe.xraygpt.model import load_llm, build_batch, lm_loss, XrayGPT
from radscribe.xraygpt.lora import LoRAConfig, add_lora, lora_parameters
from radscribe.xraygpt.checkpoint import load_model
from radscribe.xraygpt.data import load_examples, split_examples, load_image_batch
from radscribe.xraygpt.medclip_loss import label_matrix
from radscribe.xraygpt.finding_tokens import train_finding_head, pooled_features
from radscribe.xraygpt.train_projection import stage_texts, is_abnormal
from radscribe.xraygpt.conversation import SUMMARY_INSTRUCTIONS, Turn, build_prompt
from radscribe.xraygpt.evaluate import score_system
from radscribe.xraygpt.reliance import label_question_auc
from radscribe.cxr.labeler import OBSERVATIONS
PAIRS = {"No Finding": ("normal", "abnormal"), "Enlarged Cardiomediastinum": ("enlarged mediastinum", "normal mediastinum"),
 "Cardiomegaly": ("cardiomegaly", "normal heart size"), "Lung Lesion": ("nodule", "no nodule"),
 "Lung Opacity": ("opacity", "clear lungs"), "Edema": ("edema", "no edema"), "Consolidation": ("consolidation", "no consolidation"),
 "Pneumonia": ("pneumonia", "no pneumonia"), "Atelectasis": ("atelectasis", "no atelectasis"),
 "Pneumothorax": ("pneumothorax", "no pneumothorax"), "Pleural Effusion": ("pleural effusion", "no effusion"),
 "Pleural Other": ("pleural thickening", "no pleural thickening"), "Fracture": ("fracture", "no fracture"),
 "Support Devices": ("medical device", "no device")}
steps, neval, out = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
RANK = int(sys.argv[4]); TARGETS = tuple(sys.argv[5].split(",")); LR = float(sys.argv[6]); JITTER = sys.argv[7] == "jitter"
t0 = time.time()
ex = load_examples("/tmp/cxr3k"); tr, va = split_examples(ex, "train"), split_examples(ex, "validate")
llm, tok = load_llm(2)
E = llm.get_input_embeddings().weight.detach()
def phrase(p): return E[tok(" " + p, add_special_tokens=False)["input_ids"]].mean(0)
Wp = torch.stack([phrase(PAIRS[o][0]) for o in OBSERVATIONS]); Wn = torch.stack([phrase(PAIRS[o][1]) for o in OBSERVATIONS])
def tokens_from_p(p):  # (B,14) -> (B,14,H)
    return p[..., None] * Wp + (1 - p[..., None]) * Wn
def label_p(examples, rng=None):
    m = label_matrix([e.labels for e in examples])  # 1 pos, 0.5 uncertain?, 0 neg
    p = (m > 0.75).float()
    if rng is not None:  # jitter like a probe's probabilities
        p = torch.where(p > 0.5, 0.6 + 0.4 * torch.rand(p.shape, generator=rng), 0.4 * torch.rand(p.shape, generator=rng))
    return p
add_lora(llm, LoRAConfig(rank=RANK, alpha=2*RANK, targets=TARGETS))
params = lora_parameters(llm)
for q in params: q.requires_grad_(True)
opt = torch.optim.AdamW(params, lr=LR, weight_decay=0.0)
sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1, (s + 1) / 10) * (1 - 0.9 * s / max(1, steps)))
trl = list(tr) + [e for e in tr if is_abnormal(e)]  # abnormal twice
g = torch.Generator().manual_seed(0)
losses = []
for step in range(steps):
    rng = random.Random(step)
    idx = rng.sample(range(len(trl)), 8); batch_ex = [trl[i] for i in idx]
    stage = 1 if step % 2 == 0 else 2
    prompts, answers = stage_texts(batch_ex, stage, rng, 0.5)
    vis = tokens_from_p(label_p(batch_ex, g if JITTER else None))
    llm.train()
    loss = lm_loss(llm, build_batch(llm, tok, vis, prompts, answers, 64))
    opt.zero_grad(); loss.backward(); opt.step(); sched.step()
    losses.append(loss.item())
    if step % 25 == 0: print(step, round(sum(losses[-25:]) / len(losses[-25:]), 3), round(time.time() - t0), flush=True)
llm.eval()
for q in params: q.requires_grad_(False)
from radscribe.xraygpt.lora import lora_state_dict
torch.save(lora_state_dict(llm), str(out) + '.lora.pt')
# image side: the shipped encoder + probe; the projection is exactly the word columns (not trained)
s = load_model("xraygpt-smollm2-lora")
head, hm = train_finding_head(s.model.encoder, load_image_batch(tr, 128), label_matrix([e.labels for e in tr]))
ev = va[:neval]
pl = label_p(ev); perm = torch.roll(torch.arange(len(ev)), 1)
with torch.no_grad():
    own = [lm_loss(llm, build_batch(llm, tok, tokens_from_p(pl[i:i+1]), [""], [ev[i].summary], 64)).item() for i in range(len(ev))]
    oth = [lm_loss(llm, build_batch(llm, tok, tokens_from_p(pl[perm[i]:perm[i]+1]), [""], [ev[i].summary], 64)).item() for i in range(len(ev))]
print("abnormal val loss own labels", sum(own)/len(own), "other study's labels", sum(oth)/len(oth), flush=True)
with torch.no_grad():
    p_img = torch.sigmoid(head(pooled_features(s.model.encoder, load_image_batch(ev, 128))))
p_lab = label_p(ev)
prompt = build_prompt([Turn(SUMMARY_INSTRUCTIONS[0])])
from radscribe.xraygpt.guidance import guided_logits
def gen(vis, w=0.0):
    emb = llm.get_input_embeddings()
    ids = tok(prompt, add_special_tokens=False)["input_ids"]
    pe = emb(torch.tensor([ids]))[0]
    runs = [torch.cat([vis, pe], 0)[None], torch.cat([tokens_from_p(torch.full((14,), 0.5)), pe], 0)[None]]
    text, caches, steps_ = [], [None, None], [{"inputs_embeds": r} for r in runs]
    with torch.no_grad():
        for _ in range(60):
            lg = []
            for i in range(2 if w else 1):
                o = llm(**steps_[i], past_key_values=caches[i], use_cache=True)
                caches[i] = o.past_key_values; lg.append(o.logits[0, -1])
            nid = int((guided_logits(lg[0], lg[1], w) if w else lg[0]).argmax())
            if nid == tok.eos_token_id: break
            text.append(nid); steps_ = [{"inputs_embeds": emb(torch.tensor([[nid]]))}] * 2
            if tok.decode(text).endswith("###"): break
    return tok.decode(text).replace("###", "").strip()
res = {"n_abnormal": sum(map(is_abnormal, ev)), "gap_own_other": [sum(own)/len(own), sum(oth)/len(oth)], "rank": RANK, "targets": TARGETS, "lr": LR, "jitter": JITTER, "synthetic_images": True, "steps": steps, "loss_first": losses[:5], "loss_last": sum(losses[-25:]) / 25}
for name, P, w in (("label_tokens_w0", p_lab, 0.0), ("label_tokens_w2", p_lab, 2.0), ("probe_tokens_w2", p_img, 2.0), ("label_tokens_w5", p_lab, 5.0)):
    preds = [gen(tokens_from_p(P[i]), w) for i in range(len(ev))]
    sc = score_system(preds, [e.summary for e in ev])
    res[name] = {"scores": {k: v for k, v in sc.items()}, "distinct": len(set(preds)),
                 "examples": [{"ref": e.summary, "gen": p} for e, p in list(zip(ev, preds))]}
    print(name, {k: round(v, 3) if isinstance(v, float) else v for k, v in sc.items() if not isinstance(v, dict)}, "distinct", len(set(preds)), round(time.time() - t0), flush=True)
    out.write_text(json.dumps(res, indent=1, default=float))
res["seconds"] = time.time() - t0
out.write_text(json.dumps(res, indent=1, default=float))
