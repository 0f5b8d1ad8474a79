"""Entry point: import every command module so it registers on the app, then expose ``app``."""

from radscribe.cli.app import app
from radscribe.cli import io_commands  # noqa: F401  (registers info, view)

__all__ = ["app"]
