"""A static site generator for news publishers, with a client-side article meter."""
__version__ = "0.1.0"  # the one place the version is written (pyproject.toml reads it)

from .errors import BuildFailed, SourceError, SsgError  # noqa: E402
from .pipeline import BuildOptions, BuildReport, build  # noqa: E402

__all__ = ["BuildFailed", "BuildOptions", "BuildReport", "SourceError", "SsgError", "__version__", "build"]
