"""The files static hosts read (`_headers`, `_redirects`) and the recipes of README's "Publishing on a static
host", tested the way a host uses them: a small HTTP server on 127.0.0.1 applies the generated `_headers` and
`_redirects` as Netlify and as Cloudflare Pages document them, Chromium opens every kind of page under the
policy it serves, nginx runs the README's server block, and the workflow `ssg init` writes is parsed and its
build step run."""
from __future__ import annotations

import concurrent.futures
import http.client
import http.server
import json
import mimetypes
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import pytest
import yaml

from access_harness import BUILT_AT, Signer, write_site
from conftest import NOW, REPO, article, build_site, make_site, png
from meter_harness import chromium
from ssg.cli import main
from ssg.pipeline import BuildOptions, build
from ssg.urls import URI_SAFE

POLICY = ("default-src 'self'; img-src 'self' https:; object-src 'none'; base-uri 'self'; form-action 'self'; "
          "frame-ancestors 'self'")
SEARCH_POLICY = POLICY + "; script-src 'self' 'wasm-unsafe-eval'"
LONG_CACHE = "public, max-age=31536000, immutable"
SHORT_CACHE = "public, max-age=300"
REMOTE_IMAGE = "https://images.example.net/archive/photo.jpg"

# The articles and page added to the sign-in site of access_harness, with their aliases. The expected
# redirects below are written out by hand from these, not taken from the generator.
EXTRA_FILES = {
    "content/news/bundle-story/index.md": """---
title: "A story with its photo"
date: 2026-01-25 09:00
author: Test Reporter
tags: [Archive]
access: free
image: {src: lead.png, alt: "The lead photo"}
aliases: [/2019/05/old-bundle/, /2019/été/, /?p=123]
---

A free story whose photo sits beside it.
""",
    "content/news/imported-story.md": f"""---
title: "An imported story"
date: 2026-01-26 09:00
author: Test Reporter
tags: [Archive]
aliases: [/old/imported.html, "/index.php?p=7", "/old/:id/"]
---

Teaser one of the imported story, with a photo that stayed on the old site:

![An old photo]({REMOTE_IMAGE})

Teaser two of the imported story.

| Year | Votes |
|:-----|------:|
| 2019 | 1,204 |

```python
print("code, highlighted")
```

Last paragraph of the imported story.
""",
    "content/pages/about.md": "---\ntitle: About us\naliases: [/about-us/]\n---\n\nWho we are.\n",
}
REDIRECTS = {  # alias as a browser requests it -> the page it moved to
    "/2019/05/old-bundle/": "/news/bundle-story/",
    "/2019/%C3%A9t%C3%A9/": "/news/bundle-story/",
    "/old/imported.html": "/news/imported-story/",
    "/about-us/": "/about/",
}
QUERY_ALIASES = {"/?p=123": "/news/bundle-story/", "/index.php?p=7": "/news/imported-story/"}
HOSTS = ("cloudflare", "netlify")


# ---------------------------------------------------------------------------------------------
# A host: `_headers` and `_redirects` read and applied as Netlify and Cloudflare Pages document them.

def parse_headers(text: str) -> list[tuple[str, list[str], list[tuple[str, str]]]]:
    """(path pattern, detached names, (name, value) pairs) of each block, in file order."""
    rules: list[tuple[str, list[str], list[tuple[str, str]]]] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("/"):
            assert not line[0].isspace(), f"a path line must not be indented: {line!r}"
            rules.append((stripped, [], []))
        elif stripped.startswith("!"):
            rules[-1][1].append(stripped[1:].strip())
        else:
            assert line[0].isspace() and ":" in stripped, f"not a header line: {line!r}"
            name, _, value = stripped.partition(":")
            rules[-1][2].append((name.strip(), value.strip()))
    return rules


def pattern_regex(pattern: str) -> re.Pattern:
    """A splat `*` matches anything, a `:name` segment one segment (both hosts' rule)."""
    parts = re.split(r"(\*|(?<=/):[A-Za-z]\w*)", pattern)
    return re.compile("".join(".*" if p == "*" else "[^/]+" if p.startswith(":") and len(p) > 1 else re.escape(p)
                              for p in parts))


