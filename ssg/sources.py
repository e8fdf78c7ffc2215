"""Read the inputs: settings, theme, Markdown documents and the files (images, PDFs) that travel with them.

This is the one module that looks at content/ (listing and stats); documents.py reads their bytes."""
from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISREG
from typing import TYPE_CHECKING

from .config import SiteConfig, load_config
from .errors import BuildFailed, SourceError
from .folders import CONFIG_FILE, CONTENT_DIR, STATIC_DIR, THEMES_DIR, unsafe_entry
from .theme import Theme, load_theme, theme_folders

if TYPE_CHECKING:  # cryptography is imported only by sites that let readers sign in
    from .access import PublicKey

MARKDOWN_SUFFIXES = (".md", ".markdown")


@dataclass(frozen=True, slots=True)
class Sources:
    documents: tuple[str, ...]   # paths relative to content/, with forward slashes, sorted
    assets: tuple[str, ...]
    static: tuple[str, ...] = ()  # paths relative to the site's static/ folder, copied to the output root as they are


def is_ignored(name: str) -> bool:
    """Hidden files and editor leftovers (swap files, backups, lock files) are never inputs."""
    return (name.startswith((".", "#", "~")) or name.endswith(("~", ".swp", ".swx", ".tmp", ".bak"))
            or name.startswith(".#"))


def discover_sources(content_dir: Path, site_root: str,
                     ignore: tuple[str, ...] = ()) -> tuple[Sources, dict[str, tuple[int, int]]]:
    """List content/ with each file's (size, mtime_ns), leaving out what site.yaml's `ignore` names; raise
    BuildFailed naming every entry that must not be read (see folders.unsafe_entry)."""
    files, stats, errors = list_files(content_dir, CONTENT_DIR, site_root, ignore)
    if errors:
        raise BuildFailed(errors)
    documents = [name for name in files if name.endswith(MARKDOWN_SUFFIXES)]
    assets = [name for name in files if not name.endswith(MARKDOWN_SUFFIXES)]
    return Sources(tuple(documents), tuple(assets)), stats


def list_files(root: Path, label: str, site_root: str, ignore: tuple[str, ...] = ()
               ) -> tuple[list[str], dict[str, tuple[int, int]], list[SourceError]]:
    """Every file under `root` (paths relative to it, sorted) with its (size, mtime_ns), and an error for
    every entry that must not be read. Directory entries tell links and special files apart without a
    system call, so the full check runs only for those."""
    files: list[str] = []
    stats: dict[str, tuple[int, int]] = {}
    errors: list[SourceError] = []
    pending = [(str(root), "")]
    # This loop runs once per file of a 100,000-article archive on every build, so it does no more than
    # it must: one stat per file (the system call is most of its cost), the full check only for links and
    # special files, `ignore` only when site.yaml has one.
    while pending:
        folder, prefix = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            errors.append(SourceError(f"{label}/{prefix}".rstrip("/"), 0, _unreadable(exc)))
            continue
        for entry in entries:
            name = entry.name
            if is_ignored(name):
                continue
            relative = prefix + name
            if entry.is_file(follow_symlinks=False):
                if not ignore or not matches(ignore, relative):
                    stat = entry.stat(follow_symlinks=False)
                    stats[relative] = (stat.st_size, stat.st_mtime_ns)
                    files.append(relative)
            elif entry.is_dir(follow_symlinks=False):
                if not ignore or not matches(ignore, relative, folder=True):
                    pending.append((entry.path, relative + "/"))
            elif why := unsafe_entry(entry.path, site_root):  # a link or a special file
                errors.append(SourceError(f"{label}/{relative}", 0, why))
            elif entry.is_file():  # a link to a file inside the site
                if not ignore or not matches(ignore, relative):
                    stat = entry.stat()
                    stats[relative] = (stat.st_size, stat.st_mtime_ns)
                    files.append(relative)
            # a link to a folder inside the site is not walked
    files.sort()
    return files, stats, sorted(errors, key=lambda e: e.path)


def matches(patterns: tuple[str, ...], relative: str, folder: bool = False) -> bool:
    """Whether a path under content/ is one site.yaml's `ignore` leaves out. As in .gitignore, a pattern
    without a slash matches a name at any depth ("*.Rmd"), one ending in a slash matches folders only."""
    name = relative.rpartition("/")[2]
    for pattern in patterns:
        if pattern.endswith("/") and not folder:
            continue
        pattern = pattern.rstrip("/")
        if fnmatch.fnmatchcase(relative, pattern) or "/" not in pattern and fnmatch.fnmatchcase(name, pattern):
            return True
    return False


def theme_files(site_dir: Path, theme: str) -> list[Path]:
    """Everything in the site's own copy of the theme, links included (the package's themes are trusted)."""
    folder = site_dir / THEMES_DIR / theme
    if not folder.is_dir() or folder.is_symlink():
        return [folder] if folder.is_symlink() else []
    found = []
    for parent, dirnames, filenames in os.walk(folder):
        found += [Path(parent, name) for name in (*dirnames, *filenames)]
    return found


def refuse_unsafe(paths: list[Path], site_dir: Path, site_root: str) -> None:
    errors = [SourceError(os.path.relpath(path, site_dir).replace(os.sep, "/"), 0, why)
              for path in paths if os.path.lexists(path) and (why := unsafe_entry(str(path), site_root))]
    if errors:
        raise BuildFailed(errors)


