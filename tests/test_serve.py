"""`ssg serve` end to end: a real server in a subprocess on a temp site, driven over HTTP and in Chromium."""
from __future__ import annotations

import base64
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from ssg.server import content_type, inject, is_own_host, resolve_path
from ssg.urls import url_path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("SSG_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
REBUILD_LINE = re.compile(r"^\d\d:\d\d:\d\d ")

SITE_YAML = """\
title: Preview Test
base_url: https://example.org/
language: en
theme: default
timezone: UTC
paginate: 10
authors:
  Editor:
    bio: Edits the paper.
"""


def article(title: str, body: str, section: str = "News", day: int = 1) -> str:
    return (f'---\ntitle: "{title}"\ndate: 2024-05-{day:02d} 09:00\nauthor: Editor\nsection: {section}\n'
            f'tags: [tests]\nsummary: "About {title}."\n---\n\n{body}\n')


@pytest.fixture
def site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    (site / "content" / "news").mkdir(parents=True)
    (site / "content" / "pages").mkdir()
    (site / "site.yaml").write_text(SITE_YAML)
    for day, name in enumerate(("alpha", "beta", "gamma"), start=1):
        write(site / "content" / "news" / f"{name}.md", article(f"Story {name}", f"Body of {name}.", day=day))
    write(site / "content" / "pages" / "about.md", "---\ntitle: About\nsummary: Who we are.\n---\n\nAbout us.\n")
    return site


def write(path: Path, text: str) -> None:
    """Save the way many editors do: write a temporary file beside it, then rename it over the original."""
    temp = path.with_name(path.name + ".tmp")
    temp.write_text(text)
    os.replace(temp, path)


class Server:
    """`ssg serve --port 0` in a subprocess; collects its output and answers HTTP requests."""

    def __init__(self, site: Path, *args: str):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ssg.cli", "serve", "--site", str(site), "--port", "0", *args], cwd=ROOT,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONFAULTHANDLER": "1"})
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        for stream, lines in ((self.process.stdout, self.stdout), (self.process.stderr, self.stderr)):
            threading.Thread(target=lambda s=stream, l=lines: l.extend(iter(s.readline, "")), daemon=True).start()
        self.url = self.wait_for_output(r"Serving (http://\S+)")
        self.temp = Path(self.wait_for_output(r"Output in (\S+)"))
        self.host, self.port = urlsplit(self.url).hostname, urlsplit(self.url).port

    def wait_for_output(self, pattern: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.stdout):
                if match := re.search(pattern, line):
                    return match.group(1)
            assert self.process.poll() is None, f"server exited: {''.join(self.stdout + self.stderr)}"
            time.sleep(0.02)
        raise AssertionError(f"no {pattern!r} in {''.join(self.stdout)}")

    def wait_for_rebuilds(self, count: int, timeout: float = 20) -> None:
        """Wait for `count` rebuild lines: build() may still be storing its cache after the pages are served."""
        deadline = time.monotonic() + timeout
        while len(self.rebuilds()) < count:
            assert time.monotonic() < deadline, self.stdout
            time.sleep(0.02)

    def rebuilds(self) -> list[str]:
        return [line for line in self.stdout if REBUILD_LINE.match(line)][1:]  # the first is the initial build

    def get(self, path: str, method: str = "GET", host: str | None = None) -> tuple[int, dict[str, str], str]:
        """One request; `host` replaces the Host header http.client would send."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            # http.client sends the path as given: no normalising of ".."
            connection.request(method, path, headers={} if host is None else {"Host": host})
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, \
                response.read().decode("utf-8", "replace")
        finally:
            connection.close()

    def wait_until(self, path: str, check, timeout: float = 20) -> str:
        """Poll `path` until check(status, body) holds; return the body."""
        deadline = time.monotonic() + timeout
        while True:
            status, _, body = self.get(path)
            if check(status, body):
                return body
            if time.monotonic() > deadline:
                raise AssertionError(f"{path} never matched; last {status}: {body[:2000]}\n{''.join(self.stdout)}")
            time.sleep(0.03)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.send_signal(signal.SIGABRT)  # faulthandler prints where every thread is stuck
                self.process.wait()
                time.sleep(0.2)
                raise AssertionError("the server ignored Ctrl-C:\n" + "".join(self.stderr)) from None
        time.sleep(0.05)  # let the reader threads drain the pipes
        return self.process.returncode


@pytest.fixture
def server(site: Path):
    started = Server(site)
    yield started
    started.stop()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        executable = CHROMIUM if Path(CHROMIUM).exists() else None
        try:
            chromium = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        except Exception as exc:  # no browser on this machine
            pytest.skip(f"cannot launch Chromium: {exc}")
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    page.console = []
    page.on("console", lambda message: page.console.append(message.text))
    yield page
    context.close()


# ---- over HTTP ----------------------------------------------------------------------------------------------

def test_a_save_shows_up_with_one_line_saying_what_changed(site, server):
    status, _, body = server.get("/news/alpha/")
    assert status == 200 and "Body of alpha." in body
    write(site / "content" / "news" / "alpha.md", article("Story alpha", "A brand new paragraph."))
    server.wait_until("/news/alpha/", lambda s, b: "A brand new paragraph." in b)
    server.wait_until("/", lambda s, b: "Story alpha" in b)
    server.wait_for_rebuilds(1)
    [line] = server.rebuilds()
    assert "content/news/alpha.md" in line and "written" in line and re.search(r"\d+\.\d\d s$", line.strip())
    assert ".tmp" not in line  # the editor's temporary file is not a change of its own

    # Editor leftovers alone never rebuild.
    (site / "content" / "news" / ".alpha.md.swp").write_text("swap")
    (site / "content" / "news" / "alpha.md~").write_text("backup")
    time.sleep(0.4)
    assert len(server.rebuilds()) == 1


def test_types_headers_redirects_and_the_404_page(server):
    expected = {"/": "text/html; charset=utf-8", "/news/alpha/": "text/html; charset=utf-8",
                "/feed.xml": "application/atom+xml", "/sitemap.xml": "application/xml",
                "/robots.txt": "text/plain"}
    for path, kind in expected.items():
        status, headers, body = server.get(path)
        assert status == 200, path
        assert headers["content-type"].startswith(kind), (path, headers["content-type"])
        assert headers["cache-control"] == "no-store"
        assert ("/__ssg__/reload.js" in body) == kind.startswith("text/html"), path  # only HTML gets the script
    _, _, home = server.get("/")
    assert home.index('src="/__ssg__/reload.js"') < home.rindex("</body>")
    css = re.search(r'href="(/assets/css/site\.[0-9a-f]+\.css)"', home).group(1)
    assert server.get(css)[1]["content-type"].startswith("text/css")

    status, headers, _ = server.get("/news?x=1")
    assert status == 301 and headers["location"] == "/news/?x=1"
    status, headers, body = server.get("/no/such/page/")
    assert status == 404 and headers["content-type"].startswith("text/html") and "/__ssg__/reload.js" in body
    assert server.get("/news/alpha/", method="HEAD")[0] == 200
    status, headers, body = server.get("/__ssg__/reload.js")
    assert status == 200 and headers["content-type"].startswith("text/javascript") and "EventSource" in body


def test_only_requests_that_name_this_server_are_answered(server):
    # A page on evil.example whose name is made to resolve to 127.0.0.1 (DNS rebinding) sends Host: evil.example.
    port = server.port
    for host in ("127.0.0.1", f"127.0.0.1:{port}", "localhost", f"localhost:{port}", f"LocalHost:{port}"):
        status, _, body = server.get("/news/alpha/", host=host)
        assert status == 200 and "Body of alpha." in body, host
    for host in ("evil.example", f"evil.example:{port}", f"127.0.0.1.evil.example:{port}", "localhost.evil.example",
                 f"127.0.0.1:{port + 1}", f"localhost:{port}0", f"[::1]:{port}x", f"127.0.0.1:{port}@evil.example",
                 f"evil.example:{port}:{port}", f"::1:{port}", ""):
        for path in ("/news/alpha/", "/", "/news", "/no/such/page/", "/__ssg__/events", "/__ssg__/reload.js"):
            for method in ("GET", "HEAD"):
                status, headers, body = server.get(path, method=method, host=host)
                assert status in (403, 421) and body == "" and "location" not in headers, (host, path, method)
    for request in (b"GET /news/alpha/ HTTP/1.0\r\n\r\n",  # no Host at all
                    b"GET /news/alpha/ HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n"):
        answer = raw_request(server, request)
        assert answer.startswith(b"HTTP/1.0 403 ") and answer.endswith(b"\r\n\r\n"), answer
    assert "refused requests for host 'evil.example'" in "".join(server.stderr)


def raw_request(server: Server, request: bytes) -> bytes:
    """Send bytes as they are and read the answer until the server closes the connection."""
    with socket.create_connection((server.host, server.port), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def test_is_own_host_knows_this_server_by_its_names_and_port():
    served = [("127.0.0.1:8000", "127.0.0.1"), ("127.0.0.1", "127.0.0.1"), ("localhost", "127.0.0.1"),
              ("[::1]:8000", "::1"), ("[::1]", "::1"), ("[0:0::1]:8000", "::1"), ("localhost:8000", "::1"),
              ("LOCALHOST:8000", "localhost"), ("preview.lan:8000", "preview.lan"), ("Preview.LAN", "preview.lan"),
              ("192.0.2.7:8000", "0.0.0.0"), ("[2001:db8::7]:8000", "::")]  # bound to all: any address
    refused = [("evil.example", "127.0.0.1"), ("evil.example:8000", "0.0.0.0"), ("evil.example", "::"),
               ("192.0.2.7:8000", "127.0.0.1"), ("::1", "::1"), ("[::1]:8001", "::1"), ("[::1", "::1"),
               ("[::1]8000", "::1"), ("[127.0.0.1]:8000", "127.0.0.1"), ("localhost:8000:8000", "127.0.0.1"),
               ("", "127.0.0.1"), (":8000", "127.0.0.1"), ("localhost:+8000", "127.0.0.1"),
               ("localhost:\u0668\u0660\u0660\u0660", "127.0.0.1"), ("127.0.0.2:8000", "127.0.0.1")]
    for host, bound in served:
        assert is_own_host(host, bound, 8000), (host, bound)
    for host, bound in refused:
        assert not is_own_host(host, bound, 8000), (host, bound)


def test_no_answer_sends_the_browser_to_another_site(server):
    # reload.js's ?meter= helper navigates to the page's own location.pathname: for a page served at
    # //evil.example/ that is a link to evil.example. So a page with the script must have a one-slash path.
    paths = ["//evil.example/?meter=reset", "///evil.example/?meter=reset", "/\\evil.example/?meter=reset",
             "//evil.example", "/\\/evil.example/", "//evil.example/%2e%2e/?meter=3", "//%5Cevil.example/",
             "/%2F%2Fevil.example/?meter=reset", "//news?meter=reset", "//evil.example/" + "a" * 300 + "?meter=reset"]
    for path in paths:
        status, _, body, last = follow(server, path)
        assert status in (200, 400, 404), path
        assert "/__ssg__/reload.js" not in body or re.match(r"/(?![/\\])", last), (path, last)


def test_two_hundred_readers_at_once_are_all_answered(server):
    readers = 200
    start = threading.Barrier(readers)
    answers: list[int | str] = []

    def read() -> None:
        start.wait()
        try:
            answers.append(server.get("/news/alpha/")[0])  # within get()'s timeout of 10 s
        except OSError as exc:
            answers.append(repr(exc))

    threads = [threading.Thread(target=read) for _ in range(readers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200] * readers, [answer for answer in answers if answer != 200][:5]


def test_a_name_too_long_for_the_file_system_is_not_found(server):
    for path in ("/" + "a" * 300, "/" + "a" * 300 + "/", "/news/" + "a" * 300 + "/", "/" + "a" * 5000,
                 "/a" * 3000, "/" + "%C3%A9" * 200, "/" + "a" * 300 + "/index.html"):
        for method in ("GET", "HEAD"):
            status, headers, body = server.get(path, method=method)
            assert status == 404 and headers["content-type"].startswith("text/html"), (path[:20], method)
    assert "Traceback" not in "".join(server.stderr) and "error answering" not in "".join(server.stderr)


def test_paths_outside_the_built_site_are_refused(server):
    secret = "TOP SECRET 7f3a"
    (server.temp / "secret.txt").write_text(secret)  # beside the served folder, one level up
    root = server.temp / "site"
    (root / "leak.txt").symlink_to(server.temp / "secret.txt")
    (root / "leakdir").symlink_to(server.temp)
    attempts = ["/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt", "/%2e%2e%2fsecret.txt",
                "/news/../../secret.txt", "/news/%2E%2E/%2e%2e/secret.txt", "/..\\secret.txt", "/%5c..%5csecret.txt",
                "//etc/passwd", "/%2fetc%2fpasswd", "/../../../../../../etc/passwd", "/secret.txt%00.html",
                "/leak.txt", "/leakdir/secret.txt", "/leakdir/", "/%ff%fe", "/../site.yaml", "/%2e%2e/site.yaml",
                "/..%2fsite.yaml", "/.%2e/site.yaml"]
    for path in attempts:
        status, _, body, _ = follow(server, path)
        assert status in (400, 404), path
        assert secret not in body and "root:x:" not in body and "base_url" not in body, path


def follow(server: Server, path: str) -> tuple[int, dict[str, str], str, str]:
    """GET `path` and the redirects after it, as a browser would; each must stay on this server.
    Returns the last answer and the path it came from."""
    for _ in range(5):
        status, headers, body = server.get(path)
        if status not in (301, 302, 303, 307, 308):
            return status, headers, body, path
        path = headers["location"]
        assert re.match(r"/(?![/\\])", path), f"a redirect to another site: {path}"
    raise AssertionError(f"a redirect loop at {path}")


def test_resolve_path_stays_inside_the_root(tmp_path):
    root = tmp_path / "out"
    (root / "news" / "a").mkdir(parents=True)
    (root / "index.html").write_text("home")
    (root / "news" / "a" / "index.html").write_text("a")
    (tmp_path / "secret.txt").write_text("secret")
    (root / "inside.txt").symlink_to(root / "index.html")
    (root / "out.txt").symlink_to(tmp_path / "secret.txt")
    (root / "outdir").symlink_to(tmp_path)
    assert resolve_path(root, "/").file == (root / "index.html").resolve()
    assert resolve_path(root, "/news/a/").file == (root / "news" / "a" / "index.html").resolve()
    assert resolve_path(root, "/news/a") == (301, None, "/news/a/")
    assert resolve_path(root, "/inside.txt").status == 200
    for path in ("/out.txt", "/outdir/secret.txt", "/missing", f"{tmp_path}/secret.txt"):
        assert resolve_path(root, path).status == 404, path
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/a%5c..%5csecret.txt", "/a%00", "secret.txt", "/%c0%ae"):
        assert resolve_path(root, path).status == 400, path


def test_a_path_that_starts_with_two_slashes_moves_to_one(tmp_path):
    root = tmp_path / "out"
    (root / "news").mkdir(parents=True)
    # A page served at //evil.example/ would read location.pathname as a link to evil.example.
    expected = {"//news": "/news/", "//news/": "/news/", "///news": "/news/", "//etc/passwd": "/etc/passwd",
                "//evil.example/": "/evil.example/", "//evil.example": "/evil.example", "//": "/", "///": "/",
                "//%2fevil.example/": "/evil.example/", "//a%20b": "/a%20b"}
    for path, location in expected.items():
        assert resolve_path(root, path) == (301, None, location), path
    for path in ("/\\evil.example", "//\\evil.example/", "/%5cevil.example", "//%5c/evil.example"):
        assert resolve_path(root, path).status == 400, path


def test_url_paths_of_output_files():
    assert url_path("index.html") == "/" and url_path("news/a/index.html") == "/news/a/"
    assert url_path("feed.xml") == "/feed.xml" and url_path("404.html") == "/404.html"


def test_content_types():
    assert content_type("news-sitemap.xml").startswith("application/xml")
    assert content_type("photo.webp") == "image/webp"
    assert content_type("feed.xml").startswith("application/atom+xml")


def test_inject_puts_the_overlay_before_the_last_body_tag_and_escapes_it():
    page = inject(b"<html><body><p>x</p></BODY></html>", "/a/", 3, ("content/a.md:3: <bad> & 'worse'",), "id")
    assert page.index(b"ssg-build-errors") < page.index(b"</BODY>")
    assert b"content/a.md:3: &lt;bad&gt; &amp; &#x27;worse&#x27;" in page


def read_events(stream, count: int) -> list[dict]:
    """The next `count` events of a Server-Sent Events response."""
    events = []
    while len(events) < count:
        line = stream.fp.readline()
        assert line, "the event stream ended"
        if line.startswith(b"data: "):
            events.append(json.loads(line[6:]))
    return events


def test_the_edited_page_is_announced_before_the_pages_around_it(site, server):
    connection = http.client.HTTPConnection(server.host, server.port, timeout=20)
    connection.request("GET", "/__ssg__/events")  # an open page, served by the last build
    stream = connection.getresponse()
    read_events(stream, 1)
    write(site / "content" / "news" / "alpha.md", article("Story alpha", "Announced first."))
    first, rest = read_events(stream, 2)
    assert first["changed"] == ["/news/alpha/"] and first["generation"] + 1 == rest["generation"]
    assert "/feed.xml" in rest["changed"] and "/news/alpha/" not in rest["changed"]  # so the page reloads once
    assert "Announced first." in server.get("/news/alpha/")[2]
    connection.close()


def test_after_a_template_edit_the_open_page_is_built_and_announced_first(site):
    """The page says its URL when it listens; a template edit then builds it ahead of every other article page."""
    an_hour_ago = time.time() - 3600  # files the build trusts by their times, as on a site being worked on
    template = site / "themes" / "default" / "templates" / "article.html"
    template.parent.mkdir(parents=True)
    template.write_text('{% extends "default/article.html" %}{% block kicker %}<p class="probe">One</p>{% endblock %}')
    for path in site.rglob("*"):
        os.utime(path, (an_hour_ago, an_hour_ago))
    server = Server(site)
    try:
        connection = http.client.HTTPConnection(server.host, server.port, timeout=20)
        connection.request("GET", "/__ssg__/events?page=" + quote("/news/beta/"))
        stream = connection.getresponse()
        read_events(stream, 1)
        write(template, '{% extends "default/article.html" %}{% block kicker %}<p class="probe">Two</p>{% endblock %}')
        first, rest = read_events(stream, 2)
        assert first["changed"] == ["/news/beta/"] and first["generation"] + 1 == rest["generation"]
        assert {"/news/alpha/", "/news/gamma/"} <= set(rest["changed"]) and "/news/beta/" not in rest["changed"]
        assert 'class="probe">Two</p>' in server.get("/news/beta/")[2]
        connection.close()
    finally:
        server.stop()


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="finds the build process through /proc")
def test_the_build_process_is_restarted_if_it_dies(site, server):
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children").read_text().split()
    assert len(children) == 1
    os.kill(int(children[0]), signal.SIGKILL)
    write(site / "content" / "news" / "alpha.md", article("Story alpha", "After the crash."))
    server.wait_until("/news/alpha/", lambda s, b: "build process stopped unexpectedly" in b)  # the overlay says so
    write(site / "content" / "news" / "alpha.md", article("Story alpha", "Built by the new process."))
    server.wait_until("/news/alpha/", lambda s, b: "Built by the new process." in b and "ssg-build-errors" not in b)
    assert "Built by the new process." in server.get("/news/alpha/")[2]


def test_a_deleted_article_disappears_everywhere(site, server):
    assert "/news/beta/" in server.get("/sitemap.xml")[2]
    (site / "content" / "news" / "beta.md").unlink()
    server.wait_until("/news/beta/", lambda s, b: s == 404)
    for path in ("/", "/news/", "/sitemap.xml", "/feed.xml"):
        assert "/news/beta/" not in server.get(path)[2], path
    # A renamed article moves.
    os.replace(site / "content" / "news" / "gamma.md", site / "content" / "news" / "delta.md")
    server.wait_until("/news/delta/", lambda s, b: s == 200)
    server.wait_until("/news/gamma/", lambda s, b: s == 404)
    assert "/news/gamma/" not in server.get("/")[2]


def test_a_burst_of_saves_ends_on_the_last_one_and_pages_stay_whole(site, server):
    path = site / "content" / "news" / "alpha.md"
    torn: list[str] = []
    saving = True

    def read_while_saving():
        while saving:
            for url in ("/", "/news/alpha/"):
                status, _, body = server.get(url)
                if status != 200 or not body.rstrip().endswith("</html>"):
                    torn.append(f"{url} {status} {body[-200:]}")

    readers = [threading.Thread(target=read_while_saving) for _ in range(4)]
    for reader in readers:
        reader.start()
    try:
        for n in range(1, 51):
            if n % 2:
                write(path, article(f"Alpha take {n}", f"Draft number {n}."))
            else:
                path.write_text(article(f"Alpha take {n}", f"Draft number {n}."))  # in place, several events
        server.wait_until("/news/alpha/", lambda s, b: "Draft number 50." in b)
        server.wait_until("/", lambda s, b: "Alpha take 50" in b)
        server.wait_for_rebuilds(1)
        time.sleep(0.3)  # nothing else must follow: no rebuild loop
    finally:
        saving = False
        for reader in readers:
            reader.join()
    assert not torn
    for url in ("/", "/news/", "/feed.xml", "/news/alpha/"):
        body = server.get(url)[2]
        assert "Alpha take 50" in body and not re.search(r"Alpha take (\d|[1-4]\d)\b", body), url
    assert 1 <= len(server.rebuilds()) <= 6, server.rebuilds()


def test_a_checkout_of_many_files_is_one_rebuild(site, server):
    for n in range(120):
        (site / "content" / "news" / f"bulk-{n:03d}.md").write_text(article(f"Bulk story {n}", f"Bulk body {n}."))
    server.wait_until("/news/bulk-119/", lambda s, b: s == 200 and "Bulk body 119." in b)
    server.wait_for_rebuilds(1)
    time.sleep(0.3)
    assert len(server.rebuilds()) == 1, server.rebuilds()
    assert server.get("/news/bulk-000/")[0] == 200


def test_a_new_theme_override_is_used_and_then_watched(site, server):
    template = site / "themes" / "default" / "templates" / "article.html"
    template.parent.mkdir(parents=True)  # themes/ did not exist when the server started
    for n in (1, 2):
        write(template, '{% extends "default/article.html" %}'
                        f'{{% block kicker %}}<p class="probe">Override {n}</p>{{% endblock %}}')
        server.wait_until("/news/alpha/", lambda s, b: f"Override {n}</p>" in b)


def test_a_saved_theme_static_file_is_served(site, server):
    css = re.compile(r'href="(/assets/css/site\.[0-9a-f]+\.css)"')
    before = css.search(server.get("/")[2]).group(1)
    override = site / "themes" / "default" / "static" / "css" / "site.css"
    override.parent.mkdir(parents=True)
    server.wait_for_rebuilds(1)  # themes/ appeared: watched from now on
    for colour in ("rebeccapurple", "teal"):
        write(override, f"body {{ color: {colour} }}\n")
        home = server.wait_until("/", lambda s, b: (found := css.search(b)) is not None and found.group(1) != before)
        before = css.search(home).group(1)
        server.wait_until(before, lambda s, b: s == 200 and colour in b)
    server.wait_for_output(r"\d (themes/default/static/css/site\.css)")  # printed once the build is done


def test_a_build_error_keeps_the_last_good_site_with_an_overlay(site, server):
    good = (site / "site.yaml").read_text()
    write(site / "site.yaml", good + "paginate: [10\n")
    body = server.wait_until("/news/alpha/", lambda s, b: "ssg-build-errors" in b)
    assert "Body of alpha." in body  # still the last good page
    assert re.search(r"site\.yaml:1[01]: invalid YAML", body)
    assert "ssg-build-errors" in server.get("/")[2]
    assert "build failed" in server.stdout[-2] + server.stdout[-1]

    write(site / "site.yaml", good)
    server.wait_until("/news/alpha/", lambda s, b: "ssg-build-errors" not in b)

    # A mistake in an article names the article and its line.
    write(site / "content" / "news" / "beta.md", article("Story beta", "x").replace("2024-05-01 09:00", "soon"))
    body = server.wait_until("/", lambda s, b: "ssg-build-errors" in b)
    assert "content/news/beta.md:3:" in body
    assert server.process.poll() is None


def test_a_site_that_never_built_shows_its_errors_then_appears(site):
    path = site / "content" / "news" / "alpha.md"
    write(path, article("Story alpha", "x").replace("2024-05-01 09:00", "soon"))
    server = Server(site)
    try:
        status, _, body = server.get("/")
        assert status == 500 and "content/news/alpha.md:3:" in body and "/__ssg__/reload.js" in body
        write(path, article("Story alpha", "Fixed at last."))
        server.wait_until("/news/alpha/", lambda s, b: s == 200 and "Fixed at last." in b)
    finally:
        assert server.stop() in (0, 130)


def test_ctrl_c_stops_cleanly_and_leaves_nothing_behind(site):
    server = Server(site)
    events = http.client.HTTPConnection(server.host, server.port, timeout=10)
    events.request("GET", "/__ssg__/events?since=0")  # an open page listening for reloads
    stream = events.getresponse()
    assert stream.getheader("content-type") == "text/event-stream"
    lines = [stream.fp.readline() for _ in range(3)]
    assert lines[0] == b"retry: 1000\n" and json.loads(lines[2].removeprefix(b"data: "))["generation"] == 1
    assert server.temp.is_dir()
    started = time.monotonic()
    code = server.stop()
    assert code in (0, 130)
    assert time.monotonic() - started < 5
    assert "Traceback" not in "".join(server.stderr)
    assert not server.temp.exists()
    assert not any(p.name.startswith((".site.staging", "_site")) for p in site.iterdir())
    events.close()


def test_ctrl_c_in_the_middle_of_a_build_stops_cleanly_too(site):
    server = Server(site)
    for n in range(80):  # enough pages for build() to use its worker processes
        (site / "content" / "news" / f"bulk-{n:03d}.md").write_text(article(f"Bulk story {n}", f"Bulk body {n}."))
    time.sleep(0.6)  # past the debounce: the rebuild is under way
    assert server.stop() in (0, 130)
    assert "Traceback" not in "".join(server.stderr), "".join(server.stderr)
    assert not server.temp.exists()


def test_the_build_output_never_contains_the_preview_code(site, tmp_path):
    out = tmp_path / "out"
    subprocess.run([sys.executable, "-m", "ssg.cli", "build", "--site", str(site), "--out", str(out)], cwd=ROOT,
                   check=True, capture_output=True)
    files = [f for f in out.rglob("*") if f.is_file()]
    assert any(f.suffix == ".html" for f in files)
    for file in files:
        data = file.read_bytes()
        assert b"__ssg__" not in data and b"ssg-build-errors" not in data, file


# ---- in Chromium ----------------------------------------------------------------------------------------------

def test_the_open_page_reloads_itself_and_only_when_it_changed(site, page):
    # A strict Content Security Policy: the reload client is an external same-origin script, so it still runs.
    template = site / "themes" / "default" / "templates" / "article.html"
    template.parent.mkdir(parents=True)
    template.write_text('{% extends "default/article.html" %}{% block head_extra %}<meta http-equiv='
                        '"Content-Security-Policy" content="default-src \'self\'">{{ super() }}{% endblock %}')
    server = Server(site)
    try:
        page.goto(server.url + "news/alpha/")
        assert 'http-equiv="Content-Security-Policy"' in page.content()
        other = page.context.new_page()
        other.goto(server.url + "about/")
        for p in (page, other):  # no need to wait for the event stream: a late one hears what it missed
            p.evaluate("window.__marker = 1")
        write(site / "content" / "news" / "alpha.md", article("Story alpha", "Reloaded by itself."))
        page.wait_for_function("() => window.__marker === undefined"
                               " && document.body.innerText.includes('Reloaded by itself.')", timeout=15000)
        assert other.evaluate("window.__marker") == 1  # /about/ did not change, so it was left alone
        assert not page.errors
        assert not [m for m in page.console if "Content Security Policy" in m]
    finally:
        server.stop()


def test_the_overlay_appears_and_goes_in_the_browser(site, server, page):
    page.goto(server.url + "news/alpha/")
    good = (site / "site.yaml").read_text()
    write(site / "site.yaml", good + "paginate: [10\n")
    overlay = page.locator("#ssg-build-errors")
    overlay.wait_for(state="visible", timeout=15000)
    assert re.search(r"site\.yaml:1[01]: invalid YAML", overlay.inner_text())
    assert "Body of alpha." in page.inner_text("main")
    write(site / "site.yaml", good)
    overlay.wait_for(state="detached", timeout=15000)
    assert not page.errors


def test_the_meter_helper_sets_and_resets_the_count(server, page):
    page.goto(server.url + "news/alpha/?meter=3")
    page.wait_for_url(server.url + "news/alpha/")
    stored = json.loads(page.evaluate("localStorage.getItem('ssg-meter:v1')"))
    assert stored["v"] == 1
    fake = [r for r in stored["r"] if r[0].startswith("/__ssg__/meter/")]
    assert len(fake) == 3 and all(abs(r[1] - time.time() * 1000) < 60_000 for r in fake)
    page.goto(server.url + "about/?meter=reset&keep=1")
    page.wait_for_url(server.url + "about/?keep=1")
    assert page.evaluate("localStorage.getItem('ssg-meter:v1')") is None


def test_the_meter_helper_never_leaves_the_site(server, page):
    visits: list[str] = []

    def elsewhere(route) -> None:
        visits.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<p>another site</p>")

    page.context.route(re.compile(r"^https?://evil\.example"), elsewhere)
    for path in ("//evil.example/?meter=reset", "///evil.example/?meter=3", "/\\evil.example/?meter=reset"):
        page.goto(server.url + path[1:])
        page.wait_for_url(server.url + "evil.example/", timeout=10000)  # the 404 page, the query gone
    assert not visits
    assert not page.errors


def test_the_preview_switches_the_reader_and_ssg_build_never_takes_its_key(tmp_path: Path, page) -> None:
    """?meter=subscriber signs the preview's reader in with the preview's own key, ?meter=anonymous
    signs them out; a site built with `ssg build` does not accept that key."""
    from ssg.access import add_public_key, generate_key

    site = tmp_path / "members"
    (site / "content" / "news").mkdir(parents=True)
    write(site / "site.yaml", SITE_YAML + "meter:\n  limit: 1\naccess:\n  issuer: https://members.example.org\n"
                                          "  keys: access-keys.json\n")
    write(site / "content" / "news" / "paid.md", "---\ntitle: Paid\ndate: 2026-01-01\naccess: subscribers\n---\n\n"
                                                 "One.\n\nTwo.\n\nThree, for subscribers.\n")
    add_public_key(site / "access-keys.json", generate_key("site-key")[1])
    started = Server(site)
    try:
        state = "document.documentElement.classList.contains('meter-paywalled')"
        page.goto(started.url + "news/paid/")
        assert page.evaluate(state) is True
        page.goto(started.url + "news/paid/?meter=subscriber")
        page.wait_for_url(started.url + "news/paid/")
        page.wait_for_load_state()
        assert page.evaluate(state) is False
        token = page.evaluate("localStorage.getItem('ssg-access:v1')")
        page.goto(started.url + "news/paid/?meter=anonymous")
        page.wait_for_url(started.url + "news/paid/")
        page.wait_for_load_state()
        assert page.evaluate(state) is True and page.evaluate("localStorage.getItem('ssg-access:v1')") is None
        assert not page.errors
    finally:
        started.stop()
    built = subprocess.run([sys.executable, "-m", "ssg.cli", "build", "--site", str(site)], cwd=ROOT,
                           capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header["kid"] == "ssg-preview"
    assert "ssg-preview" not in (site / "_site" / "news" / "paid" / "index.html").read_text()
