"""Validating site.yaml: every key checked against its dataclass field, every error collected in one run."""
from __future__ import annotations

import difflib
import os
import re
import zoneinfo
from pathlib import Path
from string import Formatter
from typing import Any

from . import urls
from .config import (DEFAULT_MESSAGES, LARGEST_NUMBER, PERMALINK_FIELDS, AccessConfig, Allowance, AuthorInfo,
                     ImageConfig, MeterConfig, SiteConfig, defaults_of, keys_of, rule_of)
from .errors import SourceError, SsgError
from .folders import unsafe_entry
from .safe_yaml import clip, shown

_THEME_NAME = re.compile(r"[^\W][\w.-]*")  # one folder name: a theme name is never a path
_HOST = re.compile(r"(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*", re.I)

class SettingsCheck:
    """Validates one settings mapping, collecting every error instead of stopping at the first."""

    def __init__(self, path: str, lines: dict[str, int], site_dir: Path):
        self.path = path
        self.lines = lines
        self.site_dir = site_dir
        self.errors: list[SourceError] = []

    def fail(self, key: str, message: str) -> None:
        line = self.lines.get(key) or self.lines.get(key.rsplit(".", 1)[0], 1)
        self.errors.append(SourceError(self.path, line, clip(message)))

    def unknown(self, data: dict, allowed: tuple[str, ...], prefix: str = "") -> None:
        for key in data:
            if key not in allowed:
                hint = difflib.get_close_matches(str(key), allowed, n=1)
                suggestion = f" (did you mean '{prefix}{hint[0]}'?)" if hint else ""
                self.fail(f"{prefix}{key}", f"unknown key '{prefix}{key}'{suggestion}")

    def text(self, data: dict, key: str, default: str | None = None, prefix: str = "") -> str:
        value = data.get(key, default)
        if value is None:
            self.fail(prefix + key, f"'{prefix}{key}' is required")
            return ""
        if not isinstance(value, str) or not value.strip():
            self.fail(prefix + key, f"'{prefix}{key}' must be a non-empty text, got {shown(value)}")
            return default or ""
        return value

    def integer(self, settings: type, data: dict, key: str, prefix: str = "") -> int:
        default, minimum = defaults_of(settings)[key], rule_of(settings, key)["minimum"]
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.fail(prefix + key, f"'{prefix}{key}' must be a whole number >= {minimum}, got {shown(value)}")
            return default
        if value > LARGEST_NUMBER:
            self.fail(prefix + key, f"'{prefix}{key}' must be at most {LARGEST_NUMBER:,}, got {shown(value)}")
            return default
        return value

    def link(self, data: dict, key: str, default: str | None = None, prefix: str = "") -> str:
        value = self.text(data, key, default, prefix)
        if value and not urls.is_reader_link(value):
            self.fail(prefix + key, f"'{prefix}{key}' must be an http(s) URL like https://example.org/page "
                                    f"or a path on this site like /signin/, got {shown(value)}")
            return default or ""
        return value

    def site(self, data: dict) -> SiteConfig:
        self.unknown(data, keys_of(SiteConfig))
        defaults = defaults_of(SiteConfig)
        # An optional key left empty (`authors:`) means its default, as if it were not there.
        data = {key: value for key, value in data.items() if value is not None or key not in defaults}
        title = self.text(data, "title")
        base_url = self.text(data, "base_url")
        if base_url and not urls.is_reader_link(base_url, absolute=True):
            self.fail("base_url", "'base_url' must be an absolute http(s) URL like https://example.org/, "
                                  f"got {shown(base_url)}")
        timezone = self.text(data, "timezone", defaults["timezone"])
        try:
            zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            self.fail("timezone", f"'timezone' must be an IANA zone like Europe/London, got {shown(timezone)}")
            timezone = defaults["timezone"]
        theme = self.text(data, "theme", defaults["theme"])
        if not _THEME_NAME.fullmatch(theme):
            self.fail("theme", f"'theme' must be the name of a theme folder, like default, got {shown(theme)}")
            theme = defaults["theme"]
        permalink = self.text(data, "permalink", defaults["permalink"])
        self.check_permalink(permalink)
        sections = data.get("sections", list(defaults["sections"]))
        if not isinstance(sections, list) or not all(isinstance(s, str) for s in sections):
            self.fail("sections", "'sections' must be a list of section names")
            sections = []
        ignore = data.get("ignore", list(defaults["ignore"]))
        if not isinstance(ignore, list) or not all(isinstance(g, str) and g.strip() for g in ignore):
            self.fail("ignore", "'ignore' must be a list of file patterns under content/, like ['*.Rmd', 'drafts/']")
            ignore = []
        search = data.get("search", defaults["search"])
        if not isinstance(search, bool):
            self.fail("search", f"'search' must be true or false, got {shown(search)}")
            search = defaults["search"]
        description = data.get("description", defaults["description"])
        if not isinstance(description, str):
            self.fail("description", "'description' must be text")
            description = defaults["description"]
        return SiteConfig(
            title=title,
            base_url=base_url.rstrip("/") + "/",
            language=self.text(data, "language", defaults["language"]),
            theme=theme,
            permalink=permalink,
            paginate=self.integer(SiteConfig, data, "paginate"),
            timezone=timezone,
            description=description,
            authors=self.authors(data.get("authors", defaults["authors"])),
            sections=tuple(sections),
            ignore=tuple(g.strip() for g in ignore),
            meter=self.meter(data.get("meter", defaults["meter"])),
            access=self.access(data.get("access"), audience=base_url),
            images=self.images(data.get("images", True)),
            search=search,
        )

    def check_permalink(self, permalink: str) -> None:
        try:
            parts = list(Formatter().parse(permalink))
        except ValueError:  # "/{year/{slug}/": str.format would raise while writing the first article
            self.fail("permalink", f"'permalink' has a {{ or }} without its pair, got {shown(permalink)}; "
                                   "placeholders look like {slug}")
            return
        names = [name for _, name, _, _ in parts if name is not None]
        for _, name, spec, conversion in parts:
            if name is not None and (name not in PERMALINK_FIELDS or spec or conversion):
                placeholder = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
                self.fail("permalink", f"'permalink' has unknown placeholder {{{placeholder}}}; "
                                       f"use {', '.join('{' + f + '}' for f in PERMALINK_FIELDS)}")
        if "slug" not in names:
            self.fail("permalink", "'permalink' must contain {slug} so every article gets its own URL")
        if not permalink.startswith("/") or ".." in permalink.split("/"):
            self.fail("permalink", f"'permalink' must start with / and stay inside the site, got {shown(permalink)}")

    def authors(self, data: Any) -> dict[str, AuthorInfo]:
        if not isinstance(data, dict):
            self.fail("authors", "'authors' must map each author's name to {bio, url}")
            return {}
        authors = {}
        for name, info in data.items():
            prefix = f"authors.{name}."
            info = info or {}
            if not isinstance(info, dict):
                self.fail(f"authors.{name}", f"'authors.{name}' must be a mapping with 'bio' and 'url'")
                continue
            self.unknown(info, keys_of(AuthorInfo), prefix)
            defaults = defaults_of(AuthorInfo)
            authors[str(name)] = AuthorInfo(
                bio=self.text(info, "bio", defaults["bio"], prefix) if "bio" in info else defaults["bio"],
                url=self.link(info, "url", defaults["url"], prefix) if "url" in info else defaults["url"])
        return authors

    def meter(self, data: Any) -> MeterConfig | None:
        if data is None or data is False:
            return None
        if data is True:
            data = {}
        if not isinstance(data, dict):
            self.fail("meter", "'meter' must be a mapping of meter settings, or false to turn metering off")
            return None
        data = {key: value for key, value in data.items() if value is not None}
        p = "meter."
        self.unknown(data, keys_of(MeterConfig), p)
        defaults = defaults_of(MeterConfig)
        period = self.choice(MeterConfig, data, "period", p)
        messages = data.get("messages") or {}
        if not isinstance(messages, dict):
            self.fail(p + "messages", "'meter.messages' must map message names to texts")
            messages = {}
        self.unknown(messages, tuple(DEFAULT_MESSAGES), p + "messages.")
        merged = defaults["messages"]
        for key in DEFAULT_MESSAGES:
            if key in messages:
                merged[key] = self.text(messages, key, DEFAULT_MESSAGES[key], p + "messages.")
        return MeterConfig(
            limit=self.integer(MeterConfig, data, "limit", p),
            window_days=self.integer(MeterConfig, data, "window_days", p),
            period=period,
            teaser_paragraphs=self.integer(MeterConfig, data, "teaser_paragraphs", p),
            signin_url=self.link(data, "signin_url", defaults["signin_url"], p),
            subscribe_url=self.link(data, "subscribe_url", defaults["subscribe_url"], p),
            messages=merged,
            registered_limit=self.optional_integer(MeterConfig, data, "registered_limit", p),
            register_url=self.link(data, "register_url", None, p) if "register_url" in data else None,
            sections=self.allowances(data.get("sections", {})),
            exempt_referrers=self.hosts(data.get("exempt_referrers", [])),
            consent=self.choice(MeterConfig, data, "consent", p),
        )

    def images(self, data: Any) -> ImageConfig | None:
        """images: {widths: [480, 800, 1200], quality: 75}; `false` leaves images as they are."""
        if data is False:
            return None
        if data is True or data is None:
            data = {}
        if not isinstance(data, dict):
            self.fail("images", "'images' must be a mapping like {widths: [480, 800, 1200], quality: 75}, "
                                "or false to leave images as they are")
            return None
        self.unknown(data, keys_of(ImageConfig), "images.")
        defaults = defaults_of(ImageConfig)
        widths = data.get("widths", list(defaults["widths"]))
        low, high = rule_of(ImageConfig, "widths")["minimum"], rule_of(ImageConfig, "widths")["maximum"]
        if (not isinstance(widths, list) or not widths
                or not all(isinstance(w, int) and not isinstance(w, bool) and low <= w <= high for w in widths)):
            self.fail("images.widths", f"'images.widths' must be a list of pixel widths from {low} to {high}, "
                                       f"like [480, 800, 1200], got {shown(widths)}")
            widths = defaults["widths"]
        quality = data.get("quality", defaults["quality"])
        low, high = rule_of(ImageConfig, "quality")["minimum"], rule_of(ImageConfig, "quality")["maximum"]
        if isinstance(quality, bool) or not isinstance(quality, int) or not low <= quality <= high:
            self.fail("images.quality", f"'images.quality' must be a whole number from {low} to {high}, "
                                        f"got {shown(quality)}")
            quality = defaults["quality"]
        return ImageConfig(widths=tuple(sorted(set(widths))), quality=quality)

    def optional_integer(self, settings: type, data: dict, key: str, prefix: str = "") -> int | None:
        return self.integer(settings, data, key, prefix) if data.get(key) is not None else None

    def choice(self, settings: type, data: dict, key: str, prefix: str = "") -> Any:
        choices, value = rule_of(settings, key)["choices"], data.get(key, defaults_of(settings)[key])
        if value is not None and value not in choices:
            self.fail(prefix + key, f"'{prefix}{key}' must be {' or '.join(map(repr, choices))}, got {shown(value)}")
            return defaults_of(settings)[key]
        return value

    def allowances(self, data: Any) -> dict[str, Allowance]:
        """meter.sections: {Opinion: {limit: 1}}: reads in Opinion spend this allowance only."""
        if not isinstance(data, dict):
            self.fail("meter.sections", "'meter.sections' must map section names to {limit: N}")
            return {}
        allowances = {}
        for name, rules in data.items():
            prefix = f"meter.sections.{name}."
            if not isinstance(rules, dict) or "limit" not in rules:
                self.fail(f"meter.sections.{name}", f"'meter.sections.{name}' must be a mapping like {{limit: 1}}")
                continue
            self.unknown(rules, ("limit", "registered_limit"), prefix)
            limit = self.integer(Allowance, rules, "limit", prefix)
            registered = self.optional_integer(Allowance, rules, "registered_limit", prefix)
            allowances[str(name)] = Allowance(limit, limit if registered is None else registered,
                                              pool=urls.slugify(str(name)))
        return allowances

    def hosts(self, data: Any) -> tuple[str, ...]:
        """meter.exempt_referrers: host names like news.example.com (their subdomains are exempt too)."""
        if not isinstance(data, list) or not all(isinstance(h, str) and _HOST.fullmatch(h) for h in data):
            self.fail("meter.exempt_referrers", "'meter.exempt_referrers' must be a list of host names like "
                                                f"news.example.com, got {shown(data)}")
            return ()
        return tuple(host.lower() for host in data)

    def access(self, data: Any, audience: str) -> AccessConfig | None:
        """access: {issuer, keys}: tokens signed by the keys in the JWKS file `keys` are accepted."""
        if data is None:
            return None
        if not isinstance(data, dict):
            self.fail("access", "'access' must be a mapping with 'issuer' and 'keys'")
            return None
        self.unknown(data, ("issuer", "keys"), "access.")
        issuer = self.text(data, "issuer", None, "access.")
        keys = self.text(data, "keys", None, "access.")
        if not issuer or not keys:
            return None
        if keys.startswith("/") or ".." in keys.replace("\\", "/").split("/"):
            self.fail("access.keys", f"'access.keys' must be a file in the site folder, got {shown(keys)}")
            return None
        path = self.site_dir / keys
        why = unsafe_entry(str(path), os.path.realpath(self.site_dir)) if os.path.lexists(path) else None
        if why:
            self.fail("access.keys", f"'access.keys' {keys} {why}")
            return None
        from .access import load_keys  # here: cryptography is imported only by sites with sign-in

        try:
            public_keys = load_keys(path, keys)
        except SsgError as exc:
            for error in exc.errors:
                self.fail("access.keys", f"'access.keys' {error.path}: {error.message}")
            return None
        return AccessConfig(issuer, keys, audience, public_keys)
