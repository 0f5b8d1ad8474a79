"""Does the LoRA LLM write findings it is TOLD as text before the prompt? (the ceiling of any visual token)"""
import torch
torch.set_num_threads(2)
from radscribe.xraygpt.checkpoint import load_model
from radscribe.xraygpt.data import load_examples, split_examples
from radscribe.xraygpt.conversation import SUMMARY_INSTRUCTIONS, Turn, build_prompt
from radscribe.cxr.labeler import label_report
from radscribe.xraygpt.train_projection import is_abnormal
s = load_model("xraygpt-smollm2-lora"); model = s.model
va = split_examples(load_examples("/tmp/cxr3k"), "validate")
abn = [e for e in va if is_abnormal(e)][:8]
for e in abn:
    f = ", ".join(k.lower() for k, v in e.labels.items() if v == 1)
    prompt = f"Findings on the image: {f}. " + build_prompt([Turn(SUMMARY_INSTRUCTIONS[0])])
    g = model.generate(None, prompt, max_new_tokens=30)
    print("TOLD:", f, "\n GEN:", g[:140], "\n  lab", {k for k, v in label_report(g).items() if v == 1})
