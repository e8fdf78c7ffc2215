"""Read site.yaml once, validate every key, and hand the rest of the build typed settings."""
from __future__ import annotations

import zoneinfo
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any, TYPE_CHECKING
from urllib.parse import urlsplit

from .errors import SourceError, SsgError
from .folders import CONFIG_FILE
from .safe_yaml import load_yaml

if TYPE_CHECKING:  # cryptography is imported only by sites that let readers sign in
    from .access import PublicKey

PERMALINK_FIELDS = ("section", "slug", "year", "month", "day")
# Larger settings mean nothing (a paywall after a million articles is no paywall), and the meter
# script does date arithmetic with window_days, which must stay well inside what JavaScript dates hold.
LARGEST_NUMBER = 1_000_000

DEFAULT_MESSAGES = {
    "remaining_other": "You have {n} articles remaining.",
    "remaining_one": "You have 1 article remaining.",
    "last": "This is your last free article.",
    "paywall": "Sign in here to read more.",
    "subscribe": "Subscribe",
    "register": "Register to keep reading.",
    "subscribers": "This article is for subscribers.",
    "expired": "Your sign-in has expired. Sign in again to keep reading.",
}
ACCESS_LEVELS = ("metered", "free", "registered", "subscribers")  # front matter `access:`


# Each setting is declared once, here: its name is a key of site.yaml, its default is the value when the
# key is absent, and metadata holds the rest of its rule (the smallest whole number, the allowed words).

@dataclass(frozen=True, slots=True)
class AuthorInfo:
    bio: str = ""
    url: str = ""


@dataclass(frozen=True, slots=True)
class MeterConfig:
    limit: int = field(default=5, metadata={"minimum": 0})
    window_days: int = field(default=30, metadata={"minimum": 1})
    period: str = field(default="rolling", metadata={"choices": ("rolling", "month")})
    teaser_paragraphs: int = field(default=2, metadata={"minimum": 0})
    signin_url: str = "/signin/"
    subscribe_url: str = "/subscribe/"
    messages: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_MESSAGES))
    registered_limit: int | None = field(default=None, metadata={"minimum": 0})  # None: `limit`
    register_url: str | None = None                                              # None: `signin_url`
    sections: dict[str, Allowance] = field(default_factory=dict)                 # by section name
    exempt_referrers: tuple[str, ...] = ()
    consent: str | None = field(default=None, metadata={"choices": ("required",)})

    def allowance(self, section: str) -> Allowance:
        """What an article of `section` counts against: its section's own allowance, or the site's."""
        return self.sections.get(section) or Allowance(self.limit, self.registered_limit
                                                       if self.registered_limit is not None else self.limit)


@dataclass(frozen=True, slots=True)
class Allowance:
    limit: int = field(default=5, metadata={"minimum": 0})
    registered_limit: int | None = field(default=None, metadata={"minimum": 0})
    pool: str | None = None  # the storage name of a section's own allowance; None for the site's


@dataclass(frozen=True, slots=True)
class ImageConfig:
    """Resized copies of local images (see images.py). The widths suit phones at 1x-3x and the default theme's
    1024 px lead picture; quality 75 keeps a 480 px WebP of a news photo near 8 KB."""
    widths: tuple[int, ...] = field(default=(480, 800, 1200), metadata={"minimum": 16, "maximum": 8192})
    quality: int = field(default=75, metadata={"minimum": 1, "maximum": 100})


@dataclass(frozen=True, slots=True)
class AccessConfig:
    issuer: str
    keys: str                            # the JWKS file, relative to the site folder
    audience: str = ""                   # every token's `aud`: base_url exactly as site.yaml (or --base-url) has it
    public_keys: tuple[PublicKey, ...] = ()


@dataclass(frozen=True, slots=True)
class SiteConfig:
    title: str
    base_url: str  # always ends with "/"
    language: str = "en"
    theme: str = "default"
    permalink: str = "/{section}/{slug}/"
    paginate: int = field(default=10, metadata={"minimum": 1})
    timezone: str = "UTC"
    description: str = ""
    authors: dict[str, AuthorInfo] = field(default_factory=dict)
    sections: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()  # globs of files under content/ that are not inputs ("*.Rmd", "drafts/")
    meter: MeterConfig | None = None
    access: AccessConfig | None = None
    search: bool = False  # a search page and a Pagefind index of what every reader may read (see search.py)
    images: ImageConfig | None = field(default_factory=ImageConfig)  # None: `images: false`, images as they are

    @property
    def base_path(self) -> str:
        """The path part of base_url without its trailing slash: "" or "/project"."""
        return urlsplit(self.base_url).path.rstrip("/")

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


def keys_of(cls: type) -> tuple[str, ...]:
    """The keys site.yaml may use for a settings class: its fields."""
    return tuple(f.name for f in fields(cls))


def defaults_of(cls: type) -> dict[str, Any]:
    """The default of each optional setting of a class, as its field declares it."""
    return {f.name: f.default_factory() if f.default_factory is not MISSING else f.default
            for f in fields(cls) if f.default is not MISSING or f.default_factory is not MISSING}


def rule_of(cls: type, name: str) -> dict[str, Any]:
    return next(f.metadata for f in fields(cls) if f.name == name)


def load_config(site_dir: Path, base_url: str | None = None) -> SiteConfig:
    """Parse and validate site_dir/site.yaml; raise SsgError listing every bad key."""
    path = site_dir / CONFIG_FILE
    if not path.is_file():
        raise SsgError(SourceError(str(path), 0, "no site.yaml here; run `ssg init DIR` to start a site"))
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SsgError(SourceError(str(path), 0, f"cannot read site.yaml: {exc.strerror}")) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise SsgError(SourceError(str(path), line, f"not UTF-8 text ({exc.reason} at byte {exc.start}); "
                                                    "save site.yaml as UTF-8")) from None
    document = load_yaml(text, str(path))
    data = {} if document.data is None else document.data
    if not isinstance(data, dict):
        raise SsgError(SourceError(str(path), 1, "site.yaml must be a mapping of settings"))
    if base_url is not None:
        data["base_url"] = base_url
    from .config_check import SettingsCheck  # it builds the dataclasses above

    checker = SettingsCheck(str(path), document.lines, site_dir)
    config = checker.site(data)
    if checker.errors:
        raise SsgError(checker.errors)
    return config
