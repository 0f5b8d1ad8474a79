"""XrayGPT-style chest-radiograph summaries and chat (Shaker et al., arXiv 2306.07971), as the paper describes it.

A MedCLIP-style visual encoder trained here (contrastive, soft label targets; then frozen), ONE linear
projection into SmolLM2-135M-Instruct's embedding space, and the LLM radiology-tuned with LoRA.
(XrayGPT's released code uses EVA-CLIP + a BLIP-2 Q-Former instead of MedCLIP; we follow the paper.)

>>> from radscribe.xraygpt import load_model
>>> loaded = load_model("xraygpt-smollm2-lora")       # model + input size + manifest
"""

from radscribe.xraygpt.checkpoint import DEFAULT_MODEL, LoadedModel, load_model, read_manifest, shipped_models

__all__ = ["DEFAULT_MODEL", "LoadedModel", "load_model", "read_manifest", "shipped_models"]
