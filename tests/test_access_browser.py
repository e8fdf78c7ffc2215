"""Sign-in tokens, reader tiers and exemptions (issue 11) in a real browser: Chromium driven by Playwright,
against sites with `access:` built by the generator and served on 127.0.0.1 under
`Content-Security-Policy: default-src 'self'`. Keys are made here and thrown away; good tokens come from
ssg.access.make_token, bad ones are made by hand (access_harness.py).

The sections follow issue 11's Tests list: the reader x access table, bad tokens (on the account page and
planted in storage), `next`, the fragment, revocation, sign-out, section allowances, exempt referrers,
consent, weights, CSP, and no layout shift or flash for a subscriber.
"""
from __future__ import annotations

import gzip
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest
from playwright.sync_api import Page

from access_harness import (CLS_OBSERVER, CONSENT, LIMIT, OPINION_LIMIT, OPINION_REGISTERED_LIMIT, READS,
                            REGISTERED_LIMIT, STORAGE_SPY, TOKEN, BAD_TOKENS, Keys, Reader, ServedSite, bad_tokens, wait_for)
from meter_harness import CSP, chromium

ARTICLE_BUDGET = 2560          # all JavaScript on an article page, gzipped
ACCOUNT_BUDGET = 2048          # the account page's verifier, gzipped

BANNER = "[data-meter-banner]"
PAYWALL = "[data-meter-paywall]"
HOME = "https://gazette.example.org/"
SIGNIN_TEXT = "Sign in here to read more."
INVALID = "This sign-in link is not valid."
EXPIRED = "This sign-in link has expired."
MESSAGES = {"register": "Register to keep reading.", "subscribers": "This article is for subscribers.",
            "expired": "Your sign-in has expired. Sign in again to keep reading."}
SLUG = {"metered": "story-1", "registered": "members-1", "subscribers": "premium-1"}
SLUG_ACCESS = {slug: access for access, slug in SLUG.items()}


# ---------------------------------------------------------------------------------------------
# Fixtures: keys, built sites and one browser per module; one fresh context per reader.

@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys.new()


@pytest.fixture(scope="module")
def served(tmp_path_factory, keys):
    """main: keys k1 and k2; consent: consent required; edition: base_url with a path (/edition/)."""
    base = tmp_path_factory.mktemp("access-sites")
    sites = {"main": ServedSite(base, "main", [keys.first.public, keys.second.public]),
             "consent": ServedSite(base, "consent", [keys.first.public], consent=True),
             "edition": ServedSite(base, "edition", [keys.first.public],
                                   base_url="https://gazette.example.org/edition/")}
    yield sites
    for site in sites.values():
        site.close()


@pytest.fixture(scope="module")
def site(served):
    return served["main"].site


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture
def new_reader(browser):
    readers = []

    def make(*init_scripts: str, **context_options) -> Reader:
        reader = Reader(browser, init_scripts, **context_options)
        readers.append(reader)
        return reader

    yield make
    for reader in readers:
        reader.context.close()
    for reader in readers:
        assert reader.errors == [], "the page reported errors"
        assert not [m for m in reader.console if "Content Security Policy" in m]


@pytest.fixture
def reader(new_reader) -> Reader:
    return new_reader()


def signed_in(reader: Reader, site, token: str | None) -> Reader:
    """The reader holding `token`, as the account page stores it (None: anonymous)."""
    if token is not None:
        reader.plant(site, token)
    return reader


def tier_token(keys: Keys, tier: str, audience: str = HOME) -> str | None:
    return None if tier == "anonymous" else keys.first.token(tier, audience=audience)


def fragment(token: str, next_url: str | None = None) -> str:
    return f"token={token}" + (f"&next={quote(next_url, safe='')}" if next_url is not None else "")


# ---------------------------------------------------------------------------------------------
# What a page shows.

def html_classes(page: Page) -> set[str]:
    return set(page.evaluate("document.documentElement.className").split())


def assert_full_article(page: Page, slug: str) -> None:
    body = page.locator("[data-meter-body]")
    for text in (f"Teaser one of {slug}", f"Body paragraph of {slug}", f"Last paragraph of {slug}."):
        assert body.get_by_text(text).is_visible(), text
    assert not page.locator(PAYWALL).is_visible()
    assert not {c for c in html_classes(page) if c.startswith("meter-")}


