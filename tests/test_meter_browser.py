"""The article meter in a real browser: Chromium driven by Playwright, against small sites built by
the generator and served over HTTP on 127.0.0.1 under `Content-Security-Policy: default-src 'self'`.

Every numbered rule of issue 3 has a test here; the rule is named in each test's docstring.
"""
from __future__ import annotations

import gzip
import re
import json
import queue
import shutil
import subprocess
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from meter_harness import (CSP, BrowserReader, KEY, LAUNCH_ARGS, VARIANTS, Server, Site, build_site, built_asset,
                           chromium_path)

REPO = Path(__file__).resolve().parents[1]
METER_JS = REPO / "ssg/themes/default/static/js/meter.js"
BUDGET = 2560                                   # all JavaScript on an article page, gzipped

BANNER = "[data-meter-banner]"
PAYWALL = "[data-meter-paywall]"

# Runs before any page script: records every ssg:meter event, CSP violation and pageshow.
RECORDER = """
window.__meter = [];
window.__csp = [];
document.addEventListener('ssg:meter', (e) => window.__meter.push(e.detail));
document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
addEventListener('pageshow', (e) => { window.__persisted = e.persisted; });
"""


# ---------------------------------------------------------------------------------------------
# Fixtures: one browser and one set of built sites per module, one fresh context per reader.

@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    """Every site variant built by the generator and served, keyed by name (see VARIANTS)."""
    base = tmp_path_factory.mktemp("meter-sites")
    servers, built = [], {}
    for name in VARIANTS:
        out_dir = build_site(base, name)
        server = Server(out_dir)
        servers.append(server)
        built[name] = Site(name, server.root, out_dir)
    yield built
    for server in servers:
        server.close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        # Playwright turns the back/forward cache off by default; the meter must be tested with it on.
        browser = p.chromium.launch(executable_path=chromium_path(), headless=True, args=LAUNCH_ARGS,
                                    ignore_default_args=["--disable-back-forward-cache"])
        yield browser
        browser.close()


class Reader(BrowserReader):
    """One anonymous reader of metered articles."""

    def __init__(self, browser, **context_options):
        super().__init__(browser, (RECORDER,), **context_options)

    def read(self, url: str, page: Page | None = None) -> dict:
        """Open url and return the detail of its ssg:meter event."""
        page = page or self.page
        page.goto(url)
        page.wait_for_function("window.__meter.length > 0")
        detail = page.evaluate("window.__meter[window.__meter.length - 1]")
        # Every reader here is anonymous and every article metered; the event says so.
        assert (detail.pop("tier"), detail.pop("access")) == ("anonymous", "metered")
        return detail

    def stored(self, page: Page | None = None):
        raw = (page or self.page).evaluate(f"localStorage.getItem('{KEY}')")
        return None if raw is None else json.loads(raw)

    def stored_ids(self, page: Page | None = None) -> list[str]:
        value = self.stored(page)
        return [] if value is None else [entry[0] for entry in value["r"]]


@pytest.fixture
def new_reader(browser):
    readers = []

    def make(**context_options) -> Reader:
        reader = Reader(browser, **context_options)
        readers.append(reader)
        return reader

    yield make
    for reader in readers:
        reader.context.close()
    for reader in readers:
        assert reader.errors == [], "the page reported errors"


@pytest.fixture
def reader(new_reader) -> Reader:
    return new_reader()


def banner(page: Page) -> str:
    return page.locator(BANNER).text_content()


def assert_full_article(page: Page, slug: str) -> None:
    body = page.locator("[data-meter-body]")
    assert body.get_by_text(f"Teaser one of {slug}").is_visible()
    assert body.get_by_text(f"Body paragraph of {slug}").is_visible()
    assert body.get_by_text(f"Last paragraph of {slug}.").is_visible()
    assert not page.locator(PAYWALL).is_visible()
    assert page.evaluate("document.documentElement.classList.contains('meter-paywalled')") is False


def assert_hidden(locator) -> None:
    assert locator.count() == 1, "the element must be in the page, only hidden"
    assert not locator.is_visible()


def assert_paywalled(page: Page, slug: str) -> None:
    body = page.locator("[data-meter-body]")
    assert body.get_by_text(f"Teaser one of {slug}").is_visible()
    assert body.get_by_text(f"Teaser two of {slug}").is_visible()
    assert_hidden(body.locator("h2", has_text="What happened next"))
    assert_hidden(body.get_by_text(f"Body paragraph of {slug}"))
    assert_hidden(body.get_by_text(f"a list item in {slug}"))
    assert_hidden(body.get_by_text(f"Last paragraph of {slug}."))
    assert page.evaluate("document.documentElement.classList.contains('meter-paywalled')") is True
    assert page.locator(PAYWALL).is_visible()
    assert not page.locator(BANNER).is_visible()


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def seed(reader: Reader, site: Site, value) -> None:
    """Put a raw value under the meter's key, from an unmetered page of the same origin."""
    if not reader.page.url.startswith(site.root):
        reader.page.goto(site.url("/signin/"))
    raw = value if isinstance(value, str) else json.dumps(value)
    reader.page.evaluate("([k, v]) => localStorage.setItem(k, v)", [KEY, raw])


