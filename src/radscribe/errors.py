"""Typed errors. Every message should tell a user what to do next.

The CLI prints ``str(error)`` on one line and exits with ``EXIT_BAD_INPUT``;
library code raises these and never exits or prints.
"""

from __future__ import annotations

from pathlib import Path

EXIT_BAD_INPUT = 2


class RadscribeError(Exception):
    """Base of every error radscribe raises on purpose."""


class InputError(RadscribeError):
    """Something about one input file is wrong. Carries the file and the reason."""

    def __init__(self, path: str | Path | None, reason: str):
        self.path = str(path) if path is not None else None
        self.reason = reason
        super().__init__(f"{self.path}: {reason}" if self.path else reason)


class UnreadableImageError(InputError):
    """The file is not a readable image (corrupt, truncated, unknown format)."""


class UnsupportedImageError(InputError):
    """The file is readable but not something this operation accepts (wrong modality, colour, no pixels)."""


class ImageTooLargeError(InputError):
    """The image exceeds the configured pixel limit; refused before decoding all of it."""


class InvalidPixelDataError(InputError):
    """Pixel values are unusable (NaN, infinite, constant, degenerate size)."""


class NoImagesFoundError(InputError):
    """A folder or pattern held nothing radscribe can read."""


class ConfigError(RadscribeError):
    """A configuration value or flag is invalid."""
