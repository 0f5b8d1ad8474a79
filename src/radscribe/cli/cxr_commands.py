"""`radscribe label` and `radscribe data make-summaries`: chest-radiograph report text."""

from __future__ import annotations

import json
from collections import Counter
from enum import Enum
from pathlib import Path
from typing import Iterator, Optional

import typer
from rich.table import Table

from radscribe.cli.app import app, console, data_app, err_console, handle_errors, track
from radscribe.cxr.labeler import OBSERVATIONS, label_report, report_mentions
from radscribe.cxr.reports import Report
from radscribe.errors import ConfigError
from radscribe.io.writers import atomic_open

_MEANING = {1: "positive", 0: "negative", -1: "uncertain"}
_STYLE = {1: "bold red", 0: "green", -1: "yellow"}


@app.command("label")
@handle_errors
def label_command(
    text: Optional[str] = typer.Argument(None, help="Report text (quote it). Leave out and use --file to read a file."),
    file: Optional[Path] = typer.Option(None, "--file", "-f", help="Read the report text from this file ('-' for stdin)."),
    as_json: bool = typer.Option(False, "--json", help='Print {"Cardiomegaly": 1, ...} instead of a table.'),
) -> None:
    """Label report text with the 14 CheXpert observations: 1 positive, 0 negative, -1 uncertain.

    Unmentioned observations are left out; "No Finding" is 1 when nothing but
    support devices is positive or uncertain. Rules, negation and uncertainty
    detection run offline in milliseconds.

    Example: radscribe label "Small left pleural effusion. No pneumothorax." --json
    """
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


def _reports(source: SummarySource, directory: Optional[Path]) -> tuple[list[Report] | Iterator[Report], int | None]:
    """The reports of a source and how many there are (``None`` when unknown before reading)."""
    if source is SummarySource.iu_xray:
        from radscribe.cxr.reports import load_iu_xray_reports

        reports = load_iu_xray_reports()
        return reports, len(reports)
    if directory is None:
        raise ConfigError(f"--source {source.value} needs --dir pointing at the dataset root")
    if source is SummarySource.openi:
        from radscribe.cxr.loaders import iter_openi

        return (study.report for study in iter_openi(directory)), None
    from radscribe.cxr.loaders import iter_mimic_cxr

    return (study.report for study in iter_mimic_cxr(directory)), None


@data_app.command("make-summaries")
@handle_errors
def make_summaries_command(
    out: Path = typer.Option(..., "--out", "-o", help="Output JSON Lines file, one summary per kept report."),
    source: SummarySource = typer.Option(SummarySource.iu_xray, "--source", help="Which reports: the bundled IU-Xray set, or your own Open-i / MIMIC-CXR folder."),
    directory: Optional[Path] = typer.Option(None, "--dir", help="Dataset root for --source openi or mimic."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Stop after this many reports (quick looks)."),
    min_findings_words: int = typer.Option(10, help="Drop reports whose findings have fewer words (XrayGPT: 10)."),
    min_impression_words: int = typer.Option(2, help="Drop reports whose impression has fewer words (XrayGPT: 2)."),
    as_json: bool = typer.Option(False, "--json", help="Print the kept/dropped counts as JSON."),
) -> None:
    """Turn real radiology reports into XrayGPT-style summaries (rules, deterministic, offline).

    Keeps reports with findings of at least 10 words and an impression of at least
    2 words, removes comparisons with prior studies, de-identification blanks and
    view mentions, and merges findings and impression without repeating a statement.
    Each line of --out holds the report id, image ids, original sections, the
    summary and its CheXpert labels. The text is real ("synthetic": false).

    Example: radscribe data make-summaries --out summaries.jsonl
    """
    from itertools import islice

    from radscribe.cxr.summaries import SummaryConfig, summarize_report

    config = SummaryConfig(min_findings_words=min_findings_words, min_impression_words=min_impression_words)
    reports, total = _reports(source, directory)
    if limit:
        reports, total = islice(reports, limit), min(limit, total) if total else limit
    counts: Counter = Counter()
    with atomic_open(out, "w") as handle:
        for report in track(reports, total=total, description="summarising"):
            result = summarize_report(report, config)
            counts["kept" if result.kept else result.dropped] += 1
            if result.kept:
                handle.write(json.dumps(result.to_record()) + "\n")
    _print_counts(counts, out, as_json)


def _print_counts(counts: Counter, out: Path, as_json: bool) -> None:
    total = sum(counts.values())
    record = {"total": total, "kept": counts.get("kept", 0), "dropped": {k: v for k, v in sorted(counts.items()) if k != "kept"},
              "out": str(out)}
    if as_json:
        console.print_json(json.dumps(record))
        return
    table = Table(title=f"{record['kept']} of {total} reports kept -> {out}")
    table.add_column("outcome")
    table.add_column("reports", justify="right")
    table.add_row("kept", str(record["kept"]))
    for reason, n in record["dropped"].items():
        table.add_row(f"dropped: {reason}", str(n))
    console.print(table)
    if not record["kept"]:
        err_console.print("[yellow]no report passed the filters[/]")
