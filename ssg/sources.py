"""Read the inputs: settings, theme, Markdown documents and the files (images, PDFs) that travel with them.

This is the one module that looks at content/ (listing and stats); documents.py reads their bytes."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from .config import SiteConfig, load_config
from .folders import CONFIG_FILE, CONTENT_DIR
from .theme import Theme, load_theme

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


@dataclass(frozen=True, slots=True)
class Inputs:
    """Everything a build reads before parsing: settings, theme, the content listing and every file's stat."""

    config: SiteConfig
    theme: Theme
    content_dir: Path
    sources: Sources
    stats: tuple[tuple[str, int, int], ...]   # (file, size, mtime_ns) of every input file
    content_stats: dict[str, tuple[int, int]]  # the same (size, mtime_ns) by path under content/


def read_inputs(site_dir: Path, base_url: str | None) -> Inputs:
    """Read site.yaml and the theme, list content/ and stat every input file once."""
    config = load_config(site_dir, base_url)
    theme = load_theme(site_dir, config.theme)
    content_dir = site_dir / CONTENT_DIR
    sources = discover_sources(content_dir) if content_dir.is_dir() else Sources((), ())
    content_stats = {}
    for name in (*sources.documents, *sources.assets):
        stat = os.stat(os.path.join(content_dir, name))
        content_stats[name] = (stat.st_size, stat.st_mtime_ns)
    others = [str(site_dir / CONFIG_FILE)]
    for folder in theme.folders:
        others += sorted(str(f) for f in folder.rglob("*") if f.is_file())
    stats = [(name, size, mtime) for name, (size, mtime) in content_stats.items()]
    for name in others:
        stat = os.stat(name)
        stats.append((name, stat.st_size, stat.st_mtime_ns))
    return Inputs(config, theme, content_dir, sources, tuple(stats), content_stats)


def folder_digests(sources: Sources, stats: dict[str, tuple[int, int]]) -> dict[str, str]:
    """For each document, a digest of the size and time of the files beside it (its images): a changed
    image changes the page (its width and height are in the HTML)."""
    documents = frozenset(sources.documents)
    by_folder: dict[str, list[str]] = {}
    for asset in sources.assets:
        owner = bundle_of(asset, documents)
        folder = owner.rsplit("/", 1)[0] if owner else asset.rpartition("/")[0]
        by_folder.setdefault(folder, []).append(asset)
    digests = {}
    for relative in sources.documents:
        folder = relative.rpartition("/")[0]
        parts = []
        for asset in by_folder.get(folder, ()):
            size, mtime_ns = stats[asset]
            parts.append(f"{asset}:{size}:{mtime_ns}")
        digests[relative] = hashlib.sha1("|".join(parts).encode()).hexdigest() if parts else ""
    return digests
