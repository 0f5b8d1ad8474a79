"""`python -m radscribe` runs the command-line interface."""

from radscribe.cli.main import app

app(prog_name="radscribe")
