"""Errors a user can act on: each names the file and line it comes from."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SourceError:
    """One mistake in one input file, printed as `path:line: message`."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"


class SsgError(Exception):
    """A problem with the user's input; the CLI prints it without a traceback."""

    def __init__(self, errors: list[SourceError] | SourceError):
        self.errors = errors if isinstance(errors, list) else [errors]
        super().__init__("\n".join(str(e) for e in self.errors))


class BuildFailed(SsgError):
    """The build found errors; the previous output was left as it was."""