def _unreadable(exc: OSError) -> str:
    return f"cannot be read ({exc.strerror or exc}); its files would be left out"


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
    others: list[tuple[str, int, int]]        # (file, size, mtime_ns) of every input but documents and templates
    templates: list[tuple[str, int, int]]     # the same of the theme's templates
    content_stats: dict[str, tuple[int, int]]  # the same (size, mtime_ns) by path under content/
    static_stats: dict[str, tuple[int, int]]   # and by path under static/

    def copied_stats(self) -> list[tuple[str, tuple[int, int]]]:
        """(file, (size, mtime_ns)) of every file copied as it is, from content/ and from static/."""
        return ([(name, self.content_stats[name]) for name in self.sources.assets]
                + [(f"{STATIC_DIR}/{name}", stat) for name, stat in self.static_stats.items()])


def read_inputs(site_dir: Path, base_url: str | None, preview_key: PublicKey | None = None) -> Inputs:
    """Read site.yaml and the theme, list content/ and stat every input file once. The preview's own key
    joins the site's sign-in keys in the preview's builds."""
    site_root = os.path.realpath(site_dir)
    refuse_unsafe([site_dir / CONFIG_FILE, site_dir / CONTENT_DIR], site_dir, site_root)
    config = load_config(site_dir, base_url)
    if preview_key is not None and config.access is not None:
        config = dataclasses.replace(config, access=dataclasses.replace(
            config.access, public_keys=(*config.access.public_keys, preview_key)))
    refuse_unsafe(theme_files(site_dir, config.theme), site_dir, site_root)  # before load_theme reads them
    theme = load_theme(site_dir, config.theme)
    content_dir = site_dir / CONTENT_DIR
    sources, content_stats = (discover_sources(content_dir, site_root, config.ignore) if content_dir.is_dir()
                              else (Sources((), ()), {}))
    static_dir = site_dir / STATIC_DIR
    refuse_unsafe([static_dir], site_dir, site_root)
    static, static_stats = [], {}
    if static_dir.is_dir() and not static_dir.is_symlink():
        static, static_stats, errors = list_files(static_dir, STATIC_DIR, site_root)
        if errors:
            raise BuildFailed(errors)
        sources = dataclasses.replace(sources, static=tuple(static))
    others = [str(site_dir / CONFIG_FILE)]
    if config.access is not None:
        others.append(str(site_dir / config.access.keys))
    for folder in theme.folders:
        others += [str(file) for file in sorted(folder.rglob("*"))
                   if file.is_file() and not file.is_relative_to(folder / "templates")]
    stats = [(name, *content_stats[name]) for name in sources.assets]
    stats += [(f"{STATIC_DIR}/{name}", size, mtime) for name, (size, mtime) in static_stats.items()]
    stats += [_stat(name) for name in others]
    return Inputs(config, theme, content_dir, sources, stats, template_stats(theme), content_stats, static_stats)


def template_stats(theme: Theme) -> list[tuple[str, int, int]]:
    return [_stat(str(file)) for folder in theme.template_dirs for file in sorted(folder.rglob("*")) if file.is_file()]


def inputs_after(previous: Inputs, edited: tuple[str, ...]) -> Inputs | None:
    """The inputs of the last build with the stats of these documents (paths under content/) and of the
    templates read again: the preview's watcher names what a save changed (documents, templates), so the site
    is not listed again. None unless each document is one of that listing and still a regular file, and the
    theme is in the same folders (then the caller reads everything)."""
    site_dir, theme = previous.content_dir.parent, previous.theme
    if theme_folders(site_dir, theme.name) != theme.folders:
        return None  # the site's own copy of the theme appeared or went
    refuse_unsafe(theme_files(site_dir, theme.name), site_dir, os.path.realpath(site_dir))
    if not set(edited) <= set(previous.sources.documents):
        return None  # a new document
    stats = dict(previous.content_stats)
    for relative in edited:
        try:
            stat = os.lstat(previous.content_dir / relative)
        except OSError:
            return None
        if not S_ISREG(stat.st_mode):
            return None
        stats[relative] = (stat.st_size, stat.st_mtime_ns)
    return dataclasses.replace(previous, content_stats=stats, templates=template_stats(theme))


def _stat(name: str) -> tuple[str, int, int]:
    stat = os.stat(name)
    return name, stat.st_size, stat.st_mtime_ns


def files_beside(sources: Sources, only: list[str] | None = None) -> dict[str, tuple[str, ...]]:
    """For each document (or each of `only`), the files in its folder (its bundle's files, or the images
    beside a plain article): its HTML holds their URLs and image sizes."""
    documents = frozenset(sources.documents)
    by_folder: dict[str, list[str]] = {}
    for asset in sources.assets:
        owner = bundle_of(asset, documents)
        folder = owner.rsplit("/", 1)[0] if owner else asset.rpartition("/")[0]
        by_folder.setdefault(folder, []).append(asset)
    return {relative: tuple(by_folder.get(relative.rpartition("/")[0], ()))
            for relative in (sources.documents if only is None else only)}


def folder_digests(beside: dict[str, tuple[str, ...]], stats: dict[str, tuple[int, int]]) -> dict[str, str]:
    """For each document, a digest of the size and time of the files beside it: if it still matches, they
    are the files the cached document was made with (a changed image changes the page's width and height)."""
    digests = {}
    for relative, names in beside.items():
        parts = [f"{name}:{stats[name][0]}:{stats[name][1]}" for name in names]
        digests[relative] = hashlib.sha1("|".join(parts).encode()).hexdigest() if parts else ""
    return digests
