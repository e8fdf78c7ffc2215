"""Fixtures for the meter's browser tests: small sites built by the generator, served on 127.0.0.1."""
from __future__ import annotations

import contextlib
import functools
import http.server
import os
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ssg.pipeline import BuildOptions, build

KEY = "ssg-meter:v1"
CSP = "default-src 'self'"
BUILT_AT = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)   # every article is dated before this
ARTICLES = 7                                                # more than the largest limit tested (5)

LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run", "--disable-sync"]

GERMAN = {
    "remaining_other": "Sie können noch {n} Artikel lesen.",
    "remaining_one": "Sie können noch 1 Artikel lesen.",
    "last": "Dies ist Ihr letzter freier Artikel.",
    "paywall": "Hier anmelden, um weiterzulesen.",
    "subscribe": "Jetzt abonnieren",
}
# One built site per variant: the meter block's limit and period, the site's timezone and language,
# custom messages.
VARIANTS = {
    "limit3": dict(limit=3),
    "limit1": dict(limit=1),
    "limit5": dict(limit=5),
    "limit0": dict(limit=0),
    "month": dict(limit=2, period="month", tz="America/New_York"),
    "german": dict(limit=2, language="de", messages=GERMAN, tz="Europe/Berlin"),
}


@dataclass(frozen=True)
class Site:
    name: str
    root: str                      # http://127.0.0.1:PORT
    out_dir: Path

    def url(self, path: str) -> str:
        return self.root + path

    def article(self, n: int) -> str:
        """URL of metered article n (1-based)."""
        return self.url(f"/news/story-{n}/")


def chromium_path() -> str | None:
    """Debian's chromium when present (Playwright cannot download browsers here), else Playwright's own."""
    path = os.environ.get("SSG_CHROMIUM") or os.environ.get("SSG_TEST_CHROMIUM") or "/usr/bin/chromium"
    return path if Path(path).exists() else None


@contextlib.contextmanager
def chromium():
    """One headless Chromium for a test module, closed after it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), headless=True, args=LAUNCH_ARGS)
        yield browser
        browser.close()


def _yaml_text(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_site(site_dir: Path, limit: int, period: str = "rolling", tz: str = "Europe/London",
               language: str = "en", messages: dict[str, str] | None = None) -> None:
    """A small news site: ARTICLES metered articles, one unmetered article and a sign-in page."""
    lines = [
        "title: Meter Test Gazette",
        "base_url: https://gazette.example.org/",
        f"language: {language}",
        f"timezone: {tz}",
        "permalink: /{section}/{slug}/",
        "meter:",
        f"  limit: {limit}",
        "  window_days: 30",
        f"  period: {period}",
        "  teaser_paragraphs: 2",
        "  signin_url: /signin/",
        "  subscribe_url: /subscribe/",
    ]
    if messages:
        lines.append("  messages:")
        lines += [f"    {key}: {_yaml_text(text)}" for key, text in messages.items()]
    site_dir.mkdir(parents=True)
    (site_dir / "site.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    news = site_dir / "content" / "news"
    news.mkdir(parents=True)
    for n in range(1, ARTICLES + 1):
        (news / f"story-{n}.md").write_text(article_markdown(f"story-{n}", f"Story number {n}", day=n),
                                            encoding="utf-8")
    (news / "free-story.md").write_text(article_markdown("free-story", "A free story", day=20, metered=False),
                                        encoding="utf-8")
    pages = site_dir / "content" / "pages"
    pages.mkdir()
    for slug in ("signin", "subscribe"):
        (pages / f"{slug}.md").write_text(f'---\ntitle: "{slug.title()}"\nlayout: page\n---\n\nThe {slug} page.\n',
                                          encoding="utf-8")


def article_markdown(slug: str, title: str, day: int, metered: bool = True) -> str:
    """Two teaser paragraphs, then a heading, more text, a list and a last paragraph the tests look for."""
    return f"""---
title: "{title}"
date: 2026-01-{day:02d} 09:00
author: Test Reporter
summary: "Summary of {slug}."
metered: {'true' if metered else 'false'}
---

Teaser one of {slug}: the opening paragraph a paywalled reader still sees.

Teaser two of {slug}: the second paragraph, also part of the teaser.

## What happened next

Body paragraph of {slug}, which only a reader with articles left may read. {"Lorem ipsum dolor sit amet. " * 12}

- a list item in {slug}
- another list item

Last paragraph of {slug}.
"""


def build_site(base: Path, name: str) -> Path:
    """Build variant `name` with the real generator; returns the output folder."""
    options = VARIANTS[name]
    site_dir = base / name
    write_site(site_dir, limit=options["limit"], period=options.get("period", "rolling"),
               tz=options.get("tz", "Europe/London"), language=options.get("language", "en"),
               messages=options.get("messages"))
    out_dir = base / f"{name}-out"
    build(BuildOptions(site_dir=site_dir, out_dir=out_dir, now=BUILT_AT))
    return out_dir


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Static files plus the strict CSP the meter must live under; extra headers per path for tests."""

    extra_headers: dict[str, dict[str, str]] = {}
    on_post = None

    def do_POST(self) -> None:
        if self.on_post is None:
            self.send_error(405)
            return
        self.on_post(self)
        self.send_response(204)
        self.end_headers()

    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", CSP)
        for name, value in self.extra_headers.get(self.path.split("?")[0], {}).items():
            self.send_header(name, value)
        super().end_headers()

    def guess_type(self, path):
        # Chromium only takes Speculation Rules from a response with this type.
        if str(path).endswith("speculation.json"):
            return "application/speculationrules+json"
        return super().guess_type(path)

    def log_message(self, format, *args) -> None:   # keep test output quiet
        pass


class Server:
    """A ThreadingHTTPServer on 127.0.0.1 and a free port, serving one folder."""

    def __init__(self, folder: Path, extra_headers: dict[str, dict[str, str]] | None = None, on_post=None):
        handler = type("Handler", (_Handler,), {"extra_headers": extra_headers or {},
                                                "on_post": staticmethod(on_post) if on_post else None})
        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
        self.httpd.daemon_threads = True
        self.root = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def built_asset(out_dir: Path, pattern: str) -> Path:
    """The fingerprinted file of a theme asset in a built site (e.g. 'assets/js/meter.*.js')."""
    matches = sorted(out_dir.glob(pattern))
    assert len(matches) == 1, f"expected one {pattern} in {out_dir}, found {matches}"
    return matches[0]


class BrowserReader:
    """One reader: a fresh browser context (empty storage) whose pages report every error; `init_scripts`
    run first in every page (the tests' event recorders)."""

    def __init__(self, browser, init_scripts: tuple[str, ...], **context_options):
        self.context = browser.new_context(**context_options)
        for script in init_scripts:
            self.context.add_init_script(script)
        self.errors: list[str] = []
        self.console: list[str] = []
        self.page = self.new_page()

    def new_page(self):
        page = self.context.new_page()
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on("console", self._on_console)
        return page

    def _on_console(self, message) -> None:
        self.console.append(message.text)
        # The test sites have no favicon; Chromium's automatic request for it is not the meter's business.
        if message.type in ("error", "warning") and "favicon" not in (message.location or {}).get("url", ""):
            self.errors.append(f"console {message.type}: {message.text}")
