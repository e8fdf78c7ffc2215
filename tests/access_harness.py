"""Fixtures for the sign-in browser tests (issue 11): throwaway key pairs, sites with `access:` built by the
generator and served on 127.0.0.1 under a strict CSP, good tokens from ssg.access.make_token and bad ones
made by hand, and a reader (one browser context) that records what its pages say."""
from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from playwright.sync_api import Page

from meter_harness import BrowserReader, Server
from ssg.access import PublicKey, add_public_key, generate_key, make_token, new_key_pair
from ssg.pipeline import BuildOptions, BuildReport, build

TOKEN = "ssg-access:v1"
CONSENT = "ssg-consent:v1"
READS = "ssg-meter:v1"
ISSUER = "https://members.example.org"
BASE_URL = "https://gazette.example.org/"
BUILT_AT = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)   # every article is dated before this
LIMIT = 2                                                  # anonymous readers, site-wide
REGISTERED_LIMIT = 3
OPINION_LIMIT = 1                                          # the Opinion section's own allowance
OPINION_REGISTERED_LIMIT = 2
EXEMPT = "news.example.com"

# Runs before any page script: every ssg:meter event, CSP violation and change of <html>'s classes, and the
# classes <html> had when the article body was parsed (before first paint).
RECORDER = """
window.__meter = [];
window.__csp = [];
window.__classes = [];
document.addEventListener('ssg:meter', (e) => window.__meter.push(e.detail));
document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
new MutationObserver((records) => {
  for (const r of records) {
    if (r.type == 'attributes' && r.target == document.documentElement) window.__classes.push(r.target.className);
    if (window.__classAtBody === undefined && document.querySelector('[data-meter-body]'))
      window.__classAtBody = document.documentElement.className;
  }
}).observe(document, {childList: true, subtree: true, attributes: true, attributeFilter: ['class']});
"""

# Every storage call, by method and key (to prove what is and is not touched before consent).
STORAGE_SPY = """
window.__storage = [];
for (const m of ['getItem', 'setItem', 'removeItem']) {
  const real = Storage.prototype[m];
  Storage.prototype[m] = function (k, ...rest) { window.__storage.push(m + ' ' + k); return real.call(this, k, ...rest); };
}
"""

CLS_OBSERVER = """
window.__cls = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.__cls += entry.value;
}).observe({type: 'layout-shift', buffered: true});
"""


# ---------------------------------------------------------------------------------------------
# Keys and tokens.

@dataclass(frozen=True)
class Signer:
    """A private key and the kid its tokens name (which the site may or may not publish)."""

    key: ec.EllipticCurvePrivateKey
    public: PublicKey

    @property
    def kid(self) -> str:
        return self.public.kid

    @classmethod
    def new(cls, kid: str) -> Signer:
        return cls(*generate_key(kid))

    @classmethod
    def from_pem(cls, kid: str) -> Signer:
        """A key made as `ssg keys new` makes it: the private half as PEM, read back."""
        pem, public = new_key_pair(kid)
        return cls(serialization.load_pem_private_key(pem, password=None), public)

    def token(self, tier: str = "subscriber", now: datetime | None = None, lifetime: timedelta = timedelta(days=14),
              issuer: str = ISSUER, audience: str = BASE_URL, subject: str = "reader-1") -> str:
        """A token as a sign-in service makes it, through the generator's own make_token."""
        return make_token(self.key, self.kid, issuer, audience, subject, tier, now or datetime.now(timezone.utc),
                          lifetime)


