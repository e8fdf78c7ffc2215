"""Paywall policy: which pages are metered, what the script is told, what feeds may carry."""
from __future__ import annotations

import gzip
import json

from .config import MeterConfig, SiteConfig
from .markup import TEASER_CUT
from .model import Document
from .theme import Theme

SCRIPT = "js/meter.js"  # the theme's static file a metered page loads


def is_metered(document: Document, meter: MeterConfig | None) -> bool:
    return meter is not None and document.is_article and document.metered


def script_settings(document: Document, config: SiteConfig) -> str:
    """The JSON the meter script reads from its own tag: no inline script, so a strict CSP holds."""
    meter = config.meter
    assert meter is not None
    messages = {key: meter.messages[key] for key in ("remaining_other", "remaining_one", "last")}
    return json.dumps({
        "id": config.base_path + document.path,
        "limit": meter.limit,
        "windowDays": meter.window_days,
        "period": meter.period,
        "timezone": config.timezone,
        "messages": messages,
    }, ensure_ascii=False, separators=(",", ":"))


def public_html(body: str, document: Document, meter: MeterConfig | None) -> str:
    """What may leave the page (feeds): the teaser of a metered article, or the whole body."""
    if not is_metered(document, meter):
        return body.replace(TEASER_CUT, "").strip()
    return body.split(TEASER_CUT, 1)[0].strip()  # stripped: an article too short for a cut reads the same


def script_size(theme: Theme) -> int | None:
    """Bytes of JavaScript on a metered page, gzipped (the report prints it: the budget is small)."""
    file = theme.static.get(SCRIPT)
    return len(gzip.compress(file.read_bytes(), 9)) if file else None
