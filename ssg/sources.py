"""Find the inputs: Markdown documents and the files (images, PDFs) that travel with them."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MARKDOWN_SUFFIXES = (".md", ".markdown")


@dataclass(frozen=True, slots=True)
class Sources:
    documents: tuple[str, ...]   # paths relative to content/, with forward slashes, sorted
    assets: tuple[str, ...]


def is_ignored(name: str) -> bool:
    """Hidden files and editor leftovers (swap files, backups, lock files) are never inputs."""
    return (name.startswith((".", "#", "~")) or name.endswith(("~", ".swp", ".swx", ".tmp", ".bak"))
            or name.startswith(".#"))


def discover_sources(content_dir: Path) -> Sources:
    documents: list[str] = []
    assets: list[str] = []
    for folder, dirnames, filenames in os.walk(content_dir):
        dirnames[:] = sorted(d for d in dirnames if not is_ignored(d))
        relative = os.path.relpath(folder, content_dir).replace(os.sep, "/")
        prefix = "" if relative == "." else relative + "/"
        for name in filenames:
            if is_ignored(name):
                continue
            (documents if name.endswith(MARKDOWN_SUFFIXES) else assets).append(prefix + name)
    return Sources(tuple(sorted(documents)), tuple(sorted(assets)))


def bundle_of(path: str, documents: frozenset[str] | set[str]) -> str | None:
    """The page bundle (a folder with an index.md) that a file under content/ belongs to, if any."""
    parts = path.split("/")[:-1]
    while parts:
        for name in ("index.md", "index.markdown"):
            candidate = "/".join(parts) + "/" + name
            if candidate in documents and candidate != path:
                return candidate
        parts.pop()
    return None


def is_bundle_index(path: str) -> bool:
    return path.rsplit("/", 1)[-1] in ("index.md", "index.markdown")