def headers_for(rules, path: str, host: str) -> dict[str, str]:
    """The headers a host adds to a response for `path` (lowercase names). Cloudflare: every matching rule in
    order, "! Name" removing what earlier rules set, a name set twice joined with ", ". Netlify: "! Name" lines
    are not header lines (no colon) and are skipped; a later matching rule's value of a header replaces an
    earlier one's."""
    result: dict[str, str] = {}
    for pattern, detached, values in rules:
        if not pattern_regex(pattern).fullmatch(path):
            continue
        own: dict[str, str] = {}
        if host == "cloudflare":
            for name in detached:
                result.pop(name.lower(), None)
            own = result
        for name, value in values:
            key = name.lower()
            own[key] = f"{own[key]}, {value}" if key in own else value
        result.update(own)
    return result


def parse_redirects(text: str) -> list[tuple[str, str, str]]:
    """(from, to, status) of each line, in file order; every line in a form both hosts read (2 or 3 fields)."""
    rules = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        fields = stripped.split()
        assert len(fields) in (2, 3), f"Cloudflare takes 2 or 3 fields, got {line!r}"
        rules.append((fields[0], fields[1], fields[2] if len(fields) == 3 else "302"))
    return rules


class HostHandler(http.server.BaseHTTPRequestHandler):
    root: Path
    host: str
    header_rules: list
    redirect_rules: list
    overlay: dict[str, tuple[bytes, str]]   # test-only pages served at a path, under the same headers

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        moved = self.redirect(path)
        if moved:
            self.send_response(int(moved[1].rstrip("!")))
            self.send_header("Location", moved[0])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        status, body, kind = self.resolve(path)
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers_for(self.header_rules, path, self.host).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def redirect(self, path: str) -> tuple[str, str] | None:
        """Cloudflare: a rule applies whether or not a file is there, and a status it does not know (301!)
        makes the line invalid. Netlify: a file at the path wins unless the rule is forced (301!)."""
        for source, target, status in self.redirect_rules:
            if source != path:
                continue
            if self.host == "cloudflare":
                if status in ("301", "302", "303", "307", "308"):
                    return target, status
                continue
            if status.endswith("!") or self.file(path) is None:
                return target, status
            return None  # the first rule for a path decides
        return None

    def file(self, path: str) -> Path | None:
        local = self.root / unquote(path).lstrip("/")
        if path.endswith("/"):
            local = local / "index.html"
        if local.name in ("_headers", "_redirects") or not local.is_file():
            return None  # hosts read these two files; they never serve them
        return local

    def resolve(self, path: str) -> tuple[int, bytes, str]:
        if path in self.overlay:
            body, kind = self.overlay[path]
            return 200, body, kind
        local = self.file(path)
        if local is None:
            return 404, (self.root / self.not_found).read_bytes(), "text/html; charset=utf-8"
        kind = mimetypes.guess_type(local.name)[0] or "application/octet-stream"
        return 200, local.read_bytes(), kind + ("; charset=utf-8" if kind.startswith("text/") else "")

    not_found = "404.html"

    def log_message(self, format, *args) -> None:
        pass