def assert_walled(page: Page, slug: str, reason: str) -> None:
    """The teaser, the wall with the message of `reason` and only the links that apply; nothing else."""
    body = page.locator("[data-meter-body]")
    assert body.get_by_text(f"Teaser two of {slug}").is_visible()
    for text in ("What happened next", f"Body paragraph of {slug}", f"Last paragraph of {slug}."):
        assert body.get_by_text(text).count() == 1 and not body.get_by_text(text).is_visible(), text
    assert {c for c in html_classes(page) if c.startswith("meter-")} == {"meter-paywalled", f"meter-wall-{reason}"}
    wall = page.locator(PAYWALL)
    assert wall.is_visible()
    shown = {name for name in MESSAGES if wall.locator(f'[data-meter-message="{name}"]').is_visible()}
    assert shown == ({reason} if reason in MESSAGES else set())
    links = {name for name in ("signin", "register", "subscribe") if wall.locator(f"a.meter-{name}").is_visible()}
    assert links == {"register": {"signin", "register"}}.get(reason, {"signin", "subscribe"})
    assert page.locator(BANNER).text_content() == ""
    assert not page.locator(BANNER).is_visible()


def wall_links(page: Page) -> dict[str, str]:
    wall = page.locator(PAYWALL)
    return {name: wall.locator(f"a.meter-{name}").get_attribute("href") for name in ("signin", "register", "subscribe")}


# ---------------------------------------------------------------------------------------------
# Every cell of the reader x access table.

# (tier, access) -> (state, limit, count, banner, wall reason)
TABLE = {
    ("anonymous", "metered"): ("counted", LIMIT, 1, "You have 1 article remaining.", None),
    ("anonymous", "registered"): ("paywalled", LIMIT, None, "", "register"),
    ("anonymous", "subscribers"): ("paywalled", LIMIT, None, "", "subscribers"),
    ("registered", "metered"): ("counted", REGISTERED_LIMIT, 1, "You have 2 articles remaining.", None),
    ("registered", "registered"): ("entitled", REGISTERED_LIMIT, None, "", None),
    ("registered", "subscribers"): ("paywalled", REGISTERED_LIMIT, None, "", "subscribers"),
    ("subscriber", "metered"): ("entitled", LIMIT, None, "", None),
    ("subscriber", "registered"): ("entitled", LIMIT, None, "", None),
    ("subscriber", "subscribers"): ("entitled", LIMIT, None, "", None),
}


@pytest.mark.parametrize("tier, access", list(TABLE))
def test_reader_by_access_table(site, keys, reader, tier, access):
    """Each cell: the event (state, tier, access, count), the banner, the article or the wall with its message
    and links, the wall decided before the body was parsed, and a read stored only when counted. A valid
    token stays stored once verified."""
    state, limit, count, banner, reason = TABLE[tier, access]
    token = tier_token(keys, tier)
    signed_in(reader, site, token)
    slug = SLUG[access]
    detail = reader.read(site.article(slug))
    assert detail == {"count": count, "limit": limit, "remaining": None if count is None else limit - count,
                      "state": state, "tier": tier, "access": access}
    assert len(reader.events()) == 1
    assert reader.page.locator(BANNER).text_content() == banner
    if reason:
        assert_walled(reader.page, slug, reason)
        assert {"meter-paywalled", f"meter-wall-{reason}"} <= set(reader.page.evaluate("window.__classAtBody").split())
    else:
        assert_full_article(reader.page, slug)
        assert "meter-paywalled" not in reader.page.evaluate("window.__classAtBody")
    assert reader.read_ids() == ([f"/news/{slug}/"] if state == "counted" else [])
    assert reader.token() == token


def test_wall_links_carry_next_and_return_to(site, reader):
    """Sign-in goes to signin_url with return_to (the account page) and next (this article); register and
    subscribe carry next."""
    reader.read(site.article("members-1"))
    here = quote("https://gazette.example.org/news/members-1/", safe="")
    assert wall_links(reader.page) == {
        "signin": f"/signin/?return_to={quote('https://gazette.example.org/account/', safe='')}&next={here}",
        "register": f"/register/?next={here}",
        "subscribe": f"/subscribe/?next={here}",
    }
    assert reader.page.locator("a.meter-register").text_content() == MESSAGES["register"]
    assert reader.page.locator("a.meter-signin").text_content() == SIGNIN_TEXT


@pytest.mark.parametrize("tier, limit", [("anonymous", LIMIT), ("registered", REGISTERED_LIMIT)])
def test_metered_wall_after_the_allowance_is_todays(site, keys, reader, tier, limit):
    """Past its allowance (limit, or registered_limit for a registered reader) a metered article gets
    today's wall: no message, sign-in and subscribe links; the walled read is not counted."""
    signed_in(reader, site, tier_token(keys, tier))
    for n in range(1, limit + 1):
        assert reader.read(site.article(f"story-{n}"))["state"] == "counted"
    detail = reader.read(site.article(f"story-{limit + 1}"))
    assert detail == {"count": limit, "limit": limit, "remaining": 0, "state": "paywalled", "tier": tier,
                      "access": "metered"}
    assert_walled(reader.page, f"story-{limit + 1}", "paywall")
    assert reader.read_ids() == [f"/news/story-{n}/" for n in range(1, limit + 1)]


