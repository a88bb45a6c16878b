"""The importers' own error: a file that cannot be imported as a whole."""

from __future__ import annotations


class ImportFileError(ValueError):
    """The file as a whole cannot be imported; the message says, in Chinese, what to fix."""
