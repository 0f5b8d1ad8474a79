"""`radscribe ask` and `radscribe report`: IQAGPT's last stage, caption -> LLM -> checked answer or report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from radscribe.cli.app import app, console, err_console, handle_errors, report_error, track
from radscribe.cli.llm_commands import (
    LLM_ADAPTER_OPTION, LLM_BACKEND_OPTION, LLM_BASE_URL_OPTION, LLM_CONFIG_OPTION, LLM_MODEL_OPTION, resolve_llm,
)
from radscribe.errors import EXIT_BAD_INPUT, InputError, RadscribeError

CAPTIONER_OPTION = typer.Option(None, "--captioner", help="Folder of a CT-IQA captioner checkpoint (default: the shipped one).")


def _read_captions_file(path: Path) -> dict[str, str]:
    """``source`` (or ``path``/``label``) -> ``caption`` from a JSONL file, e.g. the captioner's JSON output."""
    captions: dict[str, str] = {}
    try:
        lines = path.read_text().splitlines()
    except OSError as error:
        raise InputError(path, f"cannot read captions: {error.strerror or error}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            key = str(row.get("source") or row.get("path") or row["label"])
            captions[key] = str(row["caption"])
            if "slice" in row and row.get("path"):  # `assess --json` rows: path + slice of multi-frame files
                captions.setdefault(f"{row['path']}#{row['slice']}", str(row["caption"]))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise InputError(path, f"line {number}: expected a JSON object with 'source' and 'caption'") from None
    return captions


def _assess_paths(paths: list[Path], captioner: Optional[Path], captions_file: Optional[Path],
                  errors: list[RadscribeError]) -> list[dict]:
    """Per readable slice: label, study/series UID, position and caption (from the file or the captioner)."""
    from radscribe.io import expand_paths, read_image
    from radscribe.llm.ask import caption_images, load_captioner

    known = _read_captions_file(captions_file) if captions_file else None
    assessor = None if known is not None else load_captioner(str(captioner) if captioner else None)
    rows = []
    for path in track(expand_paths(paths, errors), description="captioning"):
        try:
            images = read_image(path)
            if known is not None:
                texts = []
                for image in images:
                    text = known.get(image.label) or known.get(str(path))
                    if text is None:
                        raise InputError(path, "no caption for this file in the captions file")
                    texts.append(text)
            else:
                texts = [a["caption"] for a in caption_images(assessor, images)]
        except RadscribeError as error:
            errors.append(error)
            continue
        for image, text in zip(images, texts):
            rows.append({"label": image.label, "caption": text, "study_uid": image.meta.study_uid,
                         "series_uid": image.meta.series_uid, "position": image.meta.slice_position})
    return rows


@app.command("ask")
@handle_errors
def ask(
    image: Optional[Path] = typer.Argument(None, help="A CT slice (DICOM, NIfTI, PNG/TIFF); omit when --caption is given."),
    question: str = typer.Argument("How good is this image? Give a score.", help="The question, in plain words."),
    caption: Optional[str] = typer.Option(None, "--caption", help="Use this quality caption instead of captioning an image."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per slice: answer, score, caption, backend, flags."),
    max_new_tokens: Optional[int] = typer.Option(None, "--max-new-tokens", help="Answer length limit (default 160)."),
    captioner: Optional[Path] = CAPTIONER_OPTION,
    backend: Optional[str] = LLM_BACKEND_OPTION,
    model: Optional[str] = LLM_MODEL_OPTION,
    base_url: Optional[str] = LLM_BASE_URL_OPTION,
    adapter: Optional[str] = LLM_ADAPTER_OPTION,
    llm_config: Optional[Path] = LLM_CONFIG_OPTION,
) -> None:
    """Ask about a CT slice's image quality: the captioner describes it, the LLM answers from that description.

    The answer is checked: if the LLM's score disagrees with the caption's by more than 0.5, or it names an
    artifact the caption does not, a note is added and the caption wins (JSON `flags` says which).

    Examples:

      radscribe ask scan.dcm "How good is this image? Give a score."

      radscribe ask --caption "Moderate noise; no streaks. Overall quality: fair (score 2.2 of 4)." "Can I read this scan?"

      radscribe ask scan.dcm "Is there metal?" --json --llm-backend openai --llm-base-url http://127.0.0.1:8000/v1
    """
    from radscribe.io import read_image
    from radscribe.llm.ask import ASK_MAX_NEW_TOKENS, ask_about_caption, caption_images, load_captioner
    from radscribe.llm.registry import load_chat_model

    if image is None and caption is None:
        raise InputError(None, "give an IMAGE or --caption TEXT (see radscribe ask --help)")
    if caption is not None and image is not None and not image.exists():
        question, image = str(image), None  # `ask --caption TEXT "question"`: the one argument is the question
    config = resolve_llm(backend, model, base_url, llm_config, max_new_tokens=max_new_tokens, adapter=adapter).config
    if caption is not None:
        items = [("caption", caption, None)]
    else:
        images = read_image(image)
        items = [(a_image.label, a["caption"], a.get("score")) for a_image, a in
                 zip(images, caption_images(load_captioner(str(captioner) if captioner else None), images))]
    chat_model = load_chat_model(config)
    limit = max_new_tokens or ASK_MAX_NEW_TOKENS
    for label, text, captioner_score in items:
        result = ask_about_caption(chat_model, text, question, max_new_tokens=limit, temperature=config.temperature,
                                   seed=config.seed)
        if as_json:  # captioner_score: the captioner's own (expected) score, shown beside the caption's
            print(json.dumps({"source": label, **result, "captioner_score": captioner_score}), flush=True)
            continue
        if len(items) > 1:
            console.print(f"[bold]{label}[/]")
        console.print(result["answer"], markup=False, highlight=False, soft_wrap=True)
        if result["flags"]:
            err_console.print(f"flags: {', '.join(result['flags'])}", highlight=False)


@app.command("report")
@handle_errors
def report(
    paths: list[Path] = typer.Argument(..., help="CT files or folders; slices are grouped into studies by StudyInstanceUID."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for one report per study (study-<UID>.md, .pdf, .json)."),
    pdf: bool = typer.Option(False, "--pdf", help="Also write a one-page PDF per study."),
    no_llm: bool = typer.Option(False, "--no-llm", help="Structured report only, no LLM narrative (fast, deterministic)."),
    captions: Optional[Path] = typer.Option(None, "--captions", help="JSONL with 'source' (or 'path') and 'caption' per slice, instead of the captioner."),
    captioner: Optional[Path] = CAPTIONER_OPTION,
    backend: Optional[str] = LLM_BACKEND_OPTION,
    model: Optional[str] = LLM_MODEL_OPTION,
    base_url: Optional[str] = LLM_BASE_URL_OPTION,
    adapter: Optional[str] = LLM_ADAPTER_OPTION,
    llm_config: Optional[Path] = LLM_CONFIG_OPTION,
) -> None:
    """Write a radiological image-quality report per CT study: findings per aspect, score, recommendation.

    Scores and findings come from the slice captions by fixed rules (repeat acquisition advised at a score of
    1.0 or below; limited interpretation at poor/fair); the LLM only writes a short narrative, which is
    checked against the captions. Bad files are reported one line each; the rest still get reports (exit 2).

    Examples:

      radscribe report study_folder/ --out reports/ --pdf

      radscribe report a.dcm b.dcm --out reports/ --captions my_captions.jsonl --no-llm
    """
    from radscribe.io.writers import atomic_write_json
    from radscribe.llm.registry import load_chat_model
    from radscribe.quality_report import build_reports, write_markdown, write_pdf
    from radscribe.quality_report.render import report_stem

    errors: list[RadscribeError] = []
    config = None if no_llm else resolve_llm(backend, model, base_url, llm_config, adapter=adapter).config
    rows = _assess_paths(paths, captioner, captions, errors)
    for error in errors:
        report_error(error)
    chat_model = load_chat_model(config) if config is not None and rows else None
    for study in build_reports(rows, chat_model):
        written = [write_markdown(study, out)]
        atomic_write_json(Path(out) / f"{report_stem(study)}.json", study.to_dict())
        if pdf:
            written.append(write_pdf(study, out))
        score = f"{study.score:.1f} ({study.category})" if study.score is not None else "not graded"
        console.print(f"{study.study_uid}: {len(study.slices)} slices, score {score} -> "
                      f"{', '.join(str(p) for p in written)}", highlight=False, soft_wrap=True)
    if errors:
        raise typer.Exit(EXIT_BAD_INPUT)
