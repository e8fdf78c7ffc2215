"""A static site generator for news publishers, with a client-side article meter."""
from .errors import BuildFailed, SourceError, SsgError
from .pipeline import VERSION as __version__
from .pipeline import BuildOptions, BuildReport, build

__all__ = ["BuildFailed", "BuildOptions", "BuildReport", "SourceError", "SsgError", "__version__", "build"]
