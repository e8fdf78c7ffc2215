"""`ssg serve`: build into a private folder, serve it, rebuild on save, reload open pages, show build errors.

How it fits together
- serve() builds the site into a temporary folder (removed on exit, Ctrl-C included), serves that folder with
  a threaded HTTP server, and watches content/, site.yaml and the theme (ssg.watch). Each burst of saves gives
  one build, run by a child process that keeps the site in memory between builds (ssg.builder). A build
  replaces changed files one os.replace at a time, so a request always gets a whole page, old or new.
- A failed build keeps the last good site; every HTML page then carries an overlay listing each error as
  `path:line: message`, until a build succeeds.
- Live reload: HTML responses get `<script src="/__ssg__/reload.js">` before `</body>` (only here: `ssg build`
  output never has it). The script listens to `/__ssg__/events` (Server-Sent Events). After each build the
  server sends {"server": id, "generation": n, "changed": ["/news/a/", "/feed.xml", ...], "errors": digest};
  a page reloads when its own URL is in `changed`, when the errors differ from those it was served with, or
  when the server restarted. A page that connects late first hears what changed since it was served.
- Meter preview helper, to check the paywall view: add `?meter=reset` to any preview URL to forget the
  reader's counted articles (localStorage `ssg-meter:v1` removed), or `?meter=N` to replace them with N fake
  reads made now ({"v":1,"r":[["/__ssg__/meter/1/", <epoch ms>], ...]}). The page then reloads without the
  query and counts as one more read (N at or over the limit shows the paywall).
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import html
import json
import mimetypes
import os
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import webbrowser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import NamedTuple
from urllib.parse import parse_qs, quote, unquote

from .config import load_config
from .errors import SourceError, SsgError
from .builder import BuildProcess
from .pipeline import BuildOptions
from .theme import load_theme
from .watch import ChangeQueue, SiteWatcher

PREVIEW_FILES = Path(__file__).parent / "preview"
PREFIX = "/__ssg__/"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
    ".json": "application/json", ".map": "application/json", ".webmanifest": "application/manifest+json",
    ".xml": "application/xml; charset=utf-8", ".atom": "application/atom+xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8", ".svg": "image/svg+xml", ".webp": "image/webp", ".avif": "image/avif",
    ".ico": "image/x-icon", ".woff2": "font/woff2", ".woff": "font/woff",
}


def serve(site_dir: Path, host: str = "127.0.0.1", port: int = 8000, drafts: bool = False,
          future: bool = False, open_browser: bool = False) -> int:
    """Preview the site until Ctrl-C; exit 0 with nothing left behind."""
    site_dir = Path(site_dir)
    if not (site_dir / "site.yaml").is_file():
        raise SsgError(SourceError(str(site_dir / "site.yaml"), 0, "no site.yaml here; run `ssg init DIR` to start a site"))
    # Ctrl-C must stop the preview even when started from a shell that ignores it; SIGTERM stops it the same way.
    stop = threading.Event()  # set as well, in case a build swallows the KeyboardInterrupt
    previous = signal.signal(signal.SIGINT, functools.partial(_interrupt, stop)), \
        signal.signal(signal.SIGTERM, functools.partial(_interrupt, stop))
    os.register_at_fork(after_in_child=_leave_signals_to_the_parent)
    temp = Path(tempfile.mkdtemp(prefix="ssg-serve-")).resolve()
    try:
        with contextlib.ExitStack() as cleanup:
            cleanup.callback(shutil.rmtree, temp, ignore_errors=True)
            options = BuildOptions(site_dir=site_dir, out_dir=temp / "site", drafts=drafts, future=future)
            builder = BuildProcess(options)  # first: it must be forked before any thread starts
            cleanup.callback(builder.stop)
            preview, queue = Preview(options.output), ChangeQueue()
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
                changed = queue.take_burst(timeout=0.5)
                if changed and any(name == "site.yaml" or name.startswith("themes/") or "/" not in name
                                   for name in changed):
                    folders = theme_folders(site_dir)  # the theme may have changed, or themes/ appeared
                    if folders is not None:
                        watcher.refresh(folders)
                if changed:
                    print(rebuild(builder, preview, changed), flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])
    print("stopped", flush=True)
    return 0


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


def rebuild(builder: BuildProcess, preview: Preview, changed: set[str]) -> str:
    """Build once, tell the open pages, and return the line to print; never raises for a broken site."""
    started = time.perf_counter()
    what = describe(changed)
    outcome = builder.build(on_first=lambda names: preview.publish([url_of(name) for name in names], preview.snapshot()[1]))
    report = outcome.report
    if report is not None:
        rest = [name for name in report.written if name not in report.first]  # the first were announced already
        preview.publish([url_of(name) for name in rest + report.removed], ())
        pages = sum(name.endswith(".html") for name in report.written)
        others = len(report.written) - pages
        return (f"{time.strftime('%H:%M:%S')} {what}: {pages} page{'s' if pages != 1 else ''} written"
                + (f", {others} other file{'s' if others != 1 else ''}" if others else "")
                + (f", {len(report.removed)} removed" if report.removed else "")
                + f" in {time.perf_counter() - started:.2f} s")
    errors = outcome.errors
    preview.publish([], errors)
    count = len(errors)
    kept = "serving the last good site" if preview.root.is_dir() else "nothing to serve yet"
    return "\n".join([f"{time.strftime('%H:%M:%S')} {what}: build failed with {count} error{'s' if count != 1 else ''}"
                      f" in {time.perf_counter() - started:.2f} s; {kept}"] + [f"  {e}" for e in errors])


def describe(changed: set[str]) -> str:
    if not changed:
        return "built"
    names = sorted(changed)
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def url_of(output: str) -> str:
    """news/a/index.html -> /news/a/ ; feed.xml -> /feed.xml"""
    if output == "index.html":
        return "/"
    return "/" + (output[:-len("index.html")] if output.endswith("/index.html") else output)


class Preview:
    """What the request threads share with the build loop: the served folder, the last errors, what changed when."""

    def __init__(self, root: Path):
        self.root = root
        self.server_id = secrets.token_hex(6)
        self.generation = 0
        self.errors: tuple[str, ...] = ()
        self.stopping = False
        self._changed_at: dict[str, int] = {}    # URL -> generation of the last build that changed it
        self._condition = threading.Condition()

    def publish(self, changed: list[str], errors: tuple[str, ...]) -> None:
        with self._condition:
            self.generation += 1
            for url in changed:
                self._changed_at[url] = self.generation
            self.errors = errors
            self._condition.notify_all()

    def snapshot(self) -> tuple[int, tuple[str, ...]]:
        with self._condition:
            return self.generation, self.errors

    def event_since(self, since: int) -> dict:
        with self._condition:
            return {"server": self.server_id, "generation": self.generation, "errors": errors_digest(self.errors),
                    "changed": sorted(url for url, generation in self._changed_at.items() if generation > since)}

    def wait_for_build(self, since: int, timeout: float) -> bool:
        """Wait until a build newer than `since` is published; False on timeout or shutdown."""
        with self._condition:
            return self._condition.wait_for(lambda: self.generation > since or self.stopping, timeout) \
                and not self.stopping

    def stop(self) -> None:
        with self._condition:
            self.stopping = True
            self._condition.notify_all()


def errors_digest(errors: tuple[str, ...]) -> str:
    return hashlib.sha1("\n".join(errors).encode()).hexdigest()[:12] if errors else ""


class Resolved(NamedTuple):
    status: int                 # 200 file, 301 redirect, 400 bad path, 404 missing
    file: Path | None = None
    location: str | None = None


def resolve_path(root: Path, url_path: str) -> Resolved:
    """Map a request path to a file inside `root`, refusing anything that could reach outside it."""
    if not url_path.startswith("/"):
        return Resolved(400)
    try:
        decoded = unquote(url_path, errors="strict")
    except UnicodeDecodeError:
        return Resolved(400)
    parts = decoded.split("/")[1:]
    if "\\" in decoded or "\0" in decoded or any(part in (".", "..") for part in parts):
        return Resolved(400)
    names = [part for part in parts if part]  # "//etc/passwd" is etc/passwd inside the root, never /etc/passwd
    target = root.joinpath(*names)
    if target.is_dir():
        if not decoded.endswith("/"):
            return Resolved(301, location="/" + quote("/".join(names)) + "/")
        target = target / "index.html"
    try:
        real = target.resolve(strict=True)
    except (OSError, RuntimeError):
        return Resolved(404)
    if not real.is_relative_to(root.resolve()) or not real.is_file():  # a symlink pointing out is as good as missing
        return Resolved(404)
    return Resolved(200, real)


def content_type(name: str) -> str:
    if name == "feed.xml":
        return "application/atom+xml; charset=utf-8"
    suffix = Path(name).suffix.lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def inject(page: bytes, url: str, generation: int, errors: tuple[str, ...], server_id: str) -> bytes:
    """Add the reload script, and the error overlay if the last build failed, before </body>."""
    tags = ""
    if errors:
        items = "".join(f"<li>{html.escape(error)}</li>" for error in errors)
        tags += (f'<link rel="stylesheet" href="{PREFIX}preview.css">'
                 f'<div id="ssg-build-errors" role="alert"><p><strong>Build failed</strong>: showing the last good '
                 f'site until the next build succeeds.</p><ul>{items}</ul></div>')
    tags += (f'<script src="{PREFIX}reload.js" data-page="{html.escape(url)}" data-generation="{generation}" '
             f'data-errors="{errors_digest(errors)}" data-server="{server_id}"></script>')
    at = page.lower().rfind(b"</body>")
    at = len(page) if at < 0 else at
    return page[:at] + tags.encode() + page[at:]


class PreviewServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str, port: int, preview: Preview):
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.preview = preview
        try:
            super().__init__((host, port), PreviewHandler)
        except OSError as exc:
            raise SsgError(SourceError(f"{host}:{port}", 0, f"cannot listen here ({exc.strerror or exc}); "
                                                            "try another --port, or --port 0 for any free one")) from None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{f'[{host}]' if ':' in host else host}:{port}/"

    def handle_error(self, request, client_address) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return  # the browser went away mid-answer: nothing to report
        print(f"preview: error answering a request: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)


class PreviewHandler(BaseHTTPRequestHandler):
    server: PreviewServer
    server_version = "ssg-preview"
    sys_version = ""

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args) -> None:
        pass  # one line per request would bury the rebuild lines

    def do_GET(self) -> None:
        self.answer(head=False)

    def do_HEAD(self) -> None:
        self.answer(head=True)

    def answer(self, head: bool) -> None:
        path, _, query = self.path.partition("#")[0].partition("?")
        if path.startswith(PREFIX):
            return self.answer_preview(path[len(PREFIX):], query, head)
        preview = self.server.preview
        generation, errors = preview.snapshot()  # before reading: a page never claims a newer build than its bytes
        found = resolve_path(preview.root, path)
        if found.status == 301:
            return self.send(301, "text/plain; charset=utf-8", b"", head,
                             location=found.location + ("?" + query if query else ""))
        if found.status == 400:
            return self.send(400, "text/plain; charset=utf-8", b"bad request\n", head)
        if found.file:
            status, file, url = 200, found.file, url_of(found.file.relative_to(preview.root.resolve()).as_posix())
        else:
            status, file, url = 404, preview.root / "404.html", "/404.html"
        try:
            body = file.read_bytes()
        except OSError:
            if not errors:
                return self.send(404, "text/plain; charset=utf-8", b"not found\n", head)
            # No good build yet: a bare page that carries the overlay and reloads once the site builds.
            status, file, body = 500, Path("failed.html"), b"<!doctype html><title>Build failed</title><body></body>"
        kind = content_type(file.name)
        if kind.startswith("text/html"):
            body = inject(body, url, generation, errors, preview.server_id)
        self.send(status, kind, body, head)

    def answer_preview(self, name: str, query: str, head: bool) -> None:
        if name == "events" and not head:
            return self.stream_events(query)
        if name in ("reload.js", "preview.css"):
            return self.send(200, content_type(name), (PREVIEW_FILES / name).read_bytes(), head)
        self.send(404, "text/plain; charset=utf-8", b"not found\n", head)

    def stream_events(self, query: str) -> None:
        """Server-Sent Events: what the page missed since it was served, then one event per build."""
        preview = self.server.preview
        try:
            since = int(parse_qs(query).get("since", [""])[0])
        except ValueError:
            since = preview.snapshot()[0]
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        try:
            message = b"retry: 1000\n\n"
            while not preview.stopping:
                event = preview.event_since(since)
                since = event["generation"]
                self.wfile.write(message + b"data: " + json.dumps(event).encode() + b"\n\n")
                message = b""
                while not preview.wait_for_build(since, timeout=15):
                    if preview.stopping:
                        return
                    self.wfile.write(b": ping\n\n")  # finds out, within 15 s, that a page has gone
        except OSError:
            return  # the page closed or reloaded

    def send(self, status: int, kind: str, body: bytes, head: bool, location: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        if location:
            self.send_header("Location", location)
        self.end_headers()
        if not head:
            self.wfile.write(body)