# ---------------------------------------------------------------------------------------------
# Rule 1 and 3: counting, the exact banner texts, revisits.

EXPECTED_TEXTS = {
    "limit1": ["This is your last free article."],
    "limit3": ["You have 2 articles remaining.", "You have 1 article remaining.", "This is your last free article."],
    "limit5": ["You have 4 articles remaining.", "You have 3 articles remaining.", "You have 2 articles remaining.",
               "You have 1 article remaining.", "This is your last free article."],
}
REVISIT_AFTER_FIRST = {"limit1": "You have 0 articles remaining.", "limit3": "You have 2 articles remaining.",
                       "limit5": "You have 4 articles remaining."}


@pytest.mark.parametrize("variant", ["limit1", "limit3", "limit5"])
def test_banner_texts_count_and_revisits(sites, reader, variant):
    """Rules 1-3: each first read is counted with the exact banner text; past the limit the article is
    paywalled; a revisit is readable, uncounted, and uses the plural forms ("0 articles remaining")."""
    site, page = sites[variant], reader.page
    limit = VARIANTS[variant]["limit"]
    expect_texts = EXPECTED_TEXTS[variant]

    for n, text in enumerate(expect_texts, start=1):
        detail = reader.read(site.article(n))
        assert detail == {"count": n, "limit": limit, "remaining": limit - n, "state": "counted"}
        assert banner(page) == text
        assert page.locator(BANNER).is_visible()
        assert page.locator(BANNER).get_attribute("role") == "status"
        assert_full_article(page, f"story-{n}")
        if n == 1:
            # Re-reading right away: not counted again, and never the "last free article" text.
            assert reader.read(site.article(1)) == {"count": 1, "limit": limit, "remaining": limit - 1,
                                                    "state": "revisit"}
            assert banner(page) == REVISIT_AFTER_FIRST[variant]
            assert_full_article(page, "story-1")

    detail = reader.read(site.article(limit + 1))
    assert detail == {"count": limit, "limit": limit, "remaining": 0, "state": "paywalled"}
    assert_paywalled(page, f"story-{limit + 1}")
    assert banner(page) == ""

    for n in (1, limit):
        detail = reader.read(site.article(n))
        assert detail == {"count": limit, "limit": limit, "remaining": 0, "state": "revisit"}
        assert banner(page) == "You have 0 articles remaining."
        assert_full_article(page, f"story-{n}")

    assert reader.stored_ids() == [f"/news/story-{n}/" for n in range(1, limit + 1)]


def test_limit_zero_paywalls_every_metered_article(sites, reader):
    """`limit: 0`: every metered article is paywalled from the first read; nothing is stored."""
    site, page = sites["limit0"], reader.page
    for n in (1, 2):
        detail = reader.read(site.article(n))
        assert detail == {"count": 0, "limit": 0, "remaining": 0, "state": "paywalled"}
        assert_paywalled(page, f"story-{n}")
        assert banner(page) == ""
    assert reader.stored() in (None, {"v": 1, "r": []})


def test_paywall_prompt_links_keyboard_and_focus(sites, reader):
    """Rule 2: the prompt shows the sign-in link and the subscribe link, reachable by keyboard;
    the meter does not move focus."""
    site, page = sites["limit1"], reader.page
    reader.read(site.article(1))
    assert reader.read(site.article(2))["state"] == "paywalled"
    assert_paywalled(page, "story-2")

    signin = page.locator(PAYWALL).get_by_role("link", name="Sign in here to read more.")
    subscribe = page.locator(PAYWALL).get_by_role("link", name="Subscribe")
    # Each link says which article to come back to (`next`).
    back = "next=https%3A%2F%2Fgazette.example.org%2Fnews%2Fstory-2%2F"
    assert signin.get_attribute("href") == "/signin/?" + back
    assert subscribe.get_attribute("href") == "/subscribe/?" + back
    assert page.evaluate("document.activeElement === document.body")

    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Sign in here to read more.":
            break
    else:
        pytest.fail("Tab never reached the sign-in link")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Subscribe"


URL_VARIANTS = ["?utm_source=newsletter", "#what-happened-next", "index.html", "index.html?x=1#y", "?a=1&b=2#z"]


def test_query_fragment_and_index_variants_count_once(sites, reader):
    """Identity: query strings, fragments and a trailing index.html do not make a new article."""
    site, page = sites["limit3"], reader.page
    assert reader.read(site.article(1))["state"] == "counted"
    for suffix in URL_VARIANTS:
        page.goto("about:blank")
        detail = reader.read(site.article(1) + suffix)
        assert detail == {"count": 1, "limit": 3, "remaining": 2, "state": "revisit"}, suffix
    assert reader.stored_ids() == ["/news/story-1/"]
    assert reader.read(site.article(2) + URL_VARIANTS[0])["count"] == 2


