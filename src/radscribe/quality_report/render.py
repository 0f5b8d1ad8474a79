"""Write a StudyReport as markdown, and as a one-page PDF (matplotlib's PdfPages, no extra package)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from radscribe.io.writers import atomic_open, atomic_write_text
from radscribe.quality_report.build import StudyReport

_PLAIN = re.compile(r"[^A-Za-z0-9._-]+")


def report_stem(report: StudyReport) -> str:
    """A file name for the study: its UID (or file name) with anything odd replaced."""
    return "study-" + _PLAIN.sub("_", report.study_uid.removeprefix("file:").rsplit("/", 1)[-1])[:80]


def _aspect_lines(report: StudyReport) -> list[str]:
    lines = ["| aspect | worst severity | slices with it |", "|---|---|---|"]
    for aspect, info in report.aspects.items():
        lines.append(f"| {aspect} | {info['worst'] or 'not stated'} | {info['slices']} of {len(report.slices)} |")
    return lines


def to_markdown(report: StudyReport) -> str:
    """The report as markdown: structured findings first, the LLM's narrative clearly marked as such."""
    score = f"{report.score:.1f} of 4 ({report.category})" if report.score is not None else "not graded"
    worst = f"; worst slice {report.worst_score:.1f}" if report.worst_score is not None else ""
    lines = [
        "# CT image-quality report", "",
        f"- Study: `{report.study_uid}`",
        f"- Slices assessed: {len(report.slices)}",
        f"- Overall quality: **{score}**{worst} (mean of slice scores, LDCTIQAC 0-4 scale)",
        f"- Recommendation: **{report.recommendation}**", "",
        "## Findings per aspect", "", *_aspect_lines(report), "",
    ]
    if report.narrative:
        lines += ["## Narrative", "",
                  f"_Written by the LLM ({report.llm}, prompts {report.prompts_version}) from the captions; "
                  "the scores and findings above come from the captions and take precedence._", "",
                  report.narrative.strip(), ""]
        if report.narrative_flags:
            lines += [f"Guard flags: {', '.join(report.narrative_flags)}", ""]
    lines += ["## Slices", "", "| slice | score | caption |", "|---|---|---|"]
    for item in report.slices:
        value = f"{item.facts.score:.1f}" if item.facts.score is not None else "-"
        lines.append(f"| `{item.label}` | {value} | {item.caption.strip().replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def write_markdown(report: StudyReport, out_dir: Path) -> Path:
    path = Path(out_dir) / f"{report_stem(report)}.md"
    atomic_write_text(path, to_markdown(report))
    return path


def report_figure(report: StudyReport):
    """One A4 page: the report text plus a bar chart of slice scores (colour marks the repeat threshold)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    text = to_markdown(report).split("\n## Slices", 1)[0].replace("**", "").replace("`", "").replace("_", "")
    wrapped = "\n".join(textwrap.fill(line, 95) if line.strip() else "" for line in text.splitlines())
    figure = Figure(figsize=(8.27, 11.69))
    figure.text(0.06, 0.97, wrapped, va="top", ha="left", family="monospace", fontsize=7.5)
    scores = [s.facts.score if s.facts.score is not None else 0.0 for s in report.slices]
    axes = figure.add_axes((0.1, 0.06, 0.85, 0.2))
    axes.bar(range(1, len(scores) + 1), scores, color=["#c0392b" if v <= 1.0 else "#2c7fb8" for v in scores])
    axes.axhline(1.0, color="#c0392b", linewidth=0.8, linestyle="--")
    axes.set_ylim(0, 4)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("slice (study order)")
    axes.set_ylabel("score (0-4)")
    axes.set_title("Slice scores from the captions (dashed: repeat-acquisition threshold)", fontsize=9)
    return figure


def write_pdf(report: StudyReport, out_dir: Path) -> Path:
    """The report page as ``study-<UID>.pdf`` (matplotlib's PdfPages; no extra package)."""
    from matplotlib.backends.backend_pdf import PdfPages

    path = Path(out_dir) / f"{report_stem(report)}.pdf"
    with atomic_open(path, "wb") as handle, PdfPages(handle) as pdf:
        pdf.savefig(report_figure(report))
    return path
