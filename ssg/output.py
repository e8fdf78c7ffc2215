"""The output folder: whose it is, checked before a build or `ssg clean` touches it; and the write stage:
render the pages whose digest changed, copy changed files, stage them, then commit.

Only files whose bytes changed are written, all at once at the end, never outside the output folder."""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISLNK, S_ISREG
from typing import Iterator

import jinja2

from .cache import BodyStore
from .config import SiteConfig
from .errors import SourceError, SsgError
from .folders import CACHE_DIR, CONTENT_DIR, STATIC_DIR, THEMES_DIR
from .freshness import page_digest
from .meter import minified
from .model import Site
from .pages import Page, SiteNav, document_page
from .render import render_template
from .session import Outputs
from .staging import MANIFEST, Staging, prune_empty, recover_output, safe_name, same_bytes
from .theme import Theme, template_digest
from .workers import ProgressCallback, run_tasks


@dataclass(frozen=True, slots=True)
class LoadedSite:
    """A site read, parsed and assembled, ready to render."""

    config: SiteConfig
    theme: Theme
    site: Site | None      # None in a build of the touched documents only (incremental.py)
    pages: list[Page]      # every page of the site, in a fixed order: the plan, checked for collisions
    content_dir: Path
    env: jinja2.Environment
    bodies: BodyStore
    site_digest: str       # every site-wide input a page depends on (its templates come on top)
    parsed: frozenset[str]  # documents parsed anew by this build (content/ paths)
    template_references: dict[str, list[str | None]]  # what each template source names, kept in the cache
    # Files the build makes outside the output and copies in like any other (resized images, the search
    # index): (output file, the made file, kept in the cache folder).
    made_files: tuple[tuple[str, Path], ...] = ()
    nav: SiteNav | None = None  # what every page knows of the site (kept in the build record)


@dataclass(frozen=True, slots=True)
class Written:
    """What the write stage did."""

    outputs: Outputs            # every output file now in the folder: what it was made from
    written: list[str]          # files whose bytes changed
    unchanged: int
    removed: list[str]
    rendered: int               # pages rendered
    commit_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class RenderTask:
    index: int                  # position in the page list the worker inherited
    digest: str | None
    previous_hash: str | None


@dataclass(frozen=True, slots=True)
class RenderResult:
    output: str
    digest: str | None
    hash: str
    written: bool


@dataclass(frozen=True, slots=True)
class RenderState:
    """What every render task needs, handed to the workers when they start."""

    loaded: object              # pipeline.LoadedSite
    pages: list[Page]
    staging: Path
    out_dir: Path


@dataclass(frozen=True, slots=True)
class Manifest:
    """What the output folder's .ssg-manifest.json says: the only files a build or `ssg clean` removes.
    Hidden files (a deploy worktree's .git, .nojekyll) never are."""

    site: str                   # which site wrote the folder: site_marker() of its site folder
    files: frozenset[str]       # the files builds of that site wrote there


def site_marker(site_dir: Path, out_dir: Path) -> str:
    """Names the site without telling its path to whoever the output is published to. An output folder
    inside the site folder is the site's wherever the two are moved together (a CI runner restores the
    output and cache onto a new checkout): there the marker is the output's place in the site."""
    site, out = site_dir.resolve(), out_dir.resolve()
    where = "./" + out.relative_to(site).as_posix() if out.is_relative_to(site) else str(site)
    return hashlib.sha1(where.encode()).hexdigest()[:16]


def is_this_site(marker: str, site_dir: Path, out_dir: Path) -> bool:
    """Whether a manifest's marker names this site: today's marker, or the one builds before moved sites
    were recognised wrote (the site folder's path)."""
    return marker in (site_marker(site_dir, out_dir), hashlib.sha1(str(site_dir.resolve()).encode()).hexdigest()[:16])