class Host:
    """A host on 127.0.0.1 serving `root` (the publish folder) with the `_headers` and `_redirects` at its root."""

    def __init__(self, root: Path, host: str, overlay: dict[str, tuple[bytes, str]] | None = None,
                 not_found: str = "404.html"):
        handler = type("Handler", (HostHandler,), {
            "root": root, "host": host, "overlay": overlay or {}, "not_found": not_found,
            "header_rules": parse_headers((root / "_headers").read_text(encoding="utf-8")),
            "redirect_rules": parse_redirects((root / "_redirects").read_text(encoding="utf-8"))})
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.root = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def get(port: int, path: str) -> http.client.HTTPResponse:
    """One GET, redirects not followed; the response read."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path)
    response = connection.getresponse()
    response.body = response.read()
    connection.close()
    return response


def url_of(output_file: str) -> str:
    """The path a browser requests for an output file, percent-encoded as it sends it."""
    path = "/" + output_file
    if path.endswith("/index.html"):
        path = path[: -len("index.html")]
    return quote(path, safe=URI_SAFE)


# ---------------------------------------------------------------------------------------------
# Sites: the sign-in test site (every access level, the account pages) with a bundle image, an imported
# article, a page and aliases; at the root and under /edition/, published the way the README says.

class Published:
    def __init__(self, base: Path, name: str, base_url: str):
        self.site_dir = base / name
        write_site(self.site_dir, [Signer.new("k1").public], base_url=base_url)
        for relative, text in EXTRA_FILES.items():
            (self.site_dir / relative).parent.mkdir(parents=True, exist_ok=True)
            (self.site_dir / relative).write_text(text, encoding="utf-8")
        (self.site_dir / "content/news/bundle-story/lead.png").write_bytes(png(40, 30))
        self.prefix = urlsplit(base_url).path.rstrip("/")
        self.publish = base / f"{name}-publish"        # what the host serves
        self.out = self.publish / self.prefix.strip("/") if self.prefix else self.publish
        build(BuildOptions(site_dir=self.site_dir, out_dir=self.out, now=BUILT_AT))
        if self.prefix:  # the host reads both files at the root of what it publishes (copied, not moved as
            for host_file in ("_headers", "_redirects"):  # the README says: the tests read them in the output)
                shutil.copy(self.out / host_file, self.publish / host_file)

    def files(self) -> list[str]:
        return sorted(p.relative_to(self.out).as_posix() for p in self.out.rglob("*")
                      if p.is_file() and p.name not in ("_headers", "_redirects", ".ssg-manifest.json"))


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> dict[str, Published]:
    base = tmp_path_factory.mktemp("hosting")
    return {"root": Published(base, "gazette", "https://gazette.example.org/"),
            "edition": Published(base, "edition", "https://gazette.example.org/edition/")}


def expected_headers(path: str) -> dict[str, str]:
    """What every response must carry: the policy (the search page's own under /search/), and the cache
    lifetime of its kind."""
    return {"content-security-policy": SEARCH_POLICY if "/search/" in path else POLICY,
            "x-content-type-options": "nosniff", "referrer-policy": "strict-origin-when-cross-origin",
            "cache-control": LONG_CACHE if "/assets/" in path else SHORT_CACHE}


# ---------------------------------------------------------------------------------------------
# _headers

def test_headers_paths_carry_the_base_path(published):
    patterns = [rule[0] for rule in parse_headers((published["edition"].out / "_headers").read_text())]
    assert patterns == ["/edition/*", "/edition/assets/*", "/edition/search/*"]
    patterns = [rule[0] for rule in parse_headers((published["root"].out / "_headers").read_text())]
    assert patterns == ["/*", "/assets/*", "/search/*"]


def test_the_theme_has_no_inline_script_or_style(published):
    """The policy allows no inline code, so none may be written: no <script> without src (JSON-LD, a data
    block, excepted), no <style>, no style="" and no on*="" attribute in any page."""
    from lxml import html
    out = published["root"].out
    pages = [name for name in published["root"].files() if name.endswith(".html")]
    assert len(pages) > 20
    for name in pages:
        tree = html.fromstring((out / name).read_bytes())
        inline = [s for s in tree.iter("script") if not s.get("src") and s.get("type") != "application/ld+json"]
        assert inline == [], name
        assert list(tree.iter("style")) == [], name
        assert tree.xpath("//*[@style]") == [], name
        assert tree.xpath("//@*[starts-with(name(), 'on')]") == [], name


@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize("where", ["root", "edition"])
def test_every_file_gets_one_policy_and_its_cache_lifetime(published, host, where):
    site = published[where]
    served = Host(site.publish, host, not_found=f"{site.prefix.strip('/')}/404.html".lstrip("/"))
    moved = {source for source, _, _ in parse_redirects((site.publish / "_redirects").read_text())}
    try:
        paths = [site.prefix + url_of(name) for name in site.files()]
        assert any("/assets/" in path for path in paths) and any(path.endswith("/") for path in paths)
        for path in [*paths, site.prefix + "/search/", site.prefix + "/search/x?q=vote", site.prefix + "/nowhere/"]:
            response = get(served.port, path)
            if path in moved and host == "cloudflare":  # Cloudflare redirects before it looks for a file
                assert response.status == 301, path
                continue
            assert response.status == (200 if path in paths else 404), path
            got = {name.lower(): value for name, value in response.getheaders()}
            expected = expected_headers(path)
            assert {name: got.get(name) for name in expected} == expected, path
            assert len(response.headers.get_all("Content-Security-Policy")) == 1, path
    finally:
        served.close()


def test_a_theme_can_change_the_policy(tmp_path):
    """A site's own _headers template, extending the theme's, replaces it (a web font host, say)."""
    site = make_site(tmp_path, {
        "content/news/a.md": article("A"),
        "themes/default/templates/_headers": ("{% include 'default/_headers' %}\n/*\n"
                                              "  Link: <https://fonts.example.net>; rel=preconnect\n"),
    })
    out = build_site(site)
    rules = parse_headers((out / "_headers").read_text())
    assert rules[-1] == ("/*", [], [("Link", "<https://fonts.example.net>; rel=preconnect")])
    assert headers_for(rules, "/news/a/", "cloudflare")["content-security-policy"] == POLICY


# ---------------------------------------------------------------------------------------------
# _redirects

@pytest.mark.parametrize("where", ["root", "edition"])
def test_every_alias_is_a_301_to_its_page(published, where):
    site = published[where]
    rules = parse_redirects((site.out / "_redirects").read_text(encoding="utf-8"))
    expected = {site.prefix + old: site.prefix + new for old, new in REDIRECTS.items()}
    assert {source: target for source, target, _ in rules} == expected
    assert {status for _, _, status in rules} == {"301"}
    # Query aliases stay with the script; a `:name` alias would match every URL of its shape.
    assert not any("?" in source or ":" in source for source, _, _ in rules)
    for alias in ("/2019/05/old-bundle/", "/old/:id/"):  # the redirect pages stay, for hosts that read neither
        assert (site.out / unquote(alias).lstrip("/") / "index.html").is_file()


@pytest.mark.parametrize("where", ["root", "edition"])
def test_a_request_for_every_alias_lands_on_its_page(published, where):
    """Through a host that applies _redirects as written (Cloudflare's rule: redirects before files)."""
    site = published[where]
    served = Host(site.publish, "cloudflare")
    try:
        for old, new in REDIRECTS.items():
            response = get(served.port, site.prefix + old)
            assert (response.status, response.getheader("Location")) == (301, site.prefix + new), old
            page = get(served.port, response.getheader("Location"))
            assert page.status == 200
            canonical = f'<link rel="canonical" href="https://gazette.example.org{site.prefix}{new}">'
            assert canonical in page.body.decode(), old
    finally:
        served.close()


def test_redirects_follow_aliases_and_their_targets(tmp_path):
    """`_redirects` is made again when an alias changes or its page moves, and only then: an edit of an
    article's text leaves it alone."""
    site = make_site(tmp_path, {"content/news/a.md": article("A", aliases="[/old-a/]"),
                                "content/news/b.md": article("B")})
    out = tmp_path / "out"
    build(BuildOptions(site_dir=site, out_dir=out, now=NOW))
    assert parse_redirects((out / "_redirects").read_text()) == [("/old-a/", "/news/a/", "301")]

    (site / "content/news/a.md").write_text(article("A", body="New text.\n", aliases="[/old-a/]"))
    report = build(BuildOptions(site_dir=site, out_dir=out, now=NOW))
    assert "_redirects" not in report.written and "_headers" not in report.written

    (site / "content/news/a.md").write_text(article("A", aliases="[/old-a/, /older-a/]"))
    report = build(BuildOptions(site_dir=site, out_dir=out, now=NOW))
    assert "_redirects" in report.written
    assert [r[0] for r in parse_redirects((out / "_redirects").read_text())] == ["/old-a/", "/older-a/"]

    (site / "content/news/a.md").write_text(article("A", slug="a-moved", aliases="[/old-a/]"))
    report = build(BuildOptions(site_dir=site, out_dir=out, now=NOW))
    assert parse_redirects((out / "_redirects").read_text()) == [("/old-a/", "/news/a-moved/", "301")]

    report = build(BuildOptions(site_dir=site, out_dir=out, now=NOW, base_url="https://x.example/p/"))
    assert {"_headers", "_redirects"} <= set(report.written)
    assert parse_redirects((out / "_redirects").read_text()) == [("/p/old-a/", "/p/news/a-moved/", "301")]
    assert parse_headers((out / "_headers").read_text())[0][0] == "/p/*"


# ---------------------------------------------------------------------------------------------
# The browser: every kind of page under the policy the host serves, the meter still working.

# Runs first in every page: every CSP violation the page reports.
CSP_RECORDER = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber));
"""
WASM_PROBE = b"""WebAssembly.compile(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]))
  .then(() => { document.title = 'wasm compiled'; }, () => { document.title = 'wasm refused'; });
