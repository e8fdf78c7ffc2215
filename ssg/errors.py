"""Errors a user can act on: each names the file and line it comes from."""
from __future__ import annotations

from dataclasses import dataclass

MESSAGE_LIMIT = 500  # characters of a printed message


@dataclass(frozen=True, slots=True)
class SourceError:
    """One mistake in one input file, printed as `path:line: message`."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        # A message may quote the input; a huge value must not flood the terminal or a CI log.
        message = self.message if len(self.message) <= MESSAGE_LIMIT else self.message[:MESSAGE_LIMIT - 3] + "..."
        return f"{self.path}:{self.line}: {message}" if self.line else f"{self.path}: {message}"


class SsgError(Exception):
    """A problem with the user's input; the CLI prints it without a traceback."""

    def __init__(self, errors: list[SourceError] | SourceError):
        self.errors = errors if isinstance(errors, list) else [errors]
        super().__init__("\n".join(str(e) for e in self.errors))


class BuildFailed(SsgError):
    """The build found errors; the previous output was left as it was."""