def read_manifest(out_dir: Path) -> Manifest | None:
    try:
        data = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
        # Names are checked when a file is removed (safe_name, removable), the only use that could do harm.
        return Manifest(str(data["site"]), frozenset(name for name in data["files"] if isinstance(name, str)))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def manifest_bytes(site: str, files: set[str]) -> bytes:
    return json.dumps({"generator": "ssg", "site": site, "files": sorted(files)}, indent=0).encode() + b"\n"


def owned_files(manifest: Manifest | None, site_dir: Path, out_dir: Path) -> frozenset[str]:
    """The files builds of this site wrote into the output: the ones a build may remove."""
    return manifest.files if manifest is not None and is_this_site(manifest.site, site_dir, out_dir) else frozenset()


def removable(out_dir: Path, name: str) -> bool:
    """A file (or link) that is there, not hidden, and inside the output folder, links followed."""
    out, path = out_dir.resolve(), out_dir.resolve() / name
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return False
    return (not any(part.startswith(".") for part in name.split("/"))
            and (S_ISREG(mode) or S_ISLNK(mode))
            and Path(os.path.realpath(path.parent)).is_relative_to(out))


def check_output_folder(site_dir: Path, out_dir: Path) -> None:
    """Builds write into the output folder and `ssg clean` empties it, so it must never be the site, its
    sources, a folder holding the site, the home folder (or one holding it) or the root of the file system."""
    site, out = site_dir.resolve(), out_dir.resolve()
    if out == site or site.is_relative_to(out) or out.is_relative_to(site / CONTENT_DIR) \
            or out.is_relative_to(site / THEMES_DIR) or out.is_relative_to(site / CACHE_DIR) \
            or out.is_relative_to(site / STATIC_DIR):
        raise SsgError(SourceError(str(out_dir), 0, "the output folder must not contain or sit inside the "
                                                    "site's sources; use a folder like _site"))
    if out == Path(out.anchor) or any(home.is_relative_to(out) for home in _homes()):
        raise SsgError(SourceError(str(out_dir), 0, "the output folder must not be the home folder, a folder "
                                                    "holding it or the root folder; use a folder like _site"))


def _homes() -> set[Path]:
    """The home folder as $HOME says and as the user database says: a wrong $HOME must not hide the real one."""
    homes = set()
    with contextlib.suppress(RuntimeError, KeyError, OSError):
        homes.add(Path.home().resolve())
    with contextlib.suppress(ImportError, KeyError, OSError):
        import pwd

        homes.add(Path(pwd.getpwuid(os.getuid()).pw_dir).resolve())
    return homes


def check_output_owner(site_dir: Path, out_dir: Path, force: bool) -> Manifest:
    """Refuse to build into a folder that holds files and was not written by builds of this site (its
    manifest says so), unless forced; even then, a build removes only the files builds of the site wrote.
    Returns this site's part of the manifest: the files the write stages may replace or remove."""
    if os.path.lexists(out_dir) and not out_dir.is_dir():
        raise SsgError(SourceError(str(out_dir), 0, "is not a folder; give --out a folder"))
    manifest = read_manifest(out_dir)
    whose = None if force else _not_this_sites(site_dir, out_dir, manifest)
    if whose:
        raise SsgError(SourceError(str(out_dir), 0, f"{whose}; use --force to build into it anyway"))
    return Manifest(site_marker(site_dir, out_dir), owned_files(manifest, site_dir, out_dir))


