"""`radscribe label` and `radscribe data make-summaries`: chest-radiograph report text."""

from __future__ import annotations

import json
from collections import Counter
from enum import Enum
from pathlib import Path
from typing import Iterator, Optional

import typer
from rich.table import Table

from radscribe.cli.app import app, console, data_app, err_console, handle_errors, report_error, track
from radscribe.cxr.labeler import OBSERVATIONS, label_report, report_mentions
from radscribe.cxr.reports import Report
from radscribe.errors import EXIT_BAD_INPUT, ConfigError
from radscribe.cli.llm_commands import (
    LLM_BACKEND_OPTION, LLM_BASE_URL_OPTION, LLM_CONFIG_OPTION, LLM_MODEL_OPTION, resolve_llm,
)
from radscribe.io.writers import atomic_open, atomic_write_json

_MEANING = {1: "positive", 0: "negative", -1: "uncertain"}
_STYLE = {1: "bold red", 0: "green", -1: "yellow"}


@app.command("label")
@handle_errors
def label_command(
    text: Optional[str] = typer.Argument(None, help="Report text (quote it). Leave out and use --file to read a file."),
    file: Optional[Path] = typer.Option(None, "--file", "-f", help="Read the report text from this file ('-' for stdin)."),
    as_json: bool = typer.Option(False, "--json", help='Print {"Cardiomegaly": 1, ...} instead of a table.'),
    evaluate: Optional[Path] = typer.Option(
        None, "--evaluate", help="Score the labeler on a JSON Lines file of hand-labelled sentences "
        '({"id", "text", "labels": {...}} per line): per-observation precision, recall, F1, support.'),
    errors: bool = typer.Option(False, "--errors", help="With --evaluate: also list every sentence the labeler got wrong."),
) -> None:
    """Label report text with the 14 CheXpert observations: 1 positive, 0 negative, -1 uncertain.

    Unmentioned observations are left out; "No Finding" is 1 when nothing but support devices is positive or uncertain. Rules, negation and uncertainty detection run offline in milliseconds. With --evaluate, score the labeler on your own hand-labelled sentences instead.

    Examples:

      radscribe label "Small left pleural effusion. No pneumothorax." --json

      radscribe label --evaluate tests/cxr_text/data/labeled_sentences.jsonl          (Markdown table)

      radscribe label --evaluate labeled.jsonl --json > scores.json
    """
    if evaluate is not None:
        _evaluate(evaluate, as_json, errors)
        return
    report_text = _read_text(text, file)
    labels = label_report(report_text)
    if as_json:
        console.print_json(json.dumps(labels))
        return
    evidence: dict[str, list[str]] = {}
    for mention in report_mentions(report_text):
        evidence.setdefault(mention.observation, []).append(f"{mention.text} ({mention.label:+d})")
    table = Table(title="CheXpert labels")
    for column in ("observation", "label", "meaning", "evidence"):
        table.add_column(column, overflow="fold")
    for name in OBSERVATIONS:
        if name in labels:
            value = labels[name]
            table.add_row(name, str(value), f"[{_STYLE[value]}]{_MEANING[value]}[/]", "; ".join(evidence.get(name, ["(rule)"])))
    console.print(table)


def _evaluate(path: Path, as_json: bool, show_errors: bool) -> None:
    from radscribe.cxr.labeler.evaluate import evaluate, format_table, load_labeled

    if not path.is_file():
        raise ConfigError(f"{path}: no such file of labelled sentences")
    result = evaluate(load_labeled(path))
    if as_json:
        record = result.to_dict()
        if not show_errors:
            record.pop("errors")
        console.print_json(json.dumps(record))
        return
    console.print(format_table(result), markup=False, highlight=False, soft_wrap=True)
    if show_errors:
        for item, predicted in result.errors:
            console.print(f"- {item.id}: {item.text}\n  truth {item.labels}\n  predicted {predicted}", markup=False, highlight=False,
                          soft_wrap=True)


def _read_text(text: Optional[str], file: Optional[Path]) -> str:
    if (text is None) == (file is None):
        raise ConfigError("give the report text as an argument or with --file, not both and not neither")
    if file is None:
        return text or ""
    if str(file) == "-":
        return typer.get_text_stream("stdin").read()
    try:
        return file.read_text(errors="replace")
    except OSError as error:
        raise ConfigError(f"{file}: cannot read the report file ({error.strerror})") from None


class SummarySource(str, Enum):
    iu_xray = "iu-xray"
    openi = "openi"
    mimic = "mimic"


def _reports(
    source: SummarySource, directory: Optional[Path], on_error=report_error
) -> tuple[list[Report] | Iterator[Report], int | None]:
    """The reports of a source and how many there are (``None`` when unknown before reading).

    An unreadable Open-i XML file goes to ``on_error`` (one line) and the batch goes on.
    """
    if source is SummarySource.iu_xray:
        from radscribe.cxr.reports import load_iu_xray_reports

        reports = load_iu_xray_reports()
        return reports, len(reports)
    if directory is None:
        raise ConfigError(f"--source {source.value} needs --dir pointing at the dataset root")
    if source is SummarySource.openi:
        from radscribe.cxr.loaders import iter_openi

        return (study.report for study in iter_openi(directory, on_error=on_error)), None
    from radscribe.cxr.loaders import iter_mimic_cxr

    return (study.report for study in iter_mimic_cxr(directory)), None


