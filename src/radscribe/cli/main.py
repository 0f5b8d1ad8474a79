"""Entry point: import every command module so it registers on the app, then expose ``app``."""

from radscribe.cli.app import app
from radscribe.cli import demo_commands, io_commands  # noqa: F401  (each module registers its commands)
from radscribe.cli import llm_commands  # noqa: F401
from radscribe.cli import ask_commands  # noqa: F401
from radscribe.cli import cxr_commands  # noqa: F401
from radscribe.cli import cxr_render_commands  # noqa: F401
from radscribe.cli import xraygpt_commands  # noqa: F401
from radscribe.cli import ctiqa_commands  # noqa: F401
from radscribe.cli import iqagpt_commands  # noqa: F401

__all__ = ["app"]