def test_subscriber_is_never_counted_and_sees_no_banner(site, keys, reader):
    """A subscriber reads everything, nothing is stored for the meter, and no banner shows."""
    signed_in(reader, site, keys.first.token("subscriber"))
    for slug in ("story-1", "story-2", "story-3", "story-4", "op-1", "op-2", "members-1", "premium-2"):
        assert reader.read(site.article(slug), settle=0)["state"] == "entitled", slug
        assert_full_article(reader.page, slug)
        assert not reader.page.locator(BANNER).is_visible()
    assert set(reader.storage()) == {TOKEN}


def test_expired_token_is_anonymous_with_the_expired_message(site, keys, reader):
    """An expired token is an anonymous reader (metered: counted with `limit`) whose walls say it expired,
    with the sign-in and subscribe links."""
    old = keys.first.token("subscriber", now=datetime.now(timezone.utc) - timedelta(days=3), lifetime=timedelta(days=1))
    signed_in(reader, site, old)
    assert reader.read(site.article("story-1"))["state"] == "counted"
    for slug, access in (("premium-1", "subscribers"), ("members-1", "registered")):
        detail = reader.read(site.article(slug))
        assert (detail["state"], detail["tier"], detail["access"]) == ("paywalled", "anonymous", access)
        assert_walled(reader.page, slug, "expired")
        assert reader.page.locator(PAYWALL).get_by_text(MESSAGES["expired"]).is_visible()
    reader.read(site.article("story-2"))
    assert reader.read(site.article("story-3"))["state"] == "paywalled"
    assert_walled(reader.page, "story-3", "expired")
    assert reader.token() == old            # kept: its signature is good, and the walls keep saying why


# ---------------------------------------------------------------------------------------------
# The account page: good and bad tokens, `next`, the fragment.

def status(page: Page) -> str:
    return wait_for(page, "document.querySelector('[data-access-status]').textContent")


def test_account_page_stores_a_good_token_and_goes_on(site, keys, reader):
    """A valid token is stored and the reader lands on `next` (location.replace), entitled there."""
    token = keys.first.token("subscriber")
    reader.on_site(site)
    reader.page.goto(site.account(fragment(token, "/news/premium-1/")))
    reader.page.wait_for_url(site.article("premium-1"))
    wait_for(reader.page, "window.__meter.length > 0")
    assert reader.token() == token
    assert reader.last_event()["state"] == "entitled"
    assert_full_article(reader.page, "premium-1")


@pytest.mark.parametrize("name", BAD_TOKENS)
def test_account_page_refuses_a_bad_token(site, keys, reader, name):
    """Tampered, wrong aud or iss, expired, unknown kid, alg none, another key's signature, malformed: nothing
    is stored, the status says why, a sign-in link follows, the reader stays, nothing is thrown."""
    token, why = bad_tokens(keys)[name]
    reader.on_site(site)
    reader.page.goto(site.account(fragment(token, "/news/premium-1/")))
    text = status(reader.page)
    assert text == f"{EXPIRED if why == 'expired' else INVALID} {SIGNIN_TEXT}"
    link = reader.page.locator("[data-access-status] a")
    assert link.get_attribute("href") == f"/signin/?return_to={quote('https://gazette.example.org/account/', safe='')}"
    assert link.text_content() == SIGNIN_TEXT
    assert reader.page.locator("[data-access-status]").get_attribute("role") == "status"
    assert reader.page.url == site.account()
    assert reader.storage() == {}


def test_account_page_without_a_token_says_so(site, reader):
    reader.page.goto(site.account())
    assert status(reader.page) == f"No sign-in link was given. {SIGNIN_TEXT}"
    reader.page.goto("about:blank")
    reader.page.goto(site.account("next=/news/story-1/"))
    assert status(reader.page) == f"No sign-in link was given. {SIGNIN_TEXT}"
    assert reader.page.url == site.account() and reader.storage() == {}


def test_account_page_says_so_when_storage_refuses(site, keys, new_reader):
    reader = new_reader("Storage.prototype.setItem = () => { throw new DOMException('blocked', 'SecurityError') };")
    reader.page.goto(site.account(fragment(keys.first.token(), "/news/premium-1/")))
    assert status(reader.page) == f"This browser would not keep the sign-in. {SIGNIN_TEXT}"
    assert reader.page.url == site.account()


def test_a_minute_of_clock_skew_is_allowed_for_iat(site, keys, reader):
    """iat up to 60 s ahead of the reader's clock is accepted (a sign-in service's clock runs a little fast)."""
    token = keys.first.token("registered", now=datetime.now(timezone.utc) + timedelta(seconds=30))
    reader.page.goto(site.account(fragment(token, "/news/members-1/")))
    reader.page.wait_for_url(site.article("members-1"))
    assert reader.token() == token


