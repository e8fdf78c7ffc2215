"""The preview's HTTP side: map requests to the built folder, add the reload script, stream build events.

Only requests that name this server in their Host header are answered, so a page on another site whose
name resolves here (DNS rebinding) cannot read the preview and its drafts. Every redirect it makes is a
path starting with a single `/`, so it never sends a browser to another site.
"""
from __future__ import annotations

import collections
import hashlib
import html
import ipaddress
import json
import mimetypes
import secrets
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, NamedTuple
from urllib.parse import parse_qs, quote, unquote

from .errors import SourceError, SsgError
from .urls import url_path

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


class Preview:
    """What the request threads share with the build loop: the served folder, the last errors, what changed when."""

    def __init__(self, root: Path, readers: Callable[[], dict[str, str]] | None = None):
        self.root = root
        self.readers = readers  # the preview's sign-in tokens by tier, for ?meter=subscriber (None: no access:)
        self.server_id = secrets.token_hex(6)
        self.generation = 0
        self.errors: tuple[str, ...] = ()
        self.stopping = False
        self._changed_at: dict[str, int] = {}    # URL -> generation of the last build that changed it
        self._open: collections.Counter[str] = collections.Counter()  # URL -> pages listening with it
        self._condition = threading.Condition()

    def publish(self, changed: list[str], errors: tuple[str, ...]) -> None:
        with self._condition:
            self.generation += 1
            for url in changed:
                self._changed_at[url] = self.generation
            self.errors = errors
            self._condition.notify_all()

    def opened(self, url: str, count: int) -> None:
        """A page with this URL started (1) or stopped (-1) listening to the build events."""
        with self._condition:
            self._open[url] += count
            if self._open[url] <= 0:
                del self._open[url]

    def open_pages(self) -> tuple[str, ...]:
        with self._condition:
            return tuple(sorted(self._open))

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


def is_own_host(host: str, bound: str, port: int) -> bool:
    """Does a request's Host header name this server: 127.0.0.1, localhost, ::1 or the bound host, with this
    port or none? Bound to every address (0.0.0.0, ::), any IP address counts too: that is how other
    machines reach it, and a rebinding page always sends a name, never an address."""
    split = split_host(host.strip())
    if split is None or not split[0]:
        return False
    if split[1] and not (split[1].isascii() and split[1].isdigit() and int(split[1]) == port):
        return False
    name, own = host_key(split[0]), host_key(bound)
    if name in {host_key(local) for local in LOCAL_HOSTS} | {own}:
        return True
    return not isinstance(own, str) and own.is_unspecified and not isinstance(name, str)


def split_host(host: str) -> tuple[str, str] | None:
    """'localhost:8000' -> ('localhost', '8000'); '[::1]:8000' -> ('::1', '8000'); None when malformed."""
    if host.startswith("["):
        name, closed, rest = host[1:].partition("]")
        if not closed or ":" not in name or (rest and not rest.startswith(":")):
            return None
        return name, rest[1:]
    name, _, port = host.partition(":")
    return None if ":" in port else (name, port)