# ---------------------------------------------------------------------------------------------
# Rule 4: unmetered pages.

def test_unmetered_pages_have_no_meter(sites, reader):
    """Rule 4: home, lists, pages and `metered: false` articles: no script, no count, no banner, no paywall."""
    site, page = sites["limit1"], reader.page
    reader.read(site.article(1))
    before = reader.stored()
    for path in ("/", "/news/", "/signin/", "/news/free-story/"):
        page.goto(site.url(path))
        assert page.locator("script[data-meter]").count() == 0, path
        assert page.locator(f"{BANNER}, {PAYWALL}").count() == 0, path
        page.wait_for_timeout(50)
        assert page.evaluate("window.__meter") == [], path
    assert page.get_by_text("Last paragraph of free-story.").is_visible()
    assert reader.stored() == before
    assert reader.read(site.article(2))["state"] == "paywalled"   # the free story did not use the allowance


# ---------------------------------------------------------------------------------------------
# The window: rolling expiry, calendar months in the site's timezone, the clock going backwards.

def test_rolling_window_expires_each_read_after_window_days(sites, reader):
    """Rolling window: a read expires window_days (30) after it happened, and is pruned from storage."""
    site, page, clock = sites["limit3"], reader.page, reader.context.clock
    t0 = utc(2026, 3, 10, 12)
    for n in (1, 2, 3):
        clock.set_fixed_time(t0 + timedelta(days=n - 1))
        assert reader.read(site.article(n))["state"] == "counted"
    clock.set_fixed_time(t0 + timedelta(days=10))
    assert reader.read(site.article(4))["state"] == "paywalled"

    clock.set_fixed_time(t0 + timedelta(days=30) - timedelta(minutes=1))
    assert reader.read(site.article(4))["state"] == "paywalled"
    assert_paywalled(page, "story-4")

    clock.set_fixed_time(t0 + timedelta(days=30, minutes=1))      # story 1's read has expired
    detail = reader.read(site.article(4))
    assert detail == {"count": 3, "limit": 3, "remaining": 0, "state": "counted"}
    assert banner(page) == "This is your last free article."
    assert_full_article(page, "story-4")
    assert reader.stored() == {"v": 1, "r": [
        ["/news/story-2/", ms(t0 + timedelta(days=1))],
        ["/news/story-3/", ms(t0 + timedelta(days=2))],
        ["/news/story-4/", ms(t0 + timedelta(days=30, minutes=1))]]}

    clock.set_fixed_time(t0 + timedelta(days=40))                   # every read but story 4's expired
    assert reader.read(site.article(1)) == {"count": 2, "limit": 3, "remaining": 1, "state": "counted"}


NEW_YORK = ZoneInfo("America/New_York")


def test_month_period_resets_at_midnight_in_the_site_timezone(sites, reader):
    """period: month: the count resets at 00:00 on the 1st in site.yaml's timezone (New York here, where
    midnight is 05:00 UTC), so both a UTC and a reader-local calendar would give different answers."""
    site, page, clock = sites["month"], reader.page, reader.context.clock   # limit 2
    clock.set_fixed_time(datetime(2026, 1, 31, 18, 0, tzinfo=NEW_YORK))      # 23:00 UTC, still January in UTC
    assert reader.read(site.article(1))["count"] == 1
    clock.set_fixed_time(datetime(2026, 1, 31, 20, 0, tzinfo=NEW_YORK))      # 01:00 UTC, February in UTC
    assert reader.read(site.article(2)) == {"count": 2, "limit": 2, "remaining": 0, "state": "counted"}
    clock.set_fixed_time(datetime(2026, 1, 31, 23, 59, tzinfo=NEW_YORK))
    assert reader.read(site.article(3))["state"] == "paywalled"
    assert_paywalled(page, "story-3")

    clock.set_fixed_time(datetime(2026, 2, 1, 0, 0, 30, tzinfo=NEW_YORK))    # a new month in New York
    assert reader.read(site.article(3)) == {"count": 1, "limit": 2, "remaining": 1, "state": "counted"}
    assert banner(page) == "You have 1 article remaining."
    assert_full_article(page, "story-3")
    assert reader.stored_ids() == ["/news/story-3/"]                          # January's reads pruned


def test_month_period_with_the_reader_in_another_timezone(sites, new_reader):
    """The reader's own timezone does not move the month boundary."""
    reader = new_reader(timezone_id="Asia/Tokyo")
    site, clock = sites["month"], reader.context.clock
    clock.set_fixed_time(datetime(2026, 2, 28, 22, 0, tzinfo=NEW_YORK))      # already March in Tokyo
    reader.read(site.article(1))
    reader.read(site.article(2))
    clock.set_fixed_time(datetime(2026, 2, 28, 23, 30, tzinfo=NEW_YORK))
    assert reader.read(site.article(3))["state"] == "paywalled"
    clock.set_fixed_time(datetime(2026, 3, 1, 0, 30, tzinfo=NEW_YORK))
    assert reader.read(site.article(3))["state"] == "counted"


