"""Read site.yaml once, validate every key, and hand the rest of the build typed settings."""
from __future__ import annotations

import difflib
import re
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from .errors import SourceError, SsgError

CONFIG_NAME = "site.yaml"
PERMALINK_FIELDS = ("section", "slug", "year", "month", "day")

DEFAULT_MESSAGES = {
    "remaining_other": "You have {n} articles remaining.",
    "remaining_one": "You have 1 article remaining.",
    "last": "This is your last free article.",
    "paywall": "Sign in here to read more.",
    "subscribe": "Subscribe",
}


class YamlLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when present: same result, faster
    """Safe YAML where an impossible date like 2026-02-30 stays text instead of raising ValueError,
    so the field check reports it with its key and line rather than a traceback."""


def _timestamp_or_text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return loader.construct_scalar(node)


YamlLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)


@dataclass(frozen=True, slots=True)
class AuthorInfo:
    bio: str = ""
    url: str = ""


@dataclass(frozen=True, slots=True)
class MeterConfig:
    limit: int = 5
    window_days: int = 30
    period: str = "rolling"
    teaser_paragraphs: int = 2
    signin_url: str = "/signin/"
    subscribe_url: str = "/subscribe/"
    messages: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_MESSAGES))


@dataclass(frozen=True, slots=True)
class SiteConfig:
    title: str
    base_url: str  # always ends with "/"
    language: str = "en"
    theme: str = "default"
    permalink: str = "/{section}/{slug}/"
    paginate: int = 10
    timezone: str = "UTC"
    description: str = ""
    authors: dict[str, AuthorInfo] = field(default_factory=dict)
    sections: tuple[str, ...] = ()
    meter: MeterConfig | None = None

    @property
    def base_path(self) -> str:
        """The path part of base_url without its trailing slash: "" or "/project"."""
        return urlsplit(self.base_url).path.rstrip("/")

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