ACCEPTED_NEXT = {
    "/news/premium-1/": "/news/premium-1/",
    "/news/premium-1/?from=signin#top": "/news/premium-1/?from=signin#top",
    "https://gazette.example.org/news/premium-1/": "/news/premium-1/",
}
REFUSED_NEXT = ["https://evil.example/", "//evil.example/", "/\\evil.example/", "\\\\evil.example/",
                "/\t/evil.example/", " /news/premium-1/", "javascript:alert(1)", "JavaScript:alert(1)",
                "data:text/html,hi", "https://gazette.example.org.evil.example/", "https://gazette.example.org@evil.example/",
                "http://gazette.example.org/news/premium-1/", "news/premium-1/", "", None]


@pytest.mark.parametrize("next_url", list(ACCEPTED_NEXT))
def test_next_on_this_site_is_followed(site, keys, reader, next_url):
    reader.page.goto(site.account(fragment(keys.first.token(), next_url)))
    reader.page.wait_for_url(site.url(ACCEPTED_NEXT[next_url]))


@pytest.mark.parametrize("next_url", REFUSED_NEXT)
def test_next_elsewhere_is_refused_for_the_home_page(site, keys, reader, next_url):
    """No open redirect: another origin, scheme-relative and backslash tricks, javascript: and other schemes,
    relative paths and a missing `next` all lead to the home page (the sign-in itself succeeds)."""
    dialogs = []
    reader.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    token = keys.first.token()
    reader.page.goto(site.account(fragment(token, next_url)))
    reader.page.wait_for_url(site.url("/"))
    assert reader.token() == token
    assert dialogs == []


def test_next_under_a_base_path(served, keys, reader):
    """With base_url https://gazette.example.org/edition/, `next` must stay under /edition/."""
    edition = served["edition"].site
    audience = "https://gazette.example.org/edition/"
    cases = {"/edition/news/premium-1/": "/edition/news/premium-1/",
             "https://gazette.example.org/edition/news/premium-1/": "/edition/news/premium-1/",
             "/news/premium-1/": "/edition/", "https://gazette.example.org/news/premium-1/": "/edition/",
             "/edition": "/edition/", "/editionx/": "/edition/"}
    for next_url, landing in cases.items():
        reader.page.goto("about:blank")
        reader.page.goto(edition.account(fragment(keys.first.token(audience=audience), next_url)))
        reader.page.wait_for_url(edition.root + landing)
    # The token is for this edition: its audience is the base_url with the path.
    assert reader.read(edition.article("premium-1"))["state"] == "entitled"
    assert wall_links(reader.page)["signin"].startswith(
        f"/edition/signin/?return_to={quote(audience + 'account/', safe='')}&next=")
    reader.page.goto(edition.account(fragment(keys.first.token(), "/edition/news/premium-1/")))
    assert status(reader.page) == f"{INVALID} {SIGNIN_TEXT}"       # aud of the site without the path


def no_token_in_history(page: Page) -> None:
    urls = page.evaluate("navigation.entries().map((e) => e.url)")
    assert urls and not [u for u in urls if "token" in u or "#" in u], urls


# Where the page was when a script first asked WebCrypto for a key (kept in sessionStorage, which outlives
# the account page's location.replace).
HREF_AT_VERIFY = """
const importKey = crypto.subtle.importKey.bind(crypto.subtle);
crypto.subtle.importKey = (...args) => {
  sessionStorage.setItem('href-at-verify', (sessionStorage.getItem('href-at-verify') || '') + location.href + ' ');
  return importKey(...args);
};
"""


def test_fragment_leaves_the_address_bar_and_history_on_success(site, keys, new_reader):
    """The token is gone from the address bar before the token is even checked, and from every history
    entry; the account page replaced itself (history.length does not grow by it); going back and forth
    never shows it."""
    reader = new_reader(HREF_AT_VERIFY)
    page = reader.page
    page.goto(site.url("/signin/"))
    length = page.evaluate("history.length")
    page.goto(site.account(fragment(keys.first.token(), "/news/premium-1/")))
    page.wait_for_url(site.article("premium-1"))
    wait_for(page, "window.__meter.length > 0")
    assert page.evaluate("sessionStorage.getItem('href-at-verify')").split() == [site.account(),
                                                                                 site.article("premium-1")]
    assert page.evaluate("history.length") == length + 1
    no_token_in_history(page)
    page.go_back()
    assert page.url == site.url("/signin/")
    no_token_in_history(page)
    page.go_forward()
    assert page.url == site.article("premium-1")
    no_token_in_history(page)