def test_clock_moving_backwards_neither_unlocks_nor_locks(sites, reader):
    """Rule 7: with the clock set back, reads "in the future" still count (nothing unlocks), an open
    revisit stays open, and reads stored in the future are clamped to now."""
    site, page, clock = sites["limit3"], reader.page, reader.context.clock
    t0 = utc(2026, 5, 20, 9)
    clock.set_fixed_time(t0)
    for n in (1, 2, 3):
        reader.read(site.article(n))

    back = t0 - timedelta(days=45)                  # further back than the whole window
    clock.set_fixed_time(back)
    assert reader.read(site.article(4))["state"] == "paywalled"
    assert_paywalled(page, "story-4")
    assert reader.read(site.article(1))["state"] == "revisit"
    assert_full_article(page, "story-1")
    assert all(t <= ms(back) for _, t in reader.stored()["r"])

    clock.set_fixed_time(back + timedelta(days=1))  # time moves on from there: still three reads
    assert reader.read(site.article(5))["state"] == "paywalled"


def test_clock_moving_backwards_across_a_month_boundary(sites, reader):
    """Rule 7 with period: month: February's reads still count when the clock falls back into January."""
    site, clock = sites["month"], reader.context.clock
    clock.set_fixed_time(datetime(2026, 2, 1, 0, 30, tzinfo=NEW_YORK))
    reader.read(site.article(1))
    reader.read(site.article(2))
    clock.set_fixed_time(datetime(2026, 1, 31, 22, 0, tzinfo=NEW_YORK))
    assert reader.read(site.article(3))["state"] == "paywalled"


# ---------------------------------------------------------------------------------------------
# Rule 5: several tabs.

def test_two_tabs_share_one_count_without_locking_the_open_article(sites, reader):
    """Rule 5: a read in one tab updates the other tab's banner (storage event); the article open there
    stays readable even when the allowance runs out."""
    site = sites["limit3"]
    tab_a, tab_b = reader.page, reader.new_page()
    reader.read(site.article(1), tab_a)
    assert banner(tab_a) == "You have 2 articles remaining."

    reader.read(site.article(2), tab_b)
    assert banner(tab_b) == "You have 1 article remaining."
    expect(tab_a.locator(BANNER)).to_have_text("You have 1 article remaining.")
    tab_a.wait_for_function("window.__meter.length == 2")
    assert tab_a.evaluate("window.__meter")[-1] == {"count": 2, "limit": 3, "remaining": 1, "state": "revisit",
                                                    "tier": "anonymous", "access": "metered"}

    reader.read(site.article(3), tab_b)
    assert banner(tab_b) == "This is your last free article."
    expect(tab_a.locator(BANNER)).to_have_text("You have 0 articles remaining.")

    assert reader.read(site.article(4), tab_b)["state"] == "paywalled"
    tab_a.wait_for_timeout(100)
    assert_full_article(tab_a, "story-1")
    assert banner(tab_a) == "You have 0 articles remaining."
    assert reader.stored_ids(tab_a) == ["/news/story-1/", "/news/story-2/", "/news/story-3/"]


def test_a_read_overwritten_by_another_tab_is_merged_back(sites, reader):
    """Rule 5: another tab that read at the same moment wrote a value without this tab's read (it read
    storage before this tab wrote): this tab puts its read back, none is lost."""
    site, tab_a = sites["limit3"], reader.page
    reader.read(site.article(1), tab_a)
    tab_b = reader.new_page()
    tab_b.goto(site.url("/signin/"))
    # Tab B's write, based on a value read before tab A wrote: only story 2.
    tab_b.evaluate("(k) => localStorage.setItem(k, JSON.stringify({v: 1, r: [['/news/story-2/', Date.now()]]}))",
                   KEY)
    tab_b.wait_for_function(f"(localStorage.getItem('{KEY}') || '').includes('/news/story-1/')")
    assert sorted(reader.stored_ids(tab_b)) == ["/news/story-1/", "/news/story-2/"]
    expect(tab_a.locator(BANNER)).to_have_text("You have 1 article remaining.")


def test_simultaneous_reads_in_two_tabs_are_both_counted(sites, reader):
    """Rule 5: two tabs open two articles at the same moment; both reads end up stored."""
    site = sites["limit5"]
    tab_a, tab_b = reader.page, reader.new_page()
    for first, second in ((1, 2), (3, 4)):
        for tab in (tab_a, tab_b):
            tab.goto(site.url("/signin/"))
        # Start both navigations without waiting for either.
        tab_a.evaluate("(u) => { location.href = u }", site.article(first))
        tab_b.evaluate("(u) => { location.href = u }", site.article(second))
        for tab, n in ((tab_a, first), (tab_b, second)):
            tab.wait_for_url(site.article(n))
            tab.wait_for_function("window.__meter.length > 0")
    tab_a.wait_for_function(f"JSON.parse(localStorage.getItem('{KEY}')).r.length == 4")
    assert sorted(reader.stored_ids()) == [f"/news/story-{n}/" for n in (1, 2, 3, 4)]