def clean_output(site_dir: Path, out_dir: Path) -> str | None:
    """`ssg clean`: remove the files builds of this site wrote into out_dir, and the folder if nothing else is
    left in it; refuse a folder this site did not write. Say what was done, if anything."""
    check_output_folder(site_dir, out_dir)
    recover_output(out_dir)  # a build killed in its commit: its manifest is the one that holds
    manifest = read_manifest(out_dir)
    whose = _not_this_sites(site_dir, out_dir, manifest)
    if whose:
        raise SsgError(SourceError(str(out_dir), 0, f"{whose}; ssg clean removes only what ssg wrote"))
    if manifest is None or not is_this_site(manifest.site, site_dir, out_dir):
        return None  # no folder, an empty one, or hidden files only: nothing this site wrote
    out = out_dir.resolve()
    names = sorted(name for name in manifest.files if safe_name(name) and removable(out, name))
    for name in names:
        (out / name).unlink()
        prune_empty(out, (out / name).parent)
    (out / MANIFEST).unlink(missing_ok=True)
    if not out_dir.is_symlink() and not any(out_dir.iterdir()):
        out_dir.rmdir()
        return f"removed {out_dir}"
    return f"removed {len(names)} files from {out_dir}; kept the files ssg did not write"


def _not_this_sites(site_dir: Path, out_dir: Path, manifest: Manifest | None) -> str | None:
    """Why out_dir is not this site's to write or clean, or None: it is missing, empty, holds hidden files
    only (a new deploy worktree's .git) or its manifest names this site."""
    if not os.path.lexists(out_dir):
        return None
    if not out_dir.is_dir():
        return "is not a folder"
    if manifest is not None and is_this_site(manifest.site, site_dir, out_dir):
        return None
    if not any(not name.startswith(".") for name in os.listdir(out_dir)):
        return None
    return "was written by ssg for another site" if manifest else "is not empty and was not written by ssg"


def write_output(loaded, pages: list[Page], previous: Outputs, out_dir: Path, owned: Manifest, jobs: int | None,
                 trust_output: bool, progress: ProgressCallback | None = None) -> Written:
    """Render pages whose digest changed, copy files that changed, then swap them into the output and remove
    the files earlier builds of this site wrote that it no longer makes.

    `previous` says what each output file was made from by the last build. With trust_output, files named
    there are not looked for: only this process writes the output folder."""
    outputs: Outputs = {}
    staging = Staging(out_dir)
    out_prefix = str(out_dir) + os.sep
    try:
        tasks = []
        templates: dict[str, str] = {}
        for index, page in enumerate(pages):
            digest = digest_of(loaded, page, templates)
            old = previous.get(page.output)
            if is_current(old, digest, out_prefix, page.output, trust_output):
                staging.keep(page.output)
                outputs[page.output] = old
            else:
                staging.claim(page.output)
                tasks.append(RenderTask(index, digest, old[1] if old else None))
        state = RenderState(loaded, pages, staging.folder, out_dir.resolve())
        loaded.bodies.forget_connection()  # a SQLite connection must not cross into forked workers
        for done, result in enumerate(run_tasks(render_one, state, tasks, jobs), 1):
            if progress:
                progress("rendered", done, len(tasks))
            outputs[result.output] = (result.digest or "", result.hash)
            staging.record(result.output, result.written)
        theme_files = set(loaded.theme.fingerprinted.values())
        for name, source in copied_files(loaded):
            stat = source.stat()
            digest = f"file|{source}|{stat.st_size}|{stat.st_mtime_ns}"
            old = previous.get(name)
            if is_current(old, digest, out_prefix, name, trust_output):
                staging.keep(name)
                outputs[name] = old
            else:
                data = source.read_bytes()
                if name in theme_files:
                    data = minified(name, data)
                staging.add(name, data)
                outputs[name] = (digest, hashlib.sha1(data).hexdigest())
        committing = time.perf_counter()
        removed = sorted(name for name in owned.files - staging.produced
                         if safe_name(name) and removable(out_dir, name))
        staging.commit(removed, manifest_bytes(owned.site, staging.produced))
    finally:
        staging.discard()
    return Written(outputs, staging.written, staging.unchanged, removed, rendered=len(tasks),
                   commit_seconds=time.perf_counter() - committing)


def is_current(old: tuple[str, str] | None, digest: str | None, out_prefix: str, name: str,
               trust_output: bool) -> bool:
    """Whether the output file `name` is the one this digest makes: the last build made it from the same digest
    and it is still there (not looked for with trust_output; `out_prefix` is the output folder and a slash)."""
    return (digest is not None and old is not None and old[0] == digest
            and (trust_output or os.path.isfile(out_prefix + name)))