def test_fragment_leaves_the_address_bar_and_history_on_failure(site, keys, reader):
    page = reader.page
    page.goto(site.url("/signin/"))
    length = page.evaluate("history.length")
    bad = bad_tokens(keys)["tampered-signature"][0]
    page.goto(site.account(fragment(bad, "/news/premium-1/")))
    assert status(page).startswith(INVALID)
    assert page.url == site.account() and page.evaluate("location.hash") == ""
    assert page.evaluate("history.length") == length + 1
    no_token_in_history(page)
    page.go_back()
    page.go_forward()
    assert page.url == site.account()
    no_token_in_history(page)
    assert reader.storage() == {}


# ---------------------------------------------------------------------------------------------
# Bad tokens planted straight into storage: never honoured; dropped once WebCrypto has looked.

# name -> (kept after verification, the wall on a subscribers article). Tokens whose signature cannot verify
# under a key of this build (or that cannot be read) are dropped; well-signed tokens that do not count here
# (another audience or issuer, an unknown kid a newer build may hold, expired) are left alone.
PLANTED = {
    "tampered-signature": (False, "subscribers"),
    "tampered-claims": (False, "subscribers"),
    "another-key": (False, "subscribers"),
    "der-signature": (False, "subscribers"),
    "two-parts": (False, "subscribers"),
    "four-parts": (False, "subscribers"),
    "alg-none": (False, "subscribers"),
    "alg-none-signed": (False, "subscribers"),
    "malformed-base64": (False, "subscribers"),
    "not-json": (False, "subscribers"),
    "wrong-aud": (True, "subscribers"),
    "wrong-iss": (True, "subscribers"),
    "unknown-kid": (True, "subscribers"),
    "expired": (True, "expired"),
}


@pytest.mark.parametrize("name", list(PLANTED))
def test_planted_bad_token_is_not_honoured(site, keys, reader, name):
    """The page may let a well-formed token in before first paint (claims only); WebCrypto then checks its
    signature, drops a forged one and decides the page again: it ends walled, with nothing thrown."""
    kept, reason = PLANTED[name]
    token = bad_tokens(keys)[name][0]
    reader.plant(site, token)
    reader.page.goto(site.article("premium-1"))
    if kept:
        wait_for(reader.page, "window.__meter.length > 0")
        reader.page.wait_for_timeout(300)
        assert reader.token() == token
    else:
        wait_for(reader.page, f"window.__meter.length > 0 && localStorage.getItem('{TOKEN}') === null")
        wait_for(reader.page, "window.__meter.at(-1).state == 'paywalled'")
    events = reader.events()
    assert events[-1] == {"count": None, "limit": LIMIT, "remaining": None, "state": "paywalled",
                          "tier": "anonymous", "access": "subscribers"}
    assert [e["state"] for e in events] in (["paywalled"], ["entitled", "paywalled"])
    assert_walled(reader.page, "premium-1", reason)


def test_forged_subscriber_token_on_a_metered_article_then_counts(site, keys, reader):
    """A forged token that passed the claim checks: once dropped, the read counts as an anonymous one."""
    reader.plant(site, bad_tokens(keys)["tampered-signature"][0])
    reader.page.goto(site.article("story-1"))
    wait_for(reader.page, "window.__meter.at(-1)?.state == 'counted'")
    assert reader.last_event()["tier"] == "anonymous"
    assert reader.page.locator(BANNER).text_content() == "You have 1 article remaining."
    assert reader.token() is None and reader.read_ids() == ["/news/story-1/"]


# ---------------------------------------------------------------------------------------------
# Revocation and sign-out.

@pytest.fixture
def revocable(tmp_path, keys):
    site = ServedSite(tmp_path, "revoke", [keys.first.public, keys.second.public])
    yield site
    site.close()


def test_rebuilding_without_a_key_revokes_its_tokens(revocable, keys, reader):
    """Tokens signed by k2 count while k2 is in the build; after a rebuild without it (same origin, same
    stored token) they count for nothing, on articles and on the account page, while k1's still do."""
    site = revocable.site
    token = keys.second.token("subscriber")
    reader.page.goto(site.account(fragment(token, "/news/premium-1/")))
    reader.page.wait_for_url(site.article("premium-1"))
    assert reader.read(site.article("premium-1"))["state"] == "entitled"

    revocable.rebuild([keys.first.public])
    detail = reader.read(site.article("premium-1"))
    assert (detail["state"], detail["tier"]) == ("paywalled", "anonymous")
    assert_walled(reader.page, "premium-1", "subscribers")
    reader.page.goto(site.account(fragment(keys.second.token("subscriber"), "/news/premium-1/")))
    assert status(reader.page).startswith(INVALID)

    reader.page.goto("about:blank")         # from /account/ itself, a new fragment would not load the page again
    reader.page.goto(site.account(fragment(keys.first.token("subscriber"), "/news/premium-1/")))
    reader.page.wait_for_url(site.article("premium-1"))
    assert reader.read(site.article("premium-1"))["state"] == "entitled"


