"""The write stage: render the pages whose digest changed, copy changed files, stage them, then commit.

Only files whose bytes changed are written, all at once at the end, never outside the output folder."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .errors import SourceError, SsgError
from .folders import CACHE_DIR, CONTENT_DIR, THEMES_DIR
from .freshness import page_digest
from .pages import Page, document_page
from .render import render_template
from .session import Outputs
from .staging import Staging, same_bytes
from .theme import template_digest
from .workers import ProgressCallback, run_tasks


@dataclass(frozen=True, slots=True)
class Written:
    """What the write stage did."""

    outputs: Outputs            # every output file now in the folder: what it was made from
    written: list[str]          # files whose bytes changed
    unchanged: int
    removed: list[str]
    rendered: int               # pages rendered


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


def check_output_folder(site_dir: Path, out_dir: Path) -> None:
    """The output folder is replaced file by file, so it must never hold the site's own sources."""
    site, out = site_dir.resolve(), out_dir.resolve()
    if out == site or site.is_relative_to(out) or out.is_relative_to(site / CONTENT_DIR) \
            or out.is_relative_to(site / THEMES_DIR) or out.is_relative_to(site / CACHE_DIR):
        raise SsgError(SourceError(str(out_dir), 0, "the output folder must not contain or sit inside the "
                                                    "site's sources; use a folder like _site"))


def write_output(loaded, pages: list[Page], previous: Outputs, out_dir: Path, jobs: int | None,
                 trust_output: bool, progress: ProgressCallback | None = None) -> Written:
    """Render pages whose digest changed, copy files that changed, then swap them into the output.

    `previous` says what each output file was made from by the last build. With trust_output, files named
    there are not looked for: only this process writes the output folder."""
    outputs: Outputs = {}
    staging = Staging(out_dir)
    out_prefix = str(out_dir) + os.sep

    def still_there(name: str) -> bool:
        return trust_output or os.path.isfile(out_prefix + name)

    try:
        tasks = []
        templates: dict[str, str] = {}
        for index, page in enumerate(pages):
            digest = digest_of(loaded, page, templates)
            old = previous.get(page.output)
            if digest is not None and old is not None and old[0] == digest and still_there(page.output):
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
        for name, source in copied_files(loaded):
            stat = source.stat()
            digest = f"file|{source}|{stat.st_size}|{stat.st_mtime_ns}"
            old = previous.get(name)
            if old is not None and old[0] == digest and still_there(name):
                staging.keep(name)
                outputs[name] = old
            else:
                data = source.read_bytes()
                staging.add(name, data)
                outputs[name] = (digest, hashlib.sha1(data).hexdigest())
        removed = staging.commit(previous=set(previous) if previous else None)
    finally:
        staging.discard()
    return Written(outputs, staging.written, staging.unchanged, removed, rendered=len(tasks))


def write_edited_pages(loaded, previous: Outputs, out_dir: Path) -> tuple[list[str], Outputs]:
    """Render the pages of the documents this build parsed and swap them into the output now, ahead of
    the rest of the build; return the files written and `previous` updated, so write_output() keeps them."""
    outputs = dict(previous)
    staging = Staging(out_dir)
    templates: dict[str, str] = {}
    try:
        for document in (*loaded.site.articles, *loaded.site.pages):
            if document.relative not in loaded.parsed:
                continue
            page = document_page(document, loaded.site, loaded.config)
            data = render_template(page, loaded.env, loaded.bodies.body_of)
            staging.add(page.output, data)
            outputs[page.output] = (digest_of(loaded, page, templates) or "", hashlib.sha1(data).hexdigest())
        staging.commit(previous=set())  # nothing is removed here: that is the whole build's decision
    finally:
        staging.discard()
    return staging.written, outputs


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
    """Files copied as they are: content images and attachments, and the theme's fingerprinted assets."""
    for name, target in loaded.site.assets:
        yield target.lstrip("/"), loaded.content_dir / name
    for name, fingerprinted in loaded.theme.fingerprinted.items():
        yield fingerprinted, loaded.theme.static[name]
