"""Entry point: import every command module so it registers on the app, then expose ``app``."""

from radscribe.cli.app import app
from radscribe.cli import demo_commands, io_commands  # noqa: F401  (each module registers its commands)

__all__ = ["app"]
