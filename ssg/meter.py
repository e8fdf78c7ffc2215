"""Paywall policy: which pages are metered, what the script is told, what feeds may carry."""
from __future__ import annotations

import gzip
import json
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import rjsmin

from . import urls
from .config import MeterConfig, SiteConfig
from .markup import TEASER_CUT
from .model import Document
from .theme import Theme

SCRIPT = "js/meter.js"             # the theme's static file a metered page loads
ACCOUNT_SCRIPT = "js/account.js"   # the account page's token verifier
ACCOUNT_PATH = "/account/"
SIGNOUT_PATH = "/account/signout/"


def is_metered(document: Document, meter: MeterConfig | None) -> bool:
    """The meter script decides who reads this article in full (any access but free, while the meter is on)."""
    return meter is not None and document.is_article and document.access != "free"


def is_for_members(document: Document, meter: MeterConfig | None) -> bool:
    """Only signed-in readers (of a tier) read it in full: nothing past its summary leaves the page."""
    return is_metered(document, meter) and document.access in ("registered", "subscribers")


def script_settings(document: Document, config: SiteConfig) -> str:
    """The JSON the meter script reads from its own tag: no inline script, so a strict CSP holds."""
    meter = config.meter
    assert meter is not None
    allowance = meter.allowance(document.section)
    messages = {key: meter.messages[key] for key in ("remaining_other", "remaining_one", "last")}
    return json.dumps({
        "id": config.base_path + document.path,
        "limit": allowance.limit,
        "registeredLimit": allowance.registered_limit,
        "windowDays": meter.window_days,
        "period": meter.period,
        "timezone": config.timezone,
        "messages": messages,
        "access": document.access,
        "pool": allowance.pool,
        "exempt": list(meter.exempt_referrers),
        "consent": meter.consent == "required",
        "auth": token_rules(config),
    }, ensure_ascii=False, separators=(",", ":"))


def token_rules(config: SiteConfig) -> dict | None:
    """What a page checks a stored token against: issuer, audience and this build's keys."""
    if config.access is None:
        return None
    return {"iss": config.access.issuer, "aud": config.access.audience,
            "keys": [{"kid": key.kid, "x": key.x, "y": key.y} for key in config.access.public_keys]}


def account_settings(config: SiteConfig, signout: bool) -> str:
    """The JSON the account page's script reads: the token rules, where to go, what to say (account
    pages are built only for sites with a meter)."""
    meter = config.meter
    assert meter is not None
    return json.dumps({
        **token_rules(config), "base": config.base_path + "/", "site": config.base_url, "signout": signout,
        "signin": with_query(urls.link(config.base_path, meter.signin_url), return_to=account_url(config)),
        "messages": {
            "none": "No sign-in link was given.", "invalid": "This sign-in link is not valid.",
            "expired": "This sign-in link has expired.", "unstored": "This browser would not keep the sign-in.",
            "signin": meter.messages["paywall"],
        },
    }, ensure_ascii=False, separators=(",", ":"))


def account_url(config: SiteConfig) -> str:
    return urls.absolute(config.base_url, urls.link(config.base_path, ACCOUNT_PATH))


def wall_links(document: Document, config: SiteConfig) -> dict[str, str]:
    """Where a wall sends the reader: sign in (and come back to the account page, then this article),
    register or subscribe; each link carries the article's URL as `next`."""
    meter = config.meter
    assert meter is not None
    here = urls.absolute(config.base_url, urls.link(config.base_path, document.path))
    signin = urls.link(config.base_path, meter.signin_url)
    signin = with_query(signin, return_to=account_url(config), next=here) if config.access else with_query(signin, next=here)
    return {"signin": signin,
            "register": with_query(urls.link(config.base_path, meter.register_url or meter.signin_url), next=here),
            "subscribe": with_query(urls.link(config.base_path, meter.subscribe_url), next=here)}


def with_query(url: str, **values: str) -> str:
    """`url` with `values` added to its query string (existing parameters kept)."""
    parts = urlsplit(url)
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *values.items()])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def public_html(body: str, document: Document, meter: MeterConfig | None) -> str:
    """What may leave the page (feeds): the whole body, the teaser of a metered article, or nothing past
    the summary for an article for signed-in readers."""
    if not is_metered(document, meter):
        return body.replace(TEASER_CUT, "").strip()
    if is_for_members(document, meter):
        return ""
    return body.split(TEASER_CUT, 1)[0].strip()  # stripped: an article too short for a cut reads the same


def script_size(theme: Theme, name: str = SCRIPT) -> int | None:
    """Bytes of a theme script as served, gzipped (the report prints it: the budget is small)."""
    file = theme.static.get(name)
    return len(gzip.compress(minified(name, file.read_bytes()), 9)) if file else None


def minified(name: str, data: bytes) -> bytes:
    """Theme JavaScript is served without comments and indentation (rjsmin only removes those, so the
    code itself is exactly what the theme wrote); other files are copied as they are."""
    if not name.endswith(".js"):
        return data
    return rjsmin.jsmin(data.decode("utf-8")).encode("utf-8")