def test_open_tab_across_the_month_boundary_does_not_fight_other_tabs(sites, reader):
    """Rule 5 with period: month: a tab opened last month must not put its expired read back when another
    tab writes this month's count (the two would rewrite each other forever)."""
    site, clock = sites["month"], reader.context.clock
    reader.context.add_init_script("window.__storage = 0; addEventListener('storage', () => window.__storage++);")
    tab_a, tab_b = reader.page, reader.new_page()
    clock.set_fixed_time(datetime(2026, 1, 31, 23, 50, tzinfo=NEW_YORK))
    reader.read(site.article(1), tab_a)
    clock.set_fixed_time(datetime(2026, 2, 1, 0, 10, tzinfo=NEW_YORK))
    reader.read(site.article(2), tab_b)
    tab_a.wait_for_function("window.__storage >= 1")
    tab_b.wait_for_timeout(300)
    assert reader.stored_ids(tab_a) == ["/news/story-2/"]
    assert tab_a.evaluate("window.__storage") == 1 and tab_b.evaluate("window.__storage") == 0
    assert_full_article(tab_a, "story-1")


# ---------------------------------------------------------------------------------------------
# Rule 6: counted when seen: prerender and the back/forward cache.

def test_back_forward_cache_restore_is_not_counted_again(sites, reader):
    """Rule 6: a page restored from the back/forward cache is not counted again (its banner is refreshed)."""
    site, page = sites["limit3"], reader.page
    reader.read(site.article(1))
    reader.read(site.article(2))
    stored = reader.stored()

    page.go_back(wait_until="commit")
    page.wait_for_function("window.__persisted !== undefined && location.pathname == '/news/story-1/'")
    assert page.evaluate("window.__persisted") is True, "Chromium did not restore the page from the bfcache"
    expect(page.locator(BANNER)).to_have_text("You have 1 article remaining.")
    events = page.evaluate("window.__meter")
    assert events[0]["state"] == "counted" and all(e["state"] == "revisit" for e in events[1:])
    assert reader.stored() == stored

    page.go_forward(wait_until="commit")
    page.wait_for_function("location.pathname == '/news/story-2/' && window.__persisted === true")
    page.wait_for_timeout(100)
    assert reader.stored() == stored
    assert [e["state"] for e in page.evaluate("window.__meter")] == ["counted"]


FAKE_PRERENDER = """
if (location.search.includes('prerender')) {
  let prerendering = true;
  Object.defineProperty(Document.prototype, 'prerendering', {configurable: true, get: () => prerendering});
  window.__activate = () => {
    prerendering = false;
    document.dispatchEvent(new Event('prerenderingchange'));
  };
}
"""


def test_prerendered_page_is_counted_on_activation(sites, reader):
    """Rule 6: while document.prerendering, nothing is recorded (not even on a storage event from another
    tab); the read is counted on `prerenderingchange`, with its banner and event."""
    site, page = sites["limit3"], reader.page
    reader.context.add_init_script(FAKE_PRERENDER)
    page.goto(site.article(1) + "?prerender")
    page.wait_for_timeout(100)
    assert page.evaluate("document.prerendering") is True
    assert reader.stored() is None
    assert page.evaluate("window.__meter") == []
    assert banner(page) == ""

    other = reader.new_page()
    reader.read(site.article(2), other)                     # a storage event reaches the prerendered page
    page.wait_for_timeout(100)
    assert reader.stored_ids() == ["/news/story-2/"]

    page.evaluate("window.__activate()")
    page.wait_for_function("window.__meter.length > 0")
    assert page.evaluate("window.__meter") == [{"count": 2, "limit": 3, "remaining": 1, "state": "counted",
                                                "tier": "anonymous", "access": "metered"}]
    assert banner(page) == "You have 1 article remaining."
    assert reader.stored_ids() == ["/news/story-2/", "/news/story-1/"]


def test_prerendered_page_paywalled_when_activated_after_the_limit(sites, reader):
    """Rule 6: the decision is made again on activation: reads made meanwhile can paywall it."""
    site, page = sites["limit1"], reader.page
    reader.context.add_init_script(FAKE_PRERENDER)
    page.goto(site.article(1) + "?prerender")
    reader.read(site.article(2), reader.new_page())
    page.evaluate("window.__activate()")
    page.wait_for_function("window.__meter.length > 0")
    assert page.evaluate("window.__meter")[0]["state"] == "paywalled"
    assert_paywalled(page, "story-1")


