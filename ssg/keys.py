"""`ssg keys new` and `ssg token`: the publisher's tools for sign-in keys and tokens (see access.py)."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from pathlib import Path

from .access import TIERS, add_public_key, kid_of, make_token, new_key_pair, read_private_key, write_private_key
from .config import load_config
from .errors import SourceError, SsgError
from .folders import CONFIG_FILE, CONTENT_DIR, OUTPUT_DIR, THEMES_DIR
from .meter import account_url
from .safe_yaml import load_yaml

DEFAULT_KEYS_FILE = "access-keys.json"


def keys_file(site_dir: Path) -> str:
    """site.yaml's access.keys, read without loading the keys (the file may not exist yet)."""
    path = site_dir / CONFIG_FILE
    try:
        data = load_yaml(path.read_text(encoding="utf-8"), str(path)).data
    except OSError as exc:
        raise SsgError(SourceError(str(path), 0, f"cannot read site.yaml: {exc.strerror}")) from None
    access = data.get("access") if isinstance(data, dict) else None
    keys = access.get("keys") if isinstance(access, dict) else None
    return keys if isinstance(keys, str) and keys.strip() else DEFAULT_KEYS_FILE


def new_keys(site_dir: Path, private_key: Path, kid: str | None, today: datetime) -> list[str]:
    """Make a key pair: the public half goes into the site's keys file, the private half to `private_key`.
    Returns what to tell the publisher."""
    site, target = site_dir.resolve(), private_key.resolve()
    for folder in (CONTENT_DIR, THEMES_DIR, OUTPUT_DIR):
        if target.is_relative_to(site / folder):
            raise SsgError(SourceError(str(private_key), 0, f"a private key must never be inside {folder}/: it "
                                                            "would be published; keep it outside the site folder"))
    if private_key.exists():
        raise SsgError(SourceError(str(private_key), 0, "already exists; choose a new file for the private key"))
    kid = kid or f"{today:%Y-%m-%d}-{secrets.token_hex(3)}"
    pem, public = new_key_pair(kid)
    keys = keys_file(site_dir)
    add_public_key(site_dir / keys, public)
    write_private_key(private_key, pem)
    said = [f"added public key '{kid}' to {site_dir / keys}", f"wrote the private key to {private_key} (mode 0600)"]
    if target.is_relative_to(site):
        said.append(f"warning: {private_key} is inside the site folder; never commit it (move it out, or "
                    "list it in .gitignore)")
    if keys == DEFAULT_KEYS_FILE:
        said.append(f"add to site.yaml:  access: {{issuer: https://YOUR-SIGN-IN-SERVICE, keys: {keys}}}")
    return said


def new_token(site_dir: Path, private_key: Path, tier: str, subject: str, days: float, now: datetime) -> tuple[str, str]:
    """A token for `subject` signed with `private_key`, and the account page URL that carries it."""
    if tier not in TIERS:
        raise SsgError(SourceError("--tier", 0, f"must be {' or '.join(TIERS)}, got {tier!r}"))
    if not days > 0:
        raise SsgError(SourceError("--days", 0, f"must be more than 0, got {days}"))
    config = load_config(site_dir)
    if config.access is None:
        raise SsgError(SourceError(str(site_dir / CONFIG_FILE), 0, "has no 'access:' (issuer and keys); "
                                                                   "run `ssg keys new` first"))
    key = read_private_key(private_key)
    kid = kid_of(key, config.access.public_keys)
    if kid is None:
        raise SsgError(SourceError(str(private_key), 0, f"its public key is not in {config.access.keys}; "
                                                        "tokens it signs would be refused"))
    token = make_token(key, kid, config.access.issuer, config.access.audience, subject, tier, now, timedelta(days=days))
    return token, f"{account_url(config)}#token={token}"