def host_key(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | str:
    """An address as an address (0:0::1 is ::1), a name in lower case."""
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return name.lower()


class Resolved(NamedTuple):
    status: int                 # 200 file, 301 redirect, 400 bad path, 404 missing
    file: Path | None = None
    location: str | None = None


def resolve_path(root: Path, request_path: str) -> Resolved:
    """Map a request path to a file inside `root`, refusing anything that could reach outside it."""
    if not request_path.startswith("/"):
        return Resolved(400)
    try:
        decoded = unquote(request_path, errors="strict")
    except UnicodeDecodeError:
        return Resolved(400)
    parts = decoded.split("/")[1:]
    if "\\" in decoded or "\0" in decoded or any(part in (".", "..") for part in parts):
        return Resolved(400)
    names = [part for part in parts if part]  # "//etc/passwd" is etc/passwd inside the root, never /etc/passwd
    target = root.joinpath(*names)
    try:
        is_folder = target.is_dir()
    except OSError:  # a name longer than the file system allows: no such folder, and resolve() below says 404
        is_folder = False
    # A page served at //host/... would read location.pathname as a link to another site (reload.js's
    # ?meter= helper navigates to it), so such a path first moves to its single-slash form.
    if request_path.startswith("//") or (is_folder and not decoded.endswith("/")):
        return Resolved(301, location=same_site_location(names, folder=is_folder or decoded.endswith("/")))
    if is_folder:
        target = target / "index.html"
    try:
        real = target.resolve(strict=True)
    except (OSError, RuntimeError):
        return Resolved(404)
    if not real.is_relative_to(root.resolve()) or not real.is_file():  # a symlink pointing out is as good as missing
        return Resolved(404)
    return Resolved(200, real)


def same_site_location(names: list[str], folder: bool) -> str:
    """A redirect target on this server: one `/`, then a quoted first name, so never `//host` or `/\\host`."""
    location = "/" + quote("/".join(names))
    return location + "/" if folder and names else location


def content_type(name: str) -> str:
    base = name.rpartition("/")[2]
    if base == "feed.xml":
        return "application/atom+xml; charset=utf-8"
    if base == "feed.json":
        return "application/feed+json; charset=utf-8"
    suffix = Path(name).suffix.lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def inject(page: bytes, url: str, generation: int, errors: tuple[str, ...], server_id: str,
           readers: dict[str, str] | None = None) -> bytes:
    """Add the reload script, and the error overlay if the last build failed, before </body>."""
    tags = ""
    if errors:
        items = "".join(f"<li>{html.escape(error)}</li>" for error in errors)
        tags += (f'<link rel="stylesheet" href="{PREFIX}preview.css">'
                 f'<div id="ssg-build-errors" role="alert"><p><strong>Build failed</strong>: showing the last good '
                 f'site until the next build succeeds.</p><ul>{items}</ul></div>')
    tags += (f'<script src="{PREFIX}reload.js" data-page="{html.escape(url)}" data-generation="{generation}" '
             f'data-errors="{errors_digest(errors)}" data-server="{server_id}"'
             + (f' data-readers="{html.escape(json.dumps(readers))}"' if readers else "") + '></script>')
    at = page.lower().rfind(b"</body>")
    at = len(page) if at < 0 else at
    return page[:at] + tags.encode() + page[at:]


class PreviewServer(ThreadingHTTPServer):
    daemon_threads = True
    # Connections beyond the listen backlog are dropped and retried after 1, 3, 7... s: with the default of 5,
    # 200 readers at once waited up to 30 s. The kernel caps it at net.core.somaxconn.
    request_queue_size = 1024

    def __init__(self, host: str, port: int, preview: Preview):
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.host = host
        self.preview = preview
        self.refused_hosts: set[str] = set()
        try:
            super().__init__((host, port), PreviewHandler)
        except OSError as exc:
            raise SsgError(SourceError(f"{host}:{port}", 0, f"cannot listen here ({exc.strerror or exc}); "
                                                            "try another --port, or --port 0 for any free one")) from None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{f'[{host}]' if ':' in host else host}:{port}/"

    def serves(self, hosts: list[str]) -> bool:
        """True for a request with one Host header that names this server."""
        return len(hosts) == 1 and is_own_host(hosts[0], self.host, self.server_address[1])

    def note_refused(self, hosts: list[str]) -> None:
        """Say once per Host why its requests get 403: someone browsing by another name would wonder."""
        host = ", ".join(hosts) or "(none)"
        if host not in self.refused_hosts:
            self.refused_hosts.add(host)
            served = ", ".join(dict.fromkeys((*LOCAL_HOSTS, self.host)))
            print(f"preview: refused requests for host {host!r}: only {served} are served, so that no other site "
                  "can read the preview", file=sys.stderr, flush=True)

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
        hosts = self.headers.get_all("Host") or []
        if not self.server.serves(hosts):
            self.server.note_refused(hosts)
            return self.send(403, "text/plain; charset=utf-8", b"", head)
        # The path as sent: http.server turns a leading // into /, but the browser's location.pathname keeps it.
        path, _, query = self.requestline.split()[1].partition("#")[0].partition("?")
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
            status, file, url = 200, found.file, url_path(found.file.relative_to(preview.root.resolve()).as_posix())
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
            body = inject(body, url, generation, errors, preview.server_id,
                          preview.readers() if preview.readers else None)
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
        asked = parse_qs(query)
        try:
            since = int(asked.get("since", [""])[0])
        except ValueError:
            since = preview.snapshot()[0]
        page = asked.get("page", [""])[0]
        page = page if page.startswith("/") and len(page) < 2048 else ""
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if page:
            preview.opened(page, 1)
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
        finally:
            if page:
                preview.opened(page, -1)

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
