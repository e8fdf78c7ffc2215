"""`ssg serve`: build into a private folder, serve it, rebuild on save, reload open pages, show build errors.

How it fits together
- serve() builds the site into a temporary folder (removed on exit, Ctrl-C included), serves that folder with
  a threaded HTTP server (ssg.server), and watches content/, site.yaml and the theme (ssg.watch). Each burst
  of saves gives one build, run by a child process that keeps the site in memory between builds
  (ssg.builder). A build replaces changed files one os.replace at a time, so a request always gets a whole
  page, old or new.
- A failed build keeps the last good site; every HTML page then carries an overlay listing each error as
  `path:line: message`, until a build succeeds.
- Live reload: HTML responses get `<script src="/__ssg__/reload.js">` before `</body>` (only here: `ssg build`
  output never has it). The script listens to `/__ssg__/events` (Server-Sent Events). After each build the
  server sends {"server": id, "generation": n, "changed": ["/news/a/", "/feed.xml", ...], "errors": digest};
  a page reloads when its own URL is in `changed`, when the errors differ from those it was served with, or
  when the server restarted. A page that connects late first hears what changed since it was served. Each
  page says its URL when it connects: after a template edit, the open pages are built and announced first.
- Meter preview helper, to check the paywall view: add `?meter=reset` to any preview URL to forget the
  reader's counted articles (localStorage `ssg-meter:v1` removed), or `?meter=N` to replace them with N fake
  reads made now ({"v":1,"r":[["/__ssg__/meter/1/", <epoch ms>], ...]}). The page then reloads without the
  query and counts as one more read (N at or over the limit shows the paywall).
"""
from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import webbrowser
from datetime import datetime, timezone
from pathlib import Path

from .access import PreviewReader
from .builder import BuildProcess
from .config import load_config
from .errors import SourceError, SsgError
from .folders import CONFIG_FILE, CONTENT_DIR
from .pipeline import BuildOptions
from .server import LOCAL_HOSTS, Preview, PreviewServer
from .sources import MARKDOWN_SUFFIXES
from .theme import load_theme
from .urls import url_path
from .watch import Change, ChangeKind, ChangeQueue, SiteWatcher


def serve(site_dir: Path, host: str = "127.0.0.1", port: int = 8000, drafts: bool = False,
          future: bool = False, open_browser: bool = False) -> int:
    """Preview the site until Ctrl-C; exit 0 with nothing left behind."""
    site_dir = Path(site_dir)
    if not (site_dir / CONFIG_FILE).is_file():
        raise SsgError(SourceError(str(site_dir / CONFIG_FILE), 0, "no site.yaml here; run `ssg init DIR` to start a site"))
    # Ctrl-C must stop the preview even when started from a shell that ignores it; SIGTERM stops it the same way.
    stop = threading.Event()  # set as well, in case a build swallows the KeyboardInterrupt
    previous = signal.signal(signal.SIGINT, functools.partial(_interrupt, stop)), \
        signal.signal(signal.SIGTERM, functools.partial(_interrupt, stop))
    os.register_at_fork(after_in_child=_leave_signals_to_the_parent)
    temp = Path(tempfile.mkdtemp(prefix="ssg-serve-")).resolve()
    try:
        with contextlib.ExitStack() as cleanup:
            cleanup.callback(shutil.rmtree, temp, ignore_errors=True)
            reader = preview_reader(site_dir)
            options = BuildOptions(site_dir=site_dir, out_dir=temp / "site", drafts=drafts, future=future,
                                   preview_key=reader.public if reader else None)
            builder = BuildProcess(options)  # first: it must be forked before any thread starts
            cleanup.callback(builder.stop)
            readers = (lambda: reader.tokens(datetime.now(timezone.utc))) if reader else None
            preview, queue = Preview(options.output, readers), ChangeQueue()
            server = PreviewServer(host, port, preview)
            cleanup.callback(server.server_close)
            watcher = SiteWatcher(site_dir, queue, ignore=temp)
            watcher.start(theme_folders(site_dir) or ())  # before the first build, so no save is missed
            cleanup.callback(watcher.stop)
            cleanup.callback(preview.stop)  # ends the event streams of open pages

            print(rebuild(builder, preview, set()), flush=True)
            threading.Thread(target=server.serve_forever, name="ssg-http", daemon=True).start()
            cleanup.callback(server.shutdown)
            cleanup.callback(hold_signals)  # runs first: a second Ctrl-C can't cut the cleanup short
            if host not in LOCAL_HOSTS:
                print(f"warning: listening on {host}: other machines can see this preview, drafts included",
                      file=sys.stderr, flush=True)
            print(f"Serving {server.url}\nOutput in {temp} (removed on exit); press Ctrl-C to stop", flush=True)
            if open_browser:
                threading.Thread(target=webbrowser.open, args=(server.url,), daemon=True).start()
            while not stop.is_set():
                changes = queue.take_burst(timeout=0.5)
                if changes:
                    watcher.refresh(watched_themes(site_dir, changes, watcher.theme_folders))
                    print(rebuild(builder, preview, changes), flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])
    print("stopped", flush=True)
    return 0