"""
PROBE_PAGE = b'<!doctype html><html lang="en"><title>probe</title><script src="%s"></script></html>'


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


class Visitor:
    """One reader (a fresh context) whose pages report CSP violations and every console error."""

    def __init__(self, browser):
        self.context = browser.new_context()
        self.context.add_init_script(CSP_RECORDER)
        self.context.route("https://images.example.net/**",  # the old site's image host, answered here
                           lambda route: route.fulfill(status=200, content_type="image/png", body=png(20, 10)))
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        self.page.on("console", self._console)

    def _console(self, message) -> None:
        missing = any(name in (message.location or {}).get("url", "") for name in ("/nowhere/", "/index.php"))
        if message.type == "error" and not (message.text.startswith("Failed to load resource") and missing):
            self.errors.append(f"console: {message.text}")

    def open(self, url: str) -> list[str]:
        """Open url, let its scripts run, and return the CSP violations seen."""
        self.page.goto(url)
        self.page.wait_for_load_state("load")
        self.page.wait_for_timeout(150)
        return self.page.evaluate("window.__csp")

    def wait_for(self, expression: str, timeout: float = 5.0):
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = self.page.evaluate(expression)
            except Exception as exc:  # a navigation replaced the page between two polls
                if "context was destroyed" not in str(exc) and "navigat" not in str(exc):
                    raise
                value = None
            if value:
                return value
            assert time.monotonic() < deadline, f"timed out waiting for {expression}"
            self.page.wait_for_timeout(25)

    def images_loaded(self) -> list[str]:
        """The src of every image on the page, once scrolled into view and loaded (a broken or blocked one
        stays at width 0)."""
        return self.page.evaluate("""async () => {
            const images = [...document.images];
            for (const img of images) { img.scrollIntoView(); img.loading = 'eager'; }
            await Promise.all(images.map((img) => img.complete ? null : new Promise((ok) => {
                img.addEventListener('load', ok); img.addEventListener('error', ok); })));
            return images.filter((img) => img.naturalWidth > 0).map((img) => img.getAttribute('src'));
        }""")

    def close(self) -> None:
        self.context.close()


PAGES = ["/", "/page/2/", "/news/free-story/", "/news/members-1/", "/news/premium-1/", "/news/bundle-story/",
         "/news/imported-story/", "/about/", "/signin/", "/news/", "/opinion/", "/tags/archive/",
         "/authors/test-reporter/"]


@pytest.mark.parametrize("where", ["root", "edition"])
def test_every_kind_of_page_keeps_the_policy_and_the_meter_works(published, browser, where):
    site = published[where]
    prefix = site.prefix
    overlay = {f"{prefix}/search/csp-probe/": (PROBE_PAGE % f"{prefix}/search/probe.js".encode(), "text/html"),
               f"{prefix}/search/probe.js": (WASM_PROBE, "text/javascript"),
               f"{prefix}/csp-probe/": (PROBE_PAGE % f"{prefix}/probe.js".encode(), "text/html"),
               f"{prefix}/probe.js": (WASM_PROBE, "text/javascript")}
    served = Host(site.publish, "cloudflare", overlay, not_found=f"{prefix.strip('/')}/404.html".lstrip("/"))
    visitor = Visitor(browser)
    try:
        url = served.root + prefix
        for path in PAGES:
            assert visitor.open(url + path) == [], path
        assert visitor.errors == []

        # The meter counts a metered article and says so in its banner.
        assert visitor.open(url + "/news/story-1/") == []
        banner = visitor.wait_for("document.querySelector('[data-meter-banner]').textContent.trim()")
        assert "remaining" in banner or "last" in banner

        # Images: the bundle's own photo, and the imported article's photo on the old site's host.
        for path in ("/news/bundle-story/", "/news/imported-story/"):
            visitor.open(url + path)
            loaded = visitor.images_loaded()
            assert loaded == visitor.page.evaluate("[...document.images].map((img) => img.getAttribute('src'))")
            assert visitor.page.evaluate("window.__csp") == []
        assert loaded[0] == REMOTE_IMAGE
        visitor.open(url + "/news/bundle-story/")
        assert visitor.page.evaluate("document.querySelector('.lead-figure img').naturalWidth") > 0

        # The account page's verifier runs (it says there was no token), and signing out goes home.
        assert visitor.open(url + "/account/") == []
        assert visitor.wait_for("document.querySelector('[data-access-status]').textContent").startswith(
            "No sign-in link was given.")
        visitor.page.goto(url + "/account/signout/")
        visitor.wait_for(f"location.pathname == '{prefix}/'")

        # Old URLs: a 301 from _redirects, and the query aliases' script on the home and 404 pages.
        for old, new in [*REDIRECTS.items(), *QUERY_ALIASES.items()]:
            visitor.page.goto(url + old)
            visitor.wait_for(f"location.pathname == '{prefix}{new}' && document.readyState == 'complete'")
            assert visitor.page.evaluate("window.__csp") == [], old

        # The 404 page.
        assert visitor.open(url + "/nowhere/") == []
        assert "could not find" in visitor.page.text_content("h1")

        assert visitor.errors == []

        # WebAssembly compiles under /search/ only.
        assert visitor.open(url + "/search/csp-probe/") == []
        assert visitor.wait_for("document.title == 'probe' ? null : document.title") == "wasm compiled"
        visitor.open(url + "/csp-probe/")
        assert visitor.wait_for("document.title == 'probe' ? null : document.title") == "wasm refused"
        assert any("wasm" in v for v in visitor.page.evaluate("window.__csp"))
    finally:
        visitor.close()
        served.close()


def test_the_search_page_runs_under_its_policy(tmp_path, browser):
    """The real search page (search: true) finds an article under the policy _headers gives /search/*."""
    site = make_site(tmp_path, {"content/news/vote.md": article("Council vote", body="The turnout was high.\n")},
                     site_yaml="title: Test Gazette\nbase_url: https://news.example.org/\nmeter: false\nsearch: true\n")
    # In a thread of its own: Pagefind's indexer runs an asyncio loop, which Playwright's loop here would refuse.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        out = pool.submit(build_site, site).result()
    served = Host(out, "cloudflare")
    visitor = Visitor(browser)
    try:
        assert visitor.open(served.root + "/search/?q=turnout") == []
        visitor.wait_for("document.querySelectorAll('[data-search-results] li').length > 0", timeout=10)
        assert visitor.page.evaluate("window.__csp") == [] and visitor.errors == []
    finally:
        visitor.close()
        served.close()


# ---------------------------------------------------------------------------------------------
# The README's recipes.

def readme_blocks() -> list[tuple[str, str]]:
    """(language, text) of each code block in README's "Publishing on a static host"."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Publishing on a static host\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(\w*)\n(.*?)```", section, re.DOTALL)


def readme_block(language: str, containing: str = "") -> str:
    found = [body for lang, body in readme_blocks() if lang == language and containing in body]
    assert len(found) == 1, f"one {language} block with {containing!r} in the README, found {len(found)}"
    return found[0]


def test_netlify_recipe_forces_the_redirects(published, tmp_path):
    """netlify.toml's command ends with a sed that marks each redirect 301!: without it Netlify would serve the
    alias's redirect page (a file at the rule's path) instead of the 301."""
    config = tomllib.loads(readme_block("toml"))
    assert config["build"]["publish"] == "_site"
    steps = [step.strip() for step in config["build"]["command"].split("&&")]
    assert steps[1] == "ssg build" and steps[0].startswith("pip install")
    publish = tmp_path / "_site"
    shutil.copytree(published["root"].out, publish)

    before = Host(publish, "netlify")
    try:
        response = get(before.port, "/2019/05/old-bundle/")
        assert response.status == 200 and b'http-equiv="refresh"' in response.body
    finally:
        before.close()

    subprocess.run(steps[2], shell=True, cwd=tmp_path, check=True)
    assert {status for _, _, status in parse_redirects((publish / "_redirects").read_text())} == {"301!"}
    after = Host(publish, "netlify")
    try:
        for old, new in REDIRECTS.items():
            response = get(after.port, old)
            assert (response.status, response.getheader("Location")) == (301, new), old
    finally:
        after.close()


def test_cloudflare_recipe_is_the_plain_build(published):
    section = (REPO / "README.md").read_text().split("\n## Publishing on a static host\n", 1)[1].split("\n## ", 1)[0]
    assert "Build command `pip install ssg-news && ssg build`, build output directory `_site`" in section
    # Cloudflare's documented limits, which the default files stay far below.
    rules = parse_headers((published["root"].out / "_headers").read_text())
    assert len(rules) <= 100
    assert all(len(line) <= 2000 for line in (published["root"].out / "_headers").read_text().splitlines())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.skipif(shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists(),
                    reason="nginx is not installed (apt-get install nginx-light)")
def test_nginx_block_serves_the_same_headers_and_redirects(published, tmp_path):
    site = published["root"]
    out = tmp_path / "_site"  # the site, with a page at /search/ (its policy is the search page's)
    shutil.copytree(site.out, out)
    (out / "search").mkdir(exist_ok=True)
    (out / "search/index.html").write_text("<!doctype html><title>Search</title>")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    block = readme_block("nginx")
    make_map = readme_block("sh", "awk").splitlines()[0]
    port = free_port()
    redirects_map = tmp_path / "redirects.map"
    replacements = {"listen 80;": f"listen 127.0.0.1:{port};", "/srv/news/_site": str(out),
                    "/srv/news/redirects.map": str(redirects_map)}
    for old, new in replacements.items():
        assert old in block or old in make_map, old
        block, make_map = block.replace(old, new), make_map.replace(old, new)
    subprocess.run(make_map, shell=True, check=True)
    prefix = tmp_path / "nginx"
    (prefix / "logs").mkdir(parents=True)
    conf = prefix / "nginx.conf"
    conf.write_text(f"""daemon off;
master_process off;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log;
events {{}}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
{block}
}}
""")
    check = subprocess.run([nginx, "-t", "-p", str(prefix), "-c", str(conf)], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr
    server = subprocess.Popen([nginx, "-p", str(prefix), "-c", str(conf)], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.05)
        rules = parse_headers((out / "_headers").read_text())
        moved = {source for source, _, _ in parse_redirects((out / "_redirects").read_text())}
        for path in [*(url_of(name) for name in site.files()), "/search/", "/nowhere/"]:
            if path in moved:
                continue  # a 301, below
            response = get(port, path)
            assert response.status == (404 if path == "/nowhere/" else 200), path
            got = {name.lower(): value for name, value in response.getheaders()}
            expected = headers_for(rules, path, "cloudflare")
            assert {name: got.get(name) for name in expected} == expected == expected_headers(path), path
        for old, new in REDIRECTS.items():
            response = get(port, old)
            assert response.status == 301 and urlsplit(response.getheader("Location")).path == new, old
        response = get(port, "/2019/05/old-bundle/?utm_source=feed")
        assert response.status == 301
        for name in ("/_headers", "/_redirects"):
            assert get(port, name).status == 404
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_purge_recipe_sends_the_changed_urls_in_batches_of_30(tmp_path):
    site = make_site(tmp_path, {f"content/news/story-{n}.md": article(f"Story {n}", "2020-01-01 09:00", tags="[Town]")
                                for n in range(12)})
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    calls.mkdir()
    # ssg as this checkout runs it; curl that keeps its arguments and what it was sent.
    (bin_dir / "ssg").write_text(f'#!/bin/sh\nPYTHONPATH="{REPO}" exec "{sys.executable}" -m ssg.cli "$@"\n')
    (bin_dir / "curl").write_text(f'#!/bin/sh\nn=$(ls "{calls}" | grep -c args)\nprintf "%s\\n" "$@" > "{calls}/$n.args"\n'
                                  f'cat > "{calls}/$n.body"\n')
    for tool in ("ssg", "curl"):
        (bin_dir / tool).chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", CF_ZONE_ID="zone-1",
               CF_API_TOKEN="token-1")
    script = readme_block("sh", "purge_cache")
    subprocess.run(["bash", "-e", "-c", script], cwd=site, env=env, check=True, capture_output=True)
    changed = (site / "changed-urls.txt").read_text().split()
    assert len(changed) > 30 and all(url.startswith("https://news.example.org/") for url in changed)
    batches = [json.loads((calls / f"{n}.body").read_text())["files"] for n in range(len(list(calls.glob("*.body"))))]
    assert [len(b) for b in batches] == [30] * (len(changed) // 30) + ([len(changed) % 30] if len(changed) % 30 else [])
    assert [url for batch in batches for url in batch] == changed
    args = (calls / "0.args").read_text().splitlines()
    assert "https://api.cloudflare.com/client/v4/zones/zone-1/purge_cache" in args
    assert "Authorization: Bearer token-1" in args
    assert not list(site.glob("purge-batch-*"))

    for old in calls.iterdir():
        old.unlink()
    subprocess.run(["bash", "-e", "-c", script], cwd=site, env=env, check=True, capture_output=True)
    assert (site / "changed-urls.txt").read_text() == "" and list(calls.iterdir()) == []  # nothing to purge


# ---------------------------------------------------------------------------------------------
# The GitHub Pages workflow `ssg init` writes.

def test_init_writes_the_publish_workflow(tmp_path, capsys):
    target = tmp_path / "evening-post"
    assert main(["init", str(target)]) == 0
    text = (target / ".github/workflows/publish.yml").read_text()
    workflow = yaml.safe_load(text)
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers["push"]["branches"] == ["main"]
    (cron,) = [entry["cron"] for entry in triggers["schedule"]]
    minute, *rest = cron.split()
    assert 0 <= int(minute) < 60 and rest == ["*", "*", "*", "*"], "hourly"
    assert "--next-change" in text.split("cron:")[0].rsplit("schedule:", 1)[1]
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}

    build_steps = workflow["jobs"]["build"]["steps"]
    uses = [step.get("uses", "").split("@")[0] for step in build_steps]
    assert uses.index("actions/checkout") < uses.index("actions/cache") < uses.index("actions/upload-pages-artifact")
    cache = build_steps[uses.index("actions/cache")]["with"]
    assert cache["path"] == ".ssg-cache"
    assert "${{ github.sha }}" in cache["key"]
    assert cache["key"].startswith(cache["restore-keys"].strip())
    install = next(step["run"] for step in build_steps if "pip install" in step.get("run", ""))
    assert "python -m venv .venv" in install and '.venv/bin/pip install "ssg-news"' in install
    assert "# or the path/URL you install ssg from" in install
    (build_step,) = [step for step in build_steps if "ssg build" in step.get("run", "")]
    assert uses.index("actions/cache") < build_steps.index(build_step) < uses.index("actions/upload-pages-artifact")
    command = build_step["run"]
    assert command.startswith(".venv/bin/ssg build ")
    artifact = build_steps[uses.index("actions/upload-pages-artifact")]["with"]["path"]
    assert f"--out {artifact}" in command
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "build" and deploy["environment"]["name"] == "github-pages"
    assert [step["uses"].split("@")[0] for step in deploy["steps"]] == ["actions/deploy-pages"]

    # The build step, run in the new site with this checkout as the venv's ssg: a whole site; then, as on a
    # fresh runner with the cache restored, again into an empty folder: the same site.
    venv_bin = target / ".venv/bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "ssg").write_text(f'#!/bin/sh\nPYTHONPATH="{REPO}" exec "{sys.executable}" -m ssg.cli "$@"\n')
    (venv_bin / "ssg").chmod(0o755)
    subprocess.run(command, shell=True, cwd=target, check=True, capture_output=True)
    out = target / artifact
    first = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert {"index.html", "news/welcome/index.html", "_headers", "_redirects"} <= set(first)
    assert (target / ".ssg-cache").is_dir()
    shutil.rmtree(out)
    subprocess.run(command, shell=True, cwd=target, check=True, capture_output=True)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == first
    assert ".venv/" in (target / ".gitignore").read_text().splitlines()