def test_sign_out_removes_the_token_and_keeps_the_reads(site, keys, reader):
    """account/signout/?next=URL: the token goes, the reads stay, the reader lands on next, anonymous."""
    reader.read(site.article("story-1"))
    reader.read(site.article("story-2"))
    reader.page.goto(site.account(fragment(keys.first.token("subscriber"), "/news/story-3/")))
    reader.page.wait_for_url(site.article("story-3"))
    wait_for(reader.page, "window.__meter.length > 0")
    assert reader.last_event()["state"] == "entitled"

    reader.page.goto(site.url("/account/signout/?next=" + quote("/news/story-3/", safe="")))
    reader.page.wait_for_url(site.article("story-3"))
    wait_for(reader.page, "window.__meter.length > 0")
    assert reader.token() is None
    assert reader.read_ids() == ["/news/story-1/", "/news/story-2/"]
    assert reader.last_event()["state"] == "paywalled"
    assert_walled(reader.page, "story-3", "paywall")


@pytest.mark.parametrize("query, landing", [("", "/"), ("?next=https%3A%2F%2Fevil.example%2F", "/"),
                                            ("?next=%2F%2Fevil.example", "/"),
                                            ("?next=https%3A%2F%2Fgazette.example.org%2Fnews%2Fstory-1%2F",
                                             "/news/story-1/")])
def test_sign_out_goes_home_unless_next_is_on_this_site(site, keys, reader, query, landing):
    reader.plant(site, keys.first.token())
    reader.page.goto(site.url("/account/signout/" + query))
    reader.page.wait_for_url(site.url(landing))
    assert reader.token() is None


# ---------------------------------------------------------------------------------------------
# Section allowances.

def test_section_allowance_beside_the_site_wide_one(site, reader):
    """Opinion (limit 1) is counted apart from the site-wide allowance (limit 2); each banner speaks of its
    own allowance, and each is stored under its own key."""
    expect = [
        ("op-1", {"count": 1, "limit": OPINION_LIMIT, "remaining": 0, "state": "counted"}, "This is your last free article."),
        ("story-1", {"count": 1, "limit": LIMIT, "remaining": 1, "state": "counted"}, "You have 1 article remaining."),
        ("op-2", {"count": 1, "limit": OPINION_LIMIT, "remaining": 0, "state": "paywalled"}, ""),
        ("story-2", {"count": 2, "limit": LIMIT, "remaining": 0, "state": "counted"}, "This is your last free article."),
        ("story-3", {"count": 2, "limit": LIMIT, "remaining": 0, "state": "paywalled"}, ""),
        ("op-1", {"count": 1, "limit": OPINION_LIMIT, "remaining": 0, "state": "revisit"}, "You have 0 articles remaining."),
    ]
    for slug, detail, banner in expect:
        assert reader.read(site.article(slug), settle=0) == {**detail, "tier": "anonymous", "access": "metered"}, slug
        assert reader.page.locator(BANNER).text_content() == banner, slug
    assert reader.read_ids(READS) == ["/news/story-1/", "/news/story-2/"]
    assert reader.read_ids(READS + ":opinion") == ["/opinion/op-1/"]


def test_section_allowance_for_registered_readers(site, keys, reader):
    signed_in(reader, site, keys.first.token("registered"))
    for n in range(1, OPINION_REGISTERED_LIMIT + 1):
        assert reader.read(site.article(f"op-{n}"), settle=0)["limit"] == OPINION_REGISTERED_LIMIT
    assert reader.read(site.article(f"op-{OPINION_REGISTERED_LIMIT + 1}"), settle=0)["state"] == "paywalled"
    assert reader.read(site.article("story-1"), settle=0)["count"] == 1


# ---------------------------------------------------------------------------------------------
# Exempt referrers.

@pytest.mark.parametrize("referer, exempt", [
    ("https://news.example.com/front-page", True),
    ("https://m.news.example.com/", True),
    ("https://deep.m.news.example.com/x?y=1", True),
    ("https://notnews.example.com/", False),
    ("https://news.example.com.evil.example/", False),
    ("https://example.com/", False),
])
def test_exempt_referrer(site, reader, referer, exempt):
    """A first read arriving from news.example.com or a subdomain is open and not counted; look-alikes are not."""
    detail = reader.read(site.article("story-1"), referer=referer)
    assert reader.page.evaluate("document.referrer") == referer
    if exempt:
        assert detail == {"count": None, "limit": LIMIT, "remaining": None, "state": "exempt", "tier": "anonymous",
                          "access": "metered"}
        assert reader.read_ids() == []
        assert reader.page.locator(BANNER).text_content() == ""
    else:
        assert detail["state"] == "counted" and reader.read_ids() == ["/news/story-1/"]
    assert_full_article(reader.page, "story-1")