def load_config(site_dir: Path, base_url: str | None = None) -> SiteConfig:
    """Parse and validate site_dir/site.yaml; raise SsgError listing every bad key."""
    path = site_dir / CONFIG_NAME
    if not path.is_file():
        raise SsgError(SourceError(str(path), 0, "no site.yaml here; run `ssg init DIR` to start a site"))
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.load(text, Loader=YamlLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 0
        raise SsgError(SourceError(str(path), line, f"invalid YAML: {getattr(exc, 'problem', exc)}")) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SsgError(SourceError(str(path), 1, "site.yaml must be a mapping of settings"))
    if base_url is not None:
        data["base_url"] = base_url
    checker = _Checker(str(path), _key_lines(node))
    config = checker.site(data)
    if checker.errors:
        raise SsgError(checker.errors)
    return config


def _key_lines(node: Any, prefix: str = "") -> dict[str, int]:
    """Map dotted keys ("meter.limit") to their 1-based line in the YAML source."""
    lines: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = f"{prefix}{key_node.value}"
            lines[key] = key_node.start_mark.line + 1
            lines.update(_key_lines(value_node, key + "."))
    return lines


class _Checker:
    """Validates one settings mapping, collecting every error instead of stopping at the first."""

    def __init__(self, path: str, lines: dict[str, int]):
        self.path = path
        self.lines = lines
        self.errors: list[SourceError] = []

    def fail(self, key: str, message: str) -> None:
        line = self.lines.get(key) or self.lines.get(key.rsplit(".", 1)[0], 1)
        self.errors.append(SourceError(self.path, line, message))

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
            self.fail(prefix + key, f"'{prefix}{key}' must be a non-empty text, got {value!r}")
            return default or ""
        return value

    def integer(self, data: dict, key: str, default: int, minimum: int, prefix: str = "") -> int:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.fail(prefix + key, f"'{prefix}{key}' must be a whole number >= {minimum}, got {value!r}")
            return default
        return value

    def site(self, data: dict) -> SiteConfig:
        allowed = ("title", "base_url", "language", "theme", "permalink", "paginate", "timezone",
                   "description", "authors", "sections", "meter")
        self.unknown(data, allowed)
        # An optional key left empty (`authors:`) means its default, as if it were not there.
        data = {key: value for key, value in data.items() if value is not None or key in ("title", "base_url")}
        title = self.text(data, "title")
        base_url = self.text(data, "base_url")
        parts = urlsplit(base_url)
        if base_url and (parts.scheme not in ("http", "https") or not parts.netloc):
            self.fail("base_url", f"'base_url' must be an absolute http(s) URL like https://example.org/, got {base_url!r}")
        timezone = self.text(data, "timezone", "UTC")
        try:
            zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            self.fail("timezone", f"'timezone' must be an IANA zone like Europe/London, got {timezone!r}")
            timezone = "UTC"
        permalink = self.text(data, "permalink", "/{section}/{slug}/")
        self.check_permalink(permalink)
        sections = data.get("sections", [])
        if not isinstance(sections, list) or not all(isinstance(s, str) for s in sections):
            self.fail("sections", "'sections' must be a list of section names")
            sections = []
        description = data.get("description", "")
        if not isinstance(description, str):
            self.fail("description", "'description' must be text")
            description = ""
        return SiteConfig(
            title=title,
            base_url=base_url.rstrip("/") + "/",
            language=self.text(data, "language", "en"),
            theme=self.text(data, "theme", "default"),
            permalink=permalink,
            paginate=self.integer(data, "paginate", 10, 1),
            timezone=timezone,
            description=description,
            authors=self.authors(data.get("authors", {})),
            sections=tuple(sections),
            meter=self.meter(data.get("meter")),
        )

    def check_permalink(self, permalink: str) -> None:
        names = re.findall(r"{([^}]*)}", permalink)
        for name in names:
            if name not in PERMALINK_FIELDS:
                self.fail("permalink", f"'permalink' has unknown placeholder {{{name}}}; "
                                       f"use {', '.join('{' + f + '}' for f in PERMALINK_FIELDS)}")
        if "slug" not in names:
            self.fail("permalink", "'permalink' must contain {slug} so every article gets its own URL")
        if not permalink.startswith("/") or ".." in permalink.split("/"):
            self.fail("permalink", f"'permalink' must start with / and stay inside the site, got {permalink!r}")

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
            self.unknown(info, ("bio", "url"), prefix)
            authors[str(name)] = AuthorInfo(bio=self.text(info, "bio", "", prefix) if "bio" in info else "",
                                            url=self.text(info, "url", "", prefix) if "url" in info else "")
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
        self.unknown(data, ("limit", "window_days", "period", "teaser_paragraphs", "signin_url",
                            "subscribe_url", "messages"), p)
        period = data.get("period", "rolling")
        if period not in ("rolling", "month"):
            self.fail(p + "period", f"'meter.period' must be 'rolling' or 'month', got {period!r}")
            period = "rolling"
        messages = data.get("messages") or {}
        if not isinstance(messages, dict):
            self.fail(p + "messages", "'meter.messages' must map message names to texts")
            messages = {}
        self.unknown(messages, tuple(DEFAULT_MESSAGES), p + "messages.")
        merged = dict(DEFAULT_MESSAGES)
        for key in DEFAULT_MESSAGES:
            if key in messages:
                merged[key] = self.text(messages, key, DEFAULT_MESSAGES[key], p + "messages.")
        return MeterConfig(
            limit=self.integer(data, "limit", 5, 0, p),
            window_days=self.integer(data, "window_days", 30, 1, p),
            period=period,
            teaser_paragraphs=self.integer(data, "teaser_paragraphs", 2, 0, p),
            signin_url=self.text(data, "signin_url", "/signin/", p),
            subscribe_url=self.text(data, "subscribe_url", "/subscribe/", p),
            messages=merged,
        )