@data_app.command("make-summaries")
@handle_errors
def make_summaries_command(
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (gets summaries.jsonl and stats.json), or a .jsonl file."),
    source: SummarySource = typer.Option(SummarySource.iu_xray, "--source", help="Which reports: the bundled IU-Xray set, or your own Open-i / MIMIC-CXR folder."),
    directory: Optional[Path] = typer.Option(None, "--dir", help="Dataset root for --source openi or mimic."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Stop after this many reports (quick looks)."),
    min_findings_words: int = typer.Option(10, help="Drop reports whose findings have fewer words (XrayGPT: 10)."),
    min_impression_words: int = typer.Option(2, help="Drop reports whose impression has fewer words (XrayGPT: 2)."),
    llm: bool = typer.Option(False, "--llm", help="Let the configured LLM rewrite each rule-cleaned report (slow: seconds per report on CPU)."),
    llm_backend: Optional[str] = LLM_BACKEND_OPTION,
    llm_model: Optional[str] = LLM_MODEL_OPTION,
    llm_base_url: Optional[str] = LLM_BASE_URL_OPTION,
    llm_config: Optional[Path] = LLM_CONFIG_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print the kept/dropped counts as JSON."),
) -> None:
    """Turn real radiology reports into XrayGPT-style summaries (rules: deterministic, offline, ~5 s for 3,955).

    Keeps reports with findings of at least 10 words and an impression of at least 2 words, removes comparisons with prior studies, de-identification blanks (XXXX) and view mentions, and merges findings and impression without repeating a statement.

    Each line of summaries.jsonl holds the report id, image ids, original sections, the summary and its CheXpert labels; stats.json holds how many reports each filter dropped and the time taken. The text is real ("synthetic": false).

    With --llm the rule-cleaned sections go to the LLM layer (embedded SmolLM2 unless configured otherwise, see `radscribe llm info`) and its answer is cleaned again by the same rules.

    Examples:

      radscribe data make-summaries --out summaries/

      radscribe data make-summaries --out quick.jsonl --limit 20 --llm
    """
    import time
    from itertools import islice

    from radscribe.cxr.summaries import SummaryConfig, llm_rewrite_fn, summarize_report, word_count

    config = SummaryConfig(min_findings_words=min_findings_words, min_impression_words=min_impression_words)
    summaries_path, stats_path = _output_paths(out)
    rewrite = None
    if llm:
        from radscribe.llm import load_chat_model

        resolved = resolve_llm(llm_backend, llm_model, llm_base_url, llm_config)
        rewrite = llm_rewrite_fn(load_chat_model(resolved.config))
    started = time.perf_counter()
    bad_inputs: list[Exception] = []

    def on_error(error: Exception) -> None:
        bad_inputs.append(error)
        report_error(error)

    reports, total = _reports(source, directory, on_error)
    if limit:
        reports, total = islice(reports, limit), min(limit, total) if total else limit
    counts: Counter = Counter()
    fails: Counter = Counter()  # each filter on its own, over all reports (a report can fail several)
    with atomic_open(summaries_path, "w") as handle:
        for report in track(reports, total=total, description="summarising"):
            fails["findings_under_min_words"] += word_count(report.findings) < config.min_findings_words
            fails["impression_under_min_words"] += word_count(report.impression) < config.min_impression_words
            result = summarize_report(report, config, rewrite)  # filters first; the LLM sees kept reports only
            counts["kept" if result.kept else result.dropped] += 1
            if result.kept:
                handle.write(json.dumps(result.to_record()) + "\n")
    seconds = time.perf_counter() - started
    total_seen = sum(counts.values())
    record = {"total": total_seen, "kept": counts.get("kept", 0),
              "dropped": {k: v for k, v in sorted(counts.items()) if k != "kept"},
              "failing_each_filter": {k: fails[k] for k in ("findings_under_min_words", "impression_under_min_words")},
              "config": {"min_findings_words": min_findings_words, "min_impression_words": min_impression_words,
                         "method": "llm" if llm else "rules", "source": source.value},
              "bad_inputs": len(bad_inputs), "seconds": round(seconds, 2), "out": str(summaries_path), "synthetic": False}
    if stats_path is not None:
        atomic_write_json(stats_path, record)
    _print_counts(record, as_json)
    if bad_inputs:
        raise typer.Exit(EXIT_BAD_INPUT)


def _output_paths(out: Path) -> tuple[Path, Path | None]:
    """``--out x.jsonl`` writes that file only; any other ``--out`` is a folder for summaries.jsonl + stats.json."""
    if out.suffix.lower() in (".jsonl", ".json"):
        return out, None
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out}: exists and is not a folder; give a folder or a .jsonl file to --out")
    out.mkdir(parents=True, exist_ok=True)
    return out / "summaries.jsonl", out / "stats.json"


def _print_counts(record: dict, as_json: bool) -> None:
    if as_json:
        console.print_json(json.dumps(record))
        return
    table = Table(title=f"{record['kept']} of {record['total']} reports kept in {record['seconds']:.1f} s -> {record['out']}")
    table.add_column("outcome")
    table.add_column("reports", justify="right")
    table.add_row("kept", str(record["kept"]))
    for reason, n in record["dropped"].items():
        table.add_row(f"dropped: {reason}", str(n))
    for name, n in record["failing_each_filter"].items():
        table.add_row(f"(on its own) {name}", str(n))
    console.print(table)
    if not record["kept"]:
        err_console.print("[yellow]no report passed the filters[/]")