def b64url(data: bytes | str) -> str:
    return base64.urlsafe_b64encode(data.encode() if isinstance(data, str) else data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def claims(tier: str = "subscriber", lifetime: int = 14 * 86400, issued: int | None = None, **changes) -> dict:
    issued = int(time.time()) if issued is None else issued
    value = {"iss": ISSUER, "aud": BASE_URL, "sub": "reader-1", "iat": issued, "exp": issued + lifetime, "tier": tier}
    value.update(changes)
    return {k: v for k, v in value.items() if v is not None}


def hand_token(key: ec.EllipticCurvePrivateKey | None, header: dict, body: dict) -> str:
    """A compact JWS made by hand: any header and claims, signed (raw r||s, as JWS wants) or not at all."""
    signing_input = f"{b64url(json.dumps(header))}.{b64url(json.dumps(body))}"
    if key is None:
        return signing_input + "."
    r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def tampered_signature(token: str) -> str:
    """The same token with one bit of its signature flipped (in the middle: the last character of a
    base64url string may carry only padding bits)."""
    head, body, signature = token.split(".")
    raw = bytearray(unb64url(signature))
    raw[20] ^= 0x01
    return f"{head}.{body}.{b64url(bytes(raw))}"


def tampered_claims(token: str, **changes) -> str:
    """The same header and signature over claims changed after signing (a registered reader's token
    promoted to subscriber, say)."""
    head, body, signature = token.split(".")
    value = json.loads(unb64url(body))
    value.update(changes)
    return f"{head}.{b64url(json.dumps(value))}.{signature}"


@dataclass(frozen=True)
class Keys:
    """The module's throwaway keys: two the sites publish, and two they do not."""

    first: Signer        # kid k1, published by every site
    second: Signer       # kid k2, published by the main site (and removed to revoke it)
    stranger: Signer     # kid k1 too, but another key: its signature cannot verify under the site's k1
    unknown: Signer      # kid k-unknown: no site publishes it

    @classmethod
    def new(cls) -> Keys:
        return cls(Signer.new("k1"), Signer.from_pem("k2"), Signer.new("k1"), Signer.new("k-unknown"))


BAD_TOKENS = ("tampered-signature", "tampered-claims", "wrong-aud", "wrong-iss", "expired", "unknown-kid", "alg-none",
              "alg-none-signed", "alg-hs256", "another-key", "malformed-base64", "not-json", "two-parts", "four-parts",
              "unknown-tier", "issued-in-the-future", "no-exp", "der-signature")


def bad_tokens(keys: Keys) -> dict[str, tuple[str, str]]:
    """name -> (token, why the account page refuses it: "invalid" or "expired"), for every name in BAD_TOKENS."""
    good = keys.first.token("subscriber")
    registered = keys.first.token("registered")
    header = {"alg": "ES256", "typ": "JWT", "kid": "k1"}
    now = datetime.now(timezone.utc)
    return {
        "tampered-signature": (tampered_signature(good), "invalid"),
        "tampered-claims": (tampered_claims(registered, tier="subscriber"), "invalid"),
        "wrong-aud": (keys.first.token(audience="https://other.example.org/"), "invalid"),
        "wrong-iss": (keys.first.token(issuer="https://evil.example"), "invalid"),
        "expired": (keys.first.token(now=now - timedelta(days=2), lifetime=timedelta(days=1)), "expired"),
        "unknown-kid": (keys.unknown.token(), "invalid"),
        "alg-none": (hand_token(None, {"alg": "none", "typ": "JWT", "kid": "k1"}, claims()), "invalid"),
        "alg-none-signed": (hand_token(keys.first.key, {"alg": "none", "typ": "JWT", "kid": "k1"}, claims()), "invalid"),
        "alg-hs256": (hand_token(keys.first.key, {**header, "alg": "HS256"}, claims()), "invalid"),
        "another-key": (keys.stranger.token(), "invalid"),
        "malformed-base64": ("eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.*not~base64*." + good.split(".")[2], "invalid"),
        "not-json": (f"{b64url('not json')}.{good.split('.')[1]}.{good.split('.')[2]}", "invalid"),
        "two-parts": (".".join(good.split(".")[:2]), "invalid"),
        "four-parts": (good + ".AAAA", "invalid"),
        "unknown-tier": (hand_token(keys.first.key, header, claims(tier="gold")), "invalid"),
        "issued-in-the-future": (hand_token(keys.first.key, header, claims(issued=int(time.time()) + 3600)), "invalid"),
        "no-exp": (hand_token(keys.first.key, header, claims(exp=None)), "invalid"),
        "der-signature": (_der_signed(keys.first.key, header, claims()), "invalid"),
    }


def _der_signed(key: ec.EllipticCurvePrivateKey, header: dict, body: dict) -> str:
    """Signed, but with the DER signature `cryptography` returns instead of JWS's raw r||s."""
    signing_input = f"{b64url(json.dumps(header))}.{b64url(json.dumps(body))}"
    return f"{signing_input}.{b64url(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))}"


# ---------------------------------------------------------------------------------------------
# Sites.

@dataclass(frozen=True)
class Site:
    name: str
    root: str                  # http://127.0.0.1:PORT
    out_dir: Path
    base: str = "/"            # base_url's path
    report: BuildReport | None = None

    def url(self, path: str) -> str:
        """URL of a site path ("/news/story-1/"), under the base path."""
        return self.root + self.base.rstrip("/") + path

    def article(self, slug: str) -> str:
        section = "opinion" if slug.startswith("op-") else "news"
        return self.url(f"/{section}/{slug}/")

    def account(self, fragment: str = "") -> str:
        return self.url("/account/") + (f"#{fragment}" if fragment else "")


# Slug -> access; the opinion articles are metered against the Opinion allowance.
ARTICLES = {
    **{f"story-{n}": "metered" for n in range(1, 6)},
    "members-1": "registered", "members-2": "registered",
    "premium-1": "subscribers", "premium-2": "subscribers",
    "free-story": "free",
    **{f"op-{n}": "metered" for n in range(1, 4)},
}


def article_markdown(slug: str, access: str, day: int) -> str:
    """Two teaser paragraphs, then a heading, more text and a last paragraph the tests look for."""
    section = "section: Opinion\n" if slug.startswith("op-") else ""
    return f"""---
title: "Article {slug}"
date: 2026-01-{day:02d} 09:00
author: Test Reporter
summary: "Summary of {slug}."
access: {access}
{section}---

Teaser one of {slug}: the opening paragraph a walled reader still sees.

Teaser two of {slug}: the second paragraph, also part of the teaser.

## What happened next

Body paragraph of {slug}, for entitled readers and readers with articles left. {"Lorem ipsum dolor sit amet. " * 12}

Last paragraph of {slug}.
"""


def write_site(site_dir: Path, public_keys: list[PublicKey], base_url: str = BASE_URL, consent: bool = False) -> None:
    """A news site with every access level, an Opinion section with its own allowance, an exempt referrer,
    sign-in, register and subscribe pages, and the JWKS file of `public_keys`."""
    site_dir.mkdir(parents=True)
    lines = [
        "title: Access Test Gazette",
        f"base_url: {base_url}",
        "timezone: Europe/London",
        "permalink: /{section}/{slug}/",
        "access:",
        f"  issuer: {ISSUER}",
        "  keys: access-keys.json",
        "meter:",
        f"  limit: {LIMIT}",
        f"  registered_limit: {REGISTERED_LIMIT}",
        "  teaser_paragraphs: 2",
        "  signin_url: /signin/",
        "  register_url: /register/",
        "  subscribe_url: /subscribe/",
        f"  sections: {{Opinion: {{limit: {OPINION_LIMIT}, registered_limit: {OPINION_REGISTERED_LIMIT}}}}}",
        f"  exempt_referrers: [{EXEMPT}]",
    ]
    if consent:
        lines.append("  consent: required")
    (site_dir / "site.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    write_keys(site_dir, public_keys)
    for day, (slug, access) in enumerate(ARTICLES.items(), start=1):
        folder = site_dir / "content" / ("opinion" if slug.startswith("op-") else "news")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{slug}.md").write_text(article_markdown(slug, access, day), encoding="utf-8")
    pages = site_dir / "content" / "pages"
    pages.mkdir()
    for slug in ("signin", "register", "subscribe"):
        (pages / f"{slug}.md").write_text(f'---\ntitle: "{slug.title()}"\nlayout: page\n---\n\nThe {slug} page.\n',
                                          encoding="utf-8")


def write_keys(site_dir: Path, public_keys: list[PublicKey]) -> None:
    """The site's JWKS file, made the way `ssg keys new` makes it."""
    path = site_dir / "access-keys.json"
    path.unlink(missing_ok=True)
    for key in public_keys:
        add_public_key(path, key)


def build_site(site_dir: Path, out_dir: Path) -> BuildReport:
    return build(BuildOptions(site_dir=site_dir, out_dir=out_dir, now=BUILT_AT))


class ServedSite:
    """A site written, built and served; with a base path, the output folder is served under it."""

    def __init__(self, base: Path, name: str, public_keys: list[PublicKey], base_url: str = BASE_URL,
                 consent: bool = False):
        self.site_dir = base / name
        self.base = "/" + base_url.split("/", 3)[3]
        write_site(self.site_dir, public_keys, base_url, consent)
        served = base / f"{name}-served"
        served.mkdir()
        self.out_dir = served / self.base.strip("/") if self.base != "/" else served
        self.report = build_site(self.site_dir, self.out_dir)
        self.server = Server(served)
        self.site = Site(name, self.server.root, self.out_dir, self.base, self.report)

    def rebuild(self, public_keys: list[PublicKey]) -> BuildReport:
        """Build again into the same folder (the same origin, so the reader's storage stays)."""
        write_keys(self.site_dir, public_keys)
        return build_site(self.site_dir, self.out_dir)

    def close(self) -> None:
        self.server.close()


# ---------------------------------------------------------------------------------------------
# Readers.

def wait_for(page: Page, expression: str, timeout: float = 5.0, arg=None):
    """Poll `expression` with page.evaluate until it is truthy (wait_for_function flakes under this CSP)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = page.evaluate(expression, arg)
        except Exception as exc:   # a navigation replaced the page between two polls: try again
            if "context was destroyed" not in str(exc) and "navigat" not in str(exc):
                raise
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        page.wait_for_timeout(20)


class Reader(BrowserReader):
    """One reader of the subscribers' sites: tokens, storage and the events of each page."""

    def __init__(self, browser, init_scripts: tuple[str, ...] = (), **context_options):
        super().__init__(browser, (RECORDER, *init_scripts), **context_options)

    def read(self, url: str, settle: int = 150, **goto) -> dict:
        """Open url and return the detail of the last ssg:meter event, once a stored token's signature check
        has had `settle` ms to change the page's mind."""
        self.page.goto(url, **goto)
        if wait_for(self.page, f"window.__meter.length > 0 && (localStorage.getItem('{TOKEN}') ? 2 : 1)") == 2:
            self.page.wait_for_timeout(settle)
        return self.last_event()

    def last_event(self) -> dict:
        return self.page.evaluate("window.__meter[window.__meter.length - 1]")

    def events(self) -> list[dict]:
        return self.page.evaluate("window.__meter")

    def on_site(self, site: Site) -> None:
        """Be on a page of the site without a meter (storage is per origin)."""
        if not self.page.url.startswith(site.root):
            self.page.goto(site.url("/signin/"))

    def plant(self, site: Site, token: str | None) -> None:
        """Put a token straight into storage, as a script (or a hand) would, bypassing the account page."""
        self.on_site(site)
        self.page.evaluate("([k, v]) => v == null ? localStorage.removeItem(k) : localStorage.setItem(k, v)",
                           [TOKEN, token])

    def storage(self) -> dict[str, str]:
        return self.page.evaluate("Object.fromEntries(Object.entries(localStorage))")

    def token(self) -> str | None:
        return self.page.evaluate(f"localStorage.getItem('{TOKEN}')")

    def read_ids(self, key: str = READS) -> list[str]:
        raw = self.page.evaluate("(k) => localStorage.getItem(k)", key)
        return [] if raw is None else [entry[0] for entry in json.loads(raw)["r"]]