REPORTER = """
const events = [];
document.addEventListener('ssg:meter', (e) => events.push(e.detail));
function report(tag) {
  fetch('/report', {method: 'POST', body: JSON.stringify({
    tag, prerendering: document.prerendering, events,
    activationStart: performance.getEntriesByType('navigation')[0].activationStart,
    stored: localStorage.getItem('ssg-meter:v1'),
    banner: document.querySelector('[data-meter-banner]').textContent})});
}
addEventListener('load', () => setTimeout(() => report('load'), 50));
document.addEventListener('prerenderingchange', () => setTimeout(() => report('activated'), 50));
"""


def test_real_speculation_rules_prerender(sites, tmp_path):
    """Rule 6 with a real prerender: Chromium prerenders the article from Speculation Rules (Playwright's
    DevTools connection disables prerendering, so Chromium runs here without it and the page reports
    back over HTTP). Nothing is stored while prerendered; the read counts on activation."""
    executable = chromium_path()
    if executable is None:
        pytest.skip("needs a Chromium binary to run without DevTools")
    out = tmp_path / "site"
    shutil.copytree(sites["limit3"].out_dir, out)
    # The generator's article page plus one reporting script: the only hand-made change.
    article = (out / "news/story-1/index.html").read_text(encoding="utf-8")
    (out / "news/story-1-prerendered").mkdir()
    (out / "news/story-1-prerendered/index.html").write_text(
        article.replace("</head>", '<script src="/report.js"></script>\n</head>', 1), encoding="utf-8")
    (out / "report.js").write_text(REPORTER, encoding="utf-8")
    (out / "start").mkdir()
    (out / "start/index.html").write_text('<!doctype html><title>start</title><script src="/go.js"></script>')
    # The start page follows the link once the test has seen the prerendered page load (or after 10 s).
    (out / "go.js").write_text("""
        const go = () => { location.href = '/news/story-1-prerendered/'; };
        const poll = () => fetch('/go-now').then((r) => r.ok ? go() : setTimeout(poll, 100));
        poll();
        setTimeout(go, 10000);""")
    (out / "speculation.json").write_text(json.dumps(
        {"prerender": [{"source": "list", "urls": ["/news/story-1-prerendered/"], "eagerness": "immediate"}]}))

    reports: queue.Queue = queue.Queue()

    def on_post(handler) -> None:
        reports.put(json.loads(handler.rfile.read(int(handler.headers["Content-Length"]))))

    server = Server(out, {"/start/": {"Speculation-Rules": '"/speculation.json"'}}, on_post=on_post)
    profile = tempfile.mkdtemp(dir=tmp_path)
    proc = subprocess.Popen([executable, "--headless=new", f"--user-data-dir={profile}", *LAUNCH_ARGS,
                             server.root + "/start/"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        first = reports.get(timeout=30)
        if first["tag"] == "load" and not first["prerendering"]:
            pytest.skip("this Chromium did not prerender the page")
        assert first == {"tag": "load", "prerendering": True, "events": [], "activationStart": 0,
                         "stored": None, "banner": ""}
        (out / "go-now").write_text("go")
        second = reports.get(timeout=30)
        assert second["tag"] == "activated" and second["activationStart"] > 0
        assert second["events"] == [{"count": 1, "limit": 3, "remaining": 2, "state": "counted",
                                      "tier": "anonymous", "access": "metered"}]
        assert second["banner"] == "You have 2 articles remaining."
        assert [e[0] for e in json.loads(second["stored"])["r"]] == ["/news/story-1/"]
    finally:
        proc.terminate()              # lets Chromium take its helper processes down with it
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        server.close()


# ---------------------------------------------------------------------------------------------
# Rule 7: storage missing, blocked or corrupt; JavaScript off.

STORAGE_FAILURES = {
    "methods-throw": """
        for (const m of ['getItem', 'setItem', 'removeItem', 'clear', 'key'])
          Storage.prototype[m] = () => { throw new DOMException('blocked', 'SecurityError'); };""",
    "getter-throws": """
        Object.defineProperty(window, 'localStorage', {configurable: true,
          get() { throw new DOMException('The operation is insecure.', 'SecurityError'); }});""",
    "missing": "Object.defineProperty(window, 'localStorage', {configurable: true, value: undefined});",
    "quota-full": """
        Storage.prototype.setItem = () => { throw new DOMException('full', 'QuotaExceededError'); };""",
}


@pytest.mark.parametrize("failure", list(STORAGE_FAILURES))
def test_storage_missing_blocked_or_full_leaves_articles_readable(sites, reader, failure):
    """Rule 7: storage that throws or is missing: every article readable, nothing thrown, state unavailable."""
    site, page = sites["limit1"], reader.page
    reader.context.add_init_script(STORAGE_FAILURES[failure])
    for n in (1, 2):
        detail = reader.read(site.article(n))
        assert detail == {"count": None, "limit": 1, "remaining": None, "state": "unavailable"}
        assert_full_article(page, f"story-{n}")
        assert not page.locator(BANNER).is_visible()
    # reader fixture teardown asserts that no page error was reported


CORRUPT_VALUES = {
    "not-json": "{not json",
    "a-string": '"hello"',
    "json-null": "null",
    "an-array": "[1, 2, 3]",
    "other-version": json.dumps({"v": 2, "r": [["/news/story-1/", 1], ["/news/story-2/", 2]]}),
    "foreign-object": json.dumps({"count": 99}),
    "r-not-a-list": json.dumps({"v": 1, "r": "nope"}),
    "bad-entries": json.dumps({"v": 1, "r": [None, 5, "x", ["/a/", "yesterday"]]}),
}


def test_corrupt_or_foreign_value_is_treated_as_empty_and_rewritten(sites, reader):
    """Rule 7: a corrupt or foreign stored value counts as empty and is replaced by a valid one."""
    site, clock = sites["limit3"], reader.context.clock
    now = utc(2026, 6, 1, 8)
    clock.set_fixed_time(now)
    for name, value in CORRUPT_VALUES.items():
        seed(reader, site, value)
        detail = reader.read(site.article(1))
        assert detail == {"count": 1, "limit": 3, "remaining": 2, "state": "counted"}, name
        assert banner(reader.page) == "You have 2 articles remaining.", name
        assert reader.stored() == {"v": 1, "r": [["/news/story-1/", ms(now)]]}, name


def test_corrupt_value_is_rewritten_even_when_paywalled(sites, reader):
    """Rule 7: a paywalled page also replaces a corrupt value."""
    site = sites["limit0"]
    seed(reader, site, "{not json")
    assert reader.read(site.article(1))["state"] == "paywalled"
    assert reader.stored() == {"v": 1, "r": []}


def test_javascript_off_shows_the_whole_article(sites, new_reader):
    """Rule 7: with JavaScript off the whole article is readable and the prompt stays hidden, even on a
    site where every article is paywalled (a soft paywall)."""
    page = new_reader(java_script_enabled=False).page
    for variant, n in (("limit0", 1), ("limit1", 1), ("limit1", 2)):
        page.goto(sites[variant].article(n))
        assert_full_article(page, f"story-{n}")
        assert not page.locator(BANNER).is_visible()


# ---------------------------------------------------------------------------------------------
# Rule 8: what is stored.

def test_storage_holds_only_ids_and_times_under_one_versioned_key(sites, reader):
    """Rule 8: one key, {"v":1,"r":[[id, ms], ...]}, nothing else written anywhere."""
    site, clock = sites["limit3"], reader.context.clock
    now = utc(2026, 7, 1, 10)
    clock.set_fixed_time(now)
    reader.read(site.article(1))
    reader.read(site.article(2) + "?utm=x#y")
    keys = reader.page.evaluate("Object.keys(localStorage)")
    assert keys == [KEY]
    raw = reader.page.evaluate(f"localStorage.getItem('{KEY}')")
    assert raw == json.dumps({"v": 1, "r": [["/news/story-1/", ms(now)], ["/news/story-2/", ms(now)]]},
                             separators=(",", ":"))
    assert reader.page.evaluate("sessionStorage.length") == 0
    assert reader.context.cookies() == []


def test_storage_is_pruned_deduplicated_and_bounded(sites, reader):
    """Rule 8: expired reads are pruned on write, duplicates collapse, the list keeps only the newest
    entries, and a read dated in the future is clamped to now."""
    site, clock = sites["limit3"], reader.context.clock
    now = utc(2026, 8, 15, 12)
    clock.set_fixed_time(now)
    day = 86_400_000
    live = [[f"/old/{i}/", ms(now) - i * 60_000] for i in range(1, 151)]        # 150 reads within the window
    expired = [[f"/gone/{i}/", ms(now) - 31 * day - i] for i in range(20)]
    future = [["/future/", ms(now) + 5 * day]]
    dupes = [["/old/1/", ms(now) - 30_000]]                                  # the same id again
    seed(reader, site, {"v": 1, "r": expired + live + future + dupes})

    assert reader.read(site.article(1))["state"] == "paywalled"
    stored = reader.stored()
    ids = [entry[0] for entry in stored["r"]]
    assert set(stored) == {"v", "r"} and stored["v"] == 1
    assert len(ids) <= 103 and len(ids) == len(set(ids))                     # bounded: 100 + limit
    assert not any(i.startswith("/gone/") for i in ids)
    assert ["/future/", ms(now)] in stored["r"]                              # clamped to now
    times = [t for _, t in stored["r"]]
    assert times == sorted(times)
    assert ids.count("/old/1/") == 1                                        # duplicates collapse
    # The oldest reads went first: everything kept is newer than everything dropped.
    oldest_kept = min(times)
    assert all(t < oldest_kept for i, t in live if i not in ids)


# ---------------------------------------------------------------------------------------------
# The script: no layout shift, no flash, CSP, weight, messages, the event.

CLS_OBSERVER = """
window.__cls = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.__cls += entry.value;
}).observe({type: 'layout-shift', buffered: true});
// Was the paywall decided before the article body existed (no flash of text then hidden)?
new MutationObserver((records, observer) => {
  const body = document.querySelector('[data-meter-body]');
  if (body) {
    window.__classAtBody = document.documentElement.className;
    observer.disconnect();
  }
}).observe(document, {childList: true, subtree: true});
"""


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 720}, {"width": 375, "height": 667}])
def test_no_layout_shift_and_no_flash(sites, new_reader, viewport):
    """CLS < 0.01 on a counted and a paywalled page; the paywall class is on <html> before the body exists."""
    reader = new_reader(viewport=viewport)
    reader.context.add_init_script(CLS_OBSERVER)
    site, page = sites["limit1"], reader.page
    reader.read(site.article(1))
    page.wait_for_timeout(300)
    assert page.evaluate("window.__cls") < 0.01
    assert page.locator(BANNER).is_visible()
    assert page.locator(BANNER).evaluate("b => getComputedStyle(b).position") == "fixed"

    reader.read(site.article(2))
    page.wait_for_timeout(300)
    assert page.evaluate("window.__cls") < 0.01
    assert "meter-paywalled" in page.evaluate("window.__classAtBody")


