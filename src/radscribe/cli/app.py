"""The Typer applications every command module registers on, and the shared error handling."""

from __future__ import annotations

import functools
import logging
import warnings
import sys
from typing import Callable, Iterable, Iterator, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from radscribe.errors import EXIT_BAD_INPUT, RadscribeError

app = typer.Typer(
    name="radscribe",
    help="Medical images in, words out: CT image-quality assessment and chest-radiograph summaries.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Build, import and inspect training data (synthetic data is labelled synthetic).", no_args_is_help=True)
app.add_typer(data_app, name="data")

# stdout is for results (tables, JSON); diagnostics go to stderr.
console = Console()
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable)
T = TypeVar("T")


def report_error(error: Exception) -> None:
    """Print one line per bad input: the file and the reason, no traceback."""
    err_console.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)


def handle_errors(fn: F) -> F:
    """Turn RadscribeError into a one-line message and exit status 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except RadscribeError as error:
            report_error(error)
            raise typer.Exit(EXIT_BAD_INPUT) from None

    return wrapper  # type: ignore[return-value]


def track(iterable: Iterable[T], total: int | None = None, description: str = "working") -> Iterator[T]:
    """A progress bar on stderr for long loops; silent when stderr is not a terminal (pipes, CI)."""
    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
        console=err_console, transient=True, disable=not err_console.is_terminal,
    )
    with progress:
        yield from progress.track(iterable, total=total, description=description)


def setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # pydicom logs every off-standard value in real archives; only show that when asked.
    logging.getLogger("pydicom").setLevel(logging.DEBUG if verbose else logging.ERROR)
    if not verbose:
        # transformers' deprecation notices are about its internals, not anything a user can act on.
        warnings.filterwarnings("ignore", category=FutureWarning)
        logging.getLogger("transformers").setLevel(logging.ERROR)


@app.callback()
def _root(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug details to stderr.")) -> None:
    setup_logging(verbose)