def test_exempt_referrer_opens_a_metered_article_past_the_allowance_only(site, reader):
    """Past the allowance a read from the exempt host is still open; a revisit stays a revisit; a subscribers
    article stays walled (the exemption is the meter's, not the tiers')."""
    for n in range(1, LIMIT + 1):
        reader.read(site.article(f"story-{n}"), settle=0)
    assert reader.read(site.article("story-3"), referer="https://news.example.com/")["state"] == "exempt"
    assert_full_article(reader.page, "story-3")
    assert reader.read(site.article("story-1"), referer="https://news.example.com/")["state"] == "revisit"
    assert reader.read(site.article("premium-1"), referer="https://news.example.com/")["state"] == "paywalled"
    assert reader.read_ids() == ["/news/story-1/", "/news/story-2/"]


# ---------------------------------------------------------------------------------------------
# Consent required.

def consent(page: Page, granted: bool) -> None:
    page.evaluate("(g) => document.dispatchEvent(new CustomEvent('ssg:consent', {detail: {granted: g}}))", granted)


def test_before_consent_nothing_is_stored_and_everything_metered_is_readable(served, keys, new_reader):
    """Before consent: metered articles open and uncounted (awaiting-consent), no banner, nothing written, and
    nothing read but the consent flag and the sign-in token; walls of tiers still stand."""
    site = served["consent"].site
    reader = new_reader(STORAGE_SPY)
    for n in range(1, LIMIT + 2):
        detail = reader.read(site.article(f"story-{n}"), settle=0)
        assert detail == {"count": None, "limit": LIMIT, "remaining": None, "state": "awaiting-consent",
                          "tier": "anonymous", "access": "metered"}
        assert_full_article(reader.page, f"story-{n}")
        assert reader.page.locator(BANNER).text_content() == ""
        assert set(reader.page.evaluate("window.__storage")) <= {f"getItem {CONSENT}", f"getItem {TOKEN}"}
    assert reader.read(site.article("members-1"))["state"] == "paywalled"
    assert_walled(reader.page, "members-1", "register")
    assert reader.storage() == {}


def test_consent_granted_counts_this_page_and_decides_later_pages_before_paint(served, reader):
    site = served["consent"].site
    reader.read(site.article("story-1"))
    consent(reader.page, True)
    wait_for(reader.page, "window.__meter.length == 2")
    assert reader.last_event() == {"count": 1, "limit": LIMIT, "remaining": 1, "state": "counted",
                                   "tier": "anonymous", "access": "metered"}
    assert reader.page.locator(BANNER).text_content() == "You have 1 article remaining."
    assert reader.storage()[CONSENT] == "1" and reader.read_ids() == ["/news/story-1/"]

    assert reader.read(site.article("story-2"))["state"] == "counted"
    assert reader.read(site.article("story-3"))["state"] == "paywalled"
    assert "meter-paywalled" in reader.page.evaluate("window.__classAtBody")
    assert_walled(reader.page, "story-3", "paywall")


def test_consent_granted_never_closes_the_page_being_read(served, reader):
    """Reads already stored (from an earlier consent) fill the allowance; granting consent on an open page
    keeps it open (not counted: the allowance is spent)."""
    site = served["consent"].site
    reader.on_site(site)
    reader.page.evaluate("""(k) => localStorage.setItem(k, JSON.stringify({v: 1, r: [['/news/story-1/', Date.now()],
                                                                                ['/news/story-2/', Date.now()]]}))""", READS)
    assert reader.read(site.article("story-3"))["state"] == "awaiting-consent"
    consent(reader.page, True)
    wait_for(reader.page, "window.__meter.length == 2")
    assert reader.last_event()["state"] == "revisit"
    assert_full_article(reader.page, "story-3")


def test_consent_withdrawn_removes_the_reads_and_keeps_the_sign_in(served, keys, reader):
    site = served["consent"].site
    token = keys.first.token("registered")
    reader.plant(site, token)
    reader.read(site.article("story-1"))
    consent(reader.page, True)
    wait_for(reader.page, "window.__meter.length == 2")
    reader.read(site.article("op-1"))
    assert set(reader.storage()) == {TOKEN, CONSENT, READS, READS + ":opinion"}

    consent(reader.page, False)
    wait_for(reader.page, "window.__meter.length == 2")
    assert reader.last_event()["state"] == "awaiting-consent"
    assert reader.storage() == {TOKEN: token}
    assert reader.page.locator(BANNER).text_content() == ""
    assert_full_article(reader.page, "op-1")
    assert reader.read(site.article("story-2"))["state"] == "awaiting-consent"
    assert reader.storage() == {TOKEN: token}