def test_strict_csp_without_violations(sites, reader):
    """The pages work under `Content-Security-Policy: default-src 'self'`: no inline script or style."""
    site, page = sites["limit1"], reader.page
    response = page.goto(site.article(1))
    assert response.headers["content-security-policy"] == CSP
    page.wait_for_function("window.__meter.length > 0")
    assert banner(page) == "This is your last free article."
    reader.read(site.article(2))
    assert_paywalled(page, "story-2")
    assert page.evaluate("window.__csp") == []
    assert not [m for m in reader.console if "Content Security Policy" in m]


def test_all_javascript_on_an_article_page_fits_the_budget(sites, reader):
    """All JavaScript on an article page, gzipped, is at most 2.5 KB."""
    site, page = sites["limit3"], reader.page
    scripts = []
    page.on("response", lambda r: scripts.append(r) if r.request.resource_type == "script" else None)
    reader.read(site.article(1))
    total = sum(len(gzip.compress(r.body(), 9)) for r in scripts)
    print(f"\nJavaScript on an article page: {len(scripts)} file(s), {total} bytes gzipped")
    assert len(scripts) >= 1
    assert total <= BUDGET
    served = built_asset(site.out_dir, "assets/js/meter.*.js")
    # Shipped as written, less comments and indentation: every line of code is in the theme's file.
    source = METER_JS.read_text(encoding="utf-8")
    assert len(served.read_bytes()) < len(source.encode())
    assert all(token in source for token in re.findall(r"[A-Za-z_$][\w$]{3,}", served.read_text(encoding="utf-8")))


