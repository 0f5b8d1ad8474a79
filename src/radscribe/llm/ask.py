"""IQAGPT's question answering: caption in, checked answer out.

``ask_about_caption`` renders the ``quality_question`` prompt, asks the chat model, and passes the answer
through the hallucination guard (:mod:`radscribe.llm.guard`). ``caption_images`` gets captions from the
CT-IQA captioner (:func:`radscribe.iqagpt.load_assessor`) for images read by :mod:`radscribe.io`.
"""

from __future__ import annotations

from typing import Any, Sequence

from radscribe.errors import ConfigError
from radscribe.llm.base import ChatModel
from radscribe.llm.guard import asks_for_score, check_answer, parse_caption_facts, tidy_answer
from radscribe.llm.prompts import PROMPTS_VERSION, render

ASK_MAX_NEW_TOKENS = 160


def ask_about_caption(chat_model: ChatModel, caption: str, question: str, *, max_new_tokens: int = ASK_MAX_NEW_TOKENS,
                      temperature: float = 0.0, seed: int | None = None) -> dict[str, Any]:
    """The LLM's answer to ``question`` about an image described by ``caption``, checked against the caption.

    Returns ``answer`` (with guard notes), ``score``/``category`` (from the caption, never the LLM),
    ``llm_score`` (what the LLM said, if anything), ``caption``, ``backend``, ``model``, ``flags``.
    """
    facts = parse_caption_facts(caption)
    messages = render("quality_question", caption=caption.strip(), question=question.strip())
    completion = chat_model.generate(messages, max_new_tokens=max_new_tokens, temperature=temperature, seed=seed)
    text = tidy_answer(completion.text, truncated=completion.finish_reason == "length")
    checked = check_answer(text, caption, facts=facts, wants_score=asks_for_score(question))
    return {
        "answer": checked.answer,
        "llm_text": completion.text,
        "score": checked.score,
        "category": checked.category,
        "llm_score": checked.llm_score,
        "caption": caption,
        "aspects": facts.aspects,
        "backend": chat_model.backend,
        "model": chat_model.name,
        "flags": checked.flags,
        "unsupported_findings": checked.unsupported_findings,
        "prompts_version": PROMPTS_VERSION,
    }


def load_captioner(model_dir: str | None = None):
    """The CT-IQA captioner (an Assessor with ``assess(images) -> list[dict]``), or a ConfigError saying why not."""
    try:
        from radscribe.iqagpt import load_assessor
    except ImportError:
        raise ConfigError("the CT-IQA captioner (radscribe.iqagpt) is not installed in this build; "
                          "pass --caption TEXT with a caption from your own captioner") from None
    return load_assessor(model_dir=model_dir)


def caption_images(assessor, images: Sequence) -> list[dict[str, Any]]:
    """One assessment per image: score, category, aspects, caption, model (as the captioner gives them)."""
    return list(assessor.assess(list(images)))