def test_signed_in_reader_before_consent(served, keys, reader):
    """The sign-in token is read before consent (the reader asked for it): a subscriber is entitled."""
    site = served["consent"].site
    reader.plant(site, keys.first.token("subscriber"))
    assert reader.read(site.article("premium-1"))["state"] == "entitled"
    assert reader.read(site.article("story-1"))["state"] == "entitled"
    assert set(reader.storage()) == {TOKEN}


# ---------------------------------------------------------------------------------------------
# Weight, CSP, layout shift and flash.

def gzipped_scripts(reader: Reader, url: str, wait: str) -> dict[str, int]:
    responses = []
    reader.page.on("response", lambda r: responses.append(r) if r.request.resource_type == "script" else None)
    reader.page.goto(url)
    wait_for(reader.page, wait)
    return {r.url.rsplit("/", 1)[1]: len(gzip.compress(r.body(), 9)) for r in responses}


def test_javascript_weights(served, keys, new_reader):
    """All JavaScript on an article page <= 2.5 KB gzipped as served; the account verifier <= 2 KB; the
    build reports the same numbers."""
    site = served["main"].site
    reader = new_reader()
    signed_in(reader, site, keys.first.token("subscriber"))
    article = gzipped_scripts(reader, site.article("premium-1"), "window.__meter.length > 0")
    account = gzipped_scripts(new_reader(), site.account(), "document.querySelector('[data-access-status]').textContent")
    print(f"\nJavaScript on an article page: {article} = {sum(article.values())} bytes gzipped (budget {ARTICLE_BUDGET})")
    print(f"JavaScript on the account page: {account} = {sum(account.values())} bytes gzipped (budget {ACCOUNT_BUDGET})")
    assert len(article) == 1 and sum(article.values()) <= ARTICLE_BUDGET
    assert len(account) == 1 and sum(account.values()) <= ACCOUNT_BUDGET
    assert list(article.values()) == [site.report.meter_script_gzip]
    assert list(account.values()) == [site.report.account_script_gzip]


def csp_clean(reader: Reader) -> None:
    assert reader.page.evaluate("window.__csp") == []


def test_strict_csp_without_violations(site, keys, reader):
    """Every kind of page under `default-src 'self'`: metered, walled, entitled (WebCrypto), the account page
    succeeding and failing, sign-out."""
    page = reader.page
    response = page.goto(site.article("story-1"))
    assert response.headers["content-security-policy"] == CSP
    for slug in ("story-1", "members-1", "premium-1"):
        reader.read(site.article(slug))
        csp_clean(reader)
    page.goto(site.account(fragment(bad_tokens(keys)["another-key"][0])))
    status(page)
    csp_clean(reader)
    page.goto("about:blank")
    page.goto(site.account(fragment(keys.first.token(), "/news/premium-1/")))
    page.wait_for_url(site.article("premium-1"))
    wait_for(page, "window.__meter.length > 0")
    page.wait_for_timeout(200)
    csp_clean(reader)
    page.goto(site.url("/account/signout/?next=/news/members-1/"))
    page.wait_for_url(site.article("members-1"))
    wait_for(page, "window.__meter.length > 0")
    csp_clean(reader)
    # The new_reader fixture asserts that no console message mentioned the Content Security Policy.


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 720}, {"width": 375, "height": 667}])
@pytest.mark.parametrize("tier, slug", [("subscriber", "premium-1"), ("registered", "members-1")])
def test_no_layout_shift_and_no_flash_for_an_entitled_reader(site, keys, new_reader, viewport, tier, slug):
    """A page an anonymous reader finds walled: an entitled reader gets it whole from the first paint (the
    wall's classes are never set, not even for a moment), with CLS < 0.01; the anonymous reader's wall is
    decided before the body is parsed."""
    anonymous = new_reader(CLS_OBSERVER, viewport=viewport)
    anonymous.read(site.article(slug))
    assert "meter-paywalled" in anonymous.page.evaluate("window.__classAtBody")

    reader = signed_in(new_reader(CLS_OBSERVER, viewport=viewport), site, keys.first.token(tier))
    reader.read(site.article(slug), settle=500)
    assert reader.events() == [{"count": None, "limit": REGISTERED_LIMIT if tier == "registered" else LIMIT,
                                "remaining": None, "state": "entitled", "tier": tier, "access": SLUG_ACCESS[slug]}]
    assert "meter-" not in reader.page.evaluate("window.__classAtBody")
    assert not [c for c in reader.page.evaluate("window.__classes") if "meter-" in c]
    assert reader.page.evaluate("window.__cls") < 0.01
    assert_full_article(reader.page, slug)
    assert reader.token() is not None                     # verified, kept