def test_custom_messages_show_verbatim(sites, reader):
    """Messages come from site.yaml: a German site needs no code change."""
    site, page = sites["german"], reader.page                         # limit 2
    reader.read(site.article(1))
    assert banner(page) == "Sie können noch 1 Artikel lesen."
    reader.read(site.article(2))
    assert banner(page) == "Dies ist Ihr letzter freier Artikel."
    reader.read(site.article(3))
    assert page.locator(PAYWALL).get_by_role("link", name="Hier anmelden, um weiterzulesen.").is_visible()
    assert page.locator(PAYWALL).get_by_role("link", name="Jetzt abonnieren").is_visible()
    reader.read(site.article(1))
    assert banner(page) == "Sie können noch 0 Artikel lesen."


def test_event_reaches_listeners_added_at_domcontentloaded(sites, reader):
    """The ssg:meter event fires once per page view, after DOMContentLoaded, so page scripts hear it."""
    reader.context.add_init_script("""
        document.addEventListener('DOMContentLoaded', () => {
          window.__late = [];
          document.addEventListener('ssg:meter', (e) => window.__late.push(e.detail));
        });""")
    site, page = sites["limit3"], reader.page
    detail = reader.read(site.article(1))
    page.wait_for_timeout(100)
    assert page.evaluate("window.__late") == [detail | {"tier": "anonymous", "access": "metered"}] \
        == page.evaluate("window.__meter")
    assert detail == {"count": 1, "limit": 3, "remaining": 2, "state": "counted"}


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_banner_is_readable_in_light_and_dark_mode(sites, new_reader, scheme):
    """The banner follows prefers-color-scheme and keeps a contrast of at least 4.5:1."""
    reader = new_reader(color_scheme=scheme)
    reader.read(sites["limit3"].article(1))
    colors = reader.page.locator(BANNER).evaluate(
        "b => [getComputedStyle(b).color, getComputedStyle(b).backgroundColor]")

    def luminance(css: str) -> float:
        r, g, b = (int(v) / 255 for v in css[css.index("(") + 1:css.index(")")].split(",")[:3])
        lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    fg, bg = sorted((luminance(colors[0]), luminance(colors[1])), reverse=True)
    assert (fg + 0.05) / (bg + 0.05) >= 4.5
    background_is_dark = luminance(colors[1]) < 0.2
    assert background_is_dark == (scheme == "light")    # dark bar on a light page, light bar on a dark page