def write_edited_pages(loaded, previous: Outputs, out_dir: Path, owned: Manifest
                       ) -> tuple[list[str], Outputs, Manifest]:
    """Render the pages of the documents this build parsed and swap them into the output now, ahead of
    the rest of the build; return the files written, and `previous` and `owned` updated, so write_output()
    keeps them."""
    pages = [document_page(document, loaded.site, loaded.config)
             for document in (*loaded.site.articles, *loaded.site.pages) if document.relative in loaded.parsed]
    done = write_pages(loaded, pages, previous, out_dir, owned, trust_output=True, skip_current=False)
    return done.written, previous | done.outputs, Manifest(owned.site, owned.files | done.outputs.keys())


def write_pages(loaded, pages: list[Page], previous: Outputs, out_dir: Path, owned: Manifest, trust_output: bool,
                skip_current: bool = True) -> Written:
    """Render these pages in this process and swap them into the output now, removing nothing (the whole
    build decides that). With skip_current, a page whose digest is the one `previous` names is kept."""
    outputs: Outputs = {}
    staging = Staging(out_dir)
    out_prefix = str(out_dir) + os.sep
    templates: dict[str, str] = {}
    rendered = 0
    try:
        state = RenderState(loaded, pages, staging.folder, out_dir.resolve())
        for index, page in enumerate(pages):  # the same render-and-stage as write_output's
            digest = digest_of(loaded, page, templates)
            old = previous.get(page.output)
            if skip_current and is_current(old, digest, out_prefix, page.output, trust_output):
                staging.keep(page.output)
                continue
            staging.claim(page.output)
            result = render_one(state, RenderTask(index, digest, old[1] if old else None))
            rendered += 1
            staging.record(result.output, result.written)
            outputs[result.output] = (result.digest or "", result.hash)
        new_files = staging.produced - owned.files  # the manifest of a 100,000-article site is megabytes
        staging.commit([], manifest_bytes(owned.site, owned.files | new_files) if new_files else None)
    finally:
        staging.discard()
    return Written(outputs, staging.written, staging.unchanged, [], rendered)


def digest_of(loaded, page: Page, templates: dict[str, str]) -> str | None:
    """The page digest; `templates` keeps the template digests made in this build."""
    used = template_digest(loaded.env, page.template, templates, loaded.template_references)
    return page_digest(loaded.site_digest, page.template, used, page.shows)


def render_one(state: RenderState, task: RenderTask) -> RenderResult:
    """Render a page and stage it unless the output already holds the same bytes."""
    loaded = state.loaded
    page = state.pages[task.index]
    data = render_template(page, loaded.env, loaded.bodies.body_of)
    hashed = hashlib.sha1(data).hexdigest()
    target = state.out_dir / page.output
    if task.previous_hash == hashed and target.is_file() or task.previous_hash is None and same_bytes(target, data):
        return RenderResult(page.output, task.digest, hashed, written=False)
    staged = state.staging / page.output
    staged.parent.mkdir(parents=True, exist_ok=True)
    staged.write_bytes(data)
    return RenderResult(page.output, task.digest, hashed, written=True)


def copied_files(loaded) -> Iterator[tuple[str, Path]]:
    """Files copied as they are: content images and attachments, the site's static/ folder, files the build
    made (LoadedSite.made_files), and the theme's fingerprinted assets (its JavaScript without comments and indentation, see meter.minified)."""
    for name, target in loaded.site.assets:
        yield target.lstrip("/"), loaded.content_dir / name
    static_dir = loaded.content_dir.parent / STATIC_DIR
    for name in loaded.site.static:
        yield name, static_dir / name
    yield from loaded.made_files
    for name, fingerprinted in loaded.theme.fingerprinted.items():
        yield fingerprinted, loaded.theme.static[name]