def preview_reader(site_dir: Path) -> PreviewReader | None:
    """The preview's own signer for ?meter=subscriber / registered, when readers of the site can sign in."""
    try:
        config = load_config(site_dir)
    except SsgError:
        return None  # the first build reports the error
    if config.access is None or config.meter is None:
        return None
    return PreviewReader.new(config.access.issuer, config.access.audience)


def _interrupt(stop: threading.Event, signum: int, frame) -> None:
    stop.set()
    raise KeyboardInterrupt


def _leave_signals_to_the_parent() -> None:
    """In a worker that build() forks: ignore Ctrl-C (the parent stops the pool) and die at once when terminated."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def hold_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def theme_folders(site_dir: Path) -> tuple[Path, ...] | None:
    """The active theme's folders to watch, or None while site.yaml or the theme can't be read."""
    try:
        return load_theme(site_dir, load_config(site_dir).theme).folders
    except SsgError:
        return None


def watched_themes(site_dir: Path, changes: set[Change], folders: tuple[Path, ...]) -> tuple[Path, ...]:
    """The theme folders to watch after `changes`: site.yaml may name another theme, a theme may have
    appeared; an edit of content only keeps `folders`, and so does a site.yaml that can't be read."""
    if all(change.kind is ChangeKind.CONTENT for change in changes):
        return folders
    return theme_folders(site_dir) or folders


def rebuild(builder: BuildProcess, preview: Preview, changes: set[Change]) -> str:
    """Build once, tell the open pages, and return the line to print; never raises for a broken site."""
    started = time.perf_counter()
    what = describe(changes)
    outcome = builder.build(on_edited=lambda names: preview.publish([url_path(name) for name in names], preview.snapshot()[1]),
                            open_pages=preview.open_pages(), edited=edited_documents(changes))
    report = outcome.report
    if report is not None:
        rest = [name for name in report.written if name not in report.edited]  # the edited pages were announced already
        preview.publish([url_path(name) for name in rest + report.removed], ())
        pages = sum(name.endswith(".html") for name in report.written)
        others = len(report.written) - pages
        return "\n".join([*report.warnings,
                          f"{time.strftime('%H:%M:%S')} {what}: {pages} page{'s' if pages != 1 else ''} written"
                          + (f", {others} other file{'s' if others != 1 else ''}" if others else "")
                          + (f", {len(report.removed)} removed" if report.removed else "")
                          + f" in {time.perf_counter() - started:.2f} s"])
    errors = outcome.errors
    preview.publish([], errors)
    count = len(errors)
    kept = "serving the last good site" if preview.root.is_dir() else "nothing to serve yet"
    return "\n".join([f"{time.strftime('%H:%M:%S')} {what}: build failed with {count} error{'s' if count != 1 else ''}"
                      f" in {time.perf_counter() - started:.2f} s; {kept}"] + [f"  {e}" for e in errors])


def edited_documents(changes: set[Change]) -> tuple[str, ...] | None:
    """The Markdown files (paths under content/) of a burst of saves that changed nothing but them and
    templates, or None (see Session.edited)."""
    prefix = CONTENT_DIR + "/"
    documents = [change.name[len(prefix):] for change in changes if change.kind is ChangeKind.CONTENT
                 and change.name.startswith(prefix) and change.name.endswith(MARKDOWN_SUFFIXES)]
    templates = [change for change in changes if change.kind is ChangeKind.THEME and "/templates/" in change.name]
    if not changes or len(documents) + len(templates) != len(changes):
        return None
    return tuple(sorted(documents))


def describe(changes: set[Change]) -> str:
    if not changes:
        return "built"
    names = sorted(change.name for change in changes)
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
