"""Subscribers, build side: settings, keys and tokens, access levels, and nothing past the summary leaving
a page that is only for signed-in readers. The page scripts are tested in browsers (test_access_browser.py)."""
from __future__ import annotations

import base64
import json
import os
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path

import feedparser
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from conftest import NOW, article, build_site, jsonld, make_site, parse_html, read, run_cli
from ssg.access import add_public_key, generate_key, make_token, new_key_pair
from ssg.errors import BuildFailed, SsgError
from ssg.pipeline import BuildOptions, build

ACCESS_YAML = """\
title: Test Gazette
base_url: https://news.example.org/
timezone: UTC
meter:
  limit: 3
  registered_limit: 6
  register_url: /join/
  sections:
    Opinion: {limit: 1}
  exempt_referrers: [news.example.com]
  consent: required
access:
  issuer: https://members.example.org
  keys: access-keys.json
"""
BODY = "First paragraph, public.\n\nSecond paragraph, public.\n\nThird paragraph, for readers who may.\n"


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def access_site(tmp_path: Path, files: dict[str, str] | None = None, site_yaml: str = ACCESS_YAML) -> Path:
    site = make_site(tmp_path, files or {
        "content/news/open.md": article("Open", body=BODY),
        "content/news/members.md": article("Members", body=BODY, access="registered", summary="For members."),
        "content/news/paid.md": article("Paid", body=BODY, access="subscribers", summary="For subscribers."),
        "content/opinion/view.md": article("A view", body=BODY),
        "content/news/free.md": article("Free", body=BODY, access="free"),
    }, site_yaml)
    _, public = generate_key("k1")
    add_public_key(site / "access-keys.json", public)
    return site


def meter_settings(out: Path, name: str) -> dict:
    script = parse_html(out, name).xpath("//script[@data-meter]")
    return json.loads(script[0].get("data-meter")) if script else {}


def test_settings_reach_the_page_script(tmp_path: Path) -> None:
    out = build_site(access_site(tmp_path))
    keys = json.loads((tmp_path / "site" / "access-keys.json").read_text())["keys"]
    settings = meter_settings(out, "news/paid/index.html")
    assert settings["access"] == "subscribers" and settings["limit"] == 3 and settings["registeredLimit"] == 6
    assert settings["exempt"] == ["news.example.com"] and settings["consent"] is True and settings["pool"] is None
    assert settings["auth"] == {"iss": "https://members.example.org", "aud": "https://news.example.org/",
                                "keys": [{"kid": "k1", "x": keys[0]["x"], "y": keys[0]["y"]}]}
    opinion = meter_settings(out, "opinion/view/index.html")
    assert (opinion["pool"], opinion["limit"], opinion["registeredLimit"]) == ("opinion", 1, 1)
    assert meter_settings(out, "news/members/index.html")["access"] == "registered"
    assert meter_settings(out, "news/free/index.html") == {}  # free: no script at all


def test_wall_links_carry_the_way_back(tmp_path: Path) -> None:
    out = build_site(access_site(tmp_path))
    page = parse_html(out, "news/paid/index.html")
    signin = page.xpath("//a[@class='meter-signin']/@href")[0]
    assert signin == ("/signin/?return_to=https%3A%2F%2Fnews.example.org%2Faccount%2F"
                      "&next=https%3A%2F%2Fnews.example.org%2Fnews%2Fpaid%2F")
    assert page.xpath("//a[@class='meter-register']/@href")[0] == "/join/?next=https%3A%2F%2Fnews.example.org%2Fnews%2Fpaid%2F"
    assert page.xpath("//a[@class='meter-subscribe']/@href")[0] == "/subscribe/?next=https%3A%2F%2Fnews.example.org%2Fnews%2Fpaid%2F"
    messages = {p.get("data-meter-message"): p.text_content().strip() for p in page.xpath("//*[@data-meter-message]")}
    assert messages["subscribers"] == "This article is for subscribers."
    assert messages["expired"] == "Your sign-in has expired. Sign in again to keep reading."


def test_account_pages_are_built_only_with_access(tmp_path: Path) -> None:
    out = build_site(access_site(tmp_path))
    account = parse_html(out, "account/index.html")
    settings = json.loads(account.xpath("//script[@data-access]/@data-access")[0])
    assert settings["signout"] is False and settings["base"] == "/" and settings["aud"] == "https://news.example.org/"
    assert account.xpath("//*[@data-access-status]") and account.xpath("//meta[@name='robots']/@content") == ["noindex"]
    signout = parse_html(out, "account/signout/index.html")
    assert json.loads(signout.xpath("//script[@data-access]/@data-access")[0])["signout"] is True
    plain = build_site(make_site(tmp_path / "plain", {"content/news/a.md": article("A")}), tmp_path / "plain-out")
    assert not (plain / "account").exists()


def test_nothing_past_the_summary_leaves_a_members_page(tmp_path: Path) -> None:
    out = build_site(access_site(tmp_path))
    feed = feedparser.parse(read(out, "feed.xml"))
    content = {entry.title: entry.content[0].value for entry in feed.entries}
    for title in ("Paid", "Members"):
        assert "Second paragraph" not in content[title] and "First paragraph" not in content[title]
        assert "For " in content[title] and "Continue reading" in content[title]
    assert "First paragraph" in content["Open"] and "Third paragraph" not in content["Open"]  # metered: the teaser
    page = parse_html(out, "news/paid/index.html")
    assert page.xpath("//meta[@name='description']/@content") == ["For subscribers."]
    assert page.xpath("//meta[@property='og:description']/@content") == ["For subscribers."]
    data = jsonld(page)
    assert data["isAccessibleForFree"] is False and data["hasPart"]["isAccessibleForFree"] is False


@pytest.mark.parametrize("field, line, message", [
    ("access: members", 4, "'access' must be metered, free, registered, subscribers"),
    ("access: subscribers\nmetered: false", 5, "use 'access' alone"),
])
def test_bad_access_levels_name_their_line(tmp_path: Path, field: str, line: int, message: str) -> None:
    site = access_site(tmp_path, {"content/news/a.md": "---\ntitle: A\ndate: 2026-11-19\n" + field + "\n---\nBody.\n"})
    with pytest.raises(BuildFailed) as caught:
        build_site(site)
    assert str(caught.value.errors[0]).startswith(f"content/news/a.md:{line}: ") and message in str(caught.value.errors[0])


def test_members_articles_need_readers_who_can_sign_in(tmp_path: Path) -> None:
    site = make_site(tmp_path, {"content/news/a.md": article("A", access="subscribers")})
    with pytest.raises(BuildFailed) as caught:
        build_site(site)
    assert "needs readers who can sign in" in str(caught.value.errors[0])


def test_pages_are_always_free(tmp_path: Path) -> None:
    site = access_site(tmp_path, {"content/pages/about.md": "---\ntitle: About\naccess: subscribers\n---\nHi.\n"})
    with pytest.raises(BuildFailed) as caught:
        build_site(site)
    assert "pages are always free" in str(caught.value.errors[0])


@pytest.mark.parametrize("keys, message", [
    (None, "does not exist"),
    ("not json", "is not a JWKS file"),
    ('{"keys": []}', "non-empty 'keys' list"),
    ('{"keys": [{"kty": "RSA", "kid": "r", "n": "x", "e": "AQAB"}]}', "EC P-256"),
    ('{"keys": [{"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA", "kid": "bad"}]}', "not a valid P-256"),
])
def test_a_bad_keys_file_stops_the_build(tmp_path: Path, keys: str | None, message: str) -> None:
    site = make_site(tmp_path, {"content/news/a.md": article("A")}, ACCESS_YAML)
    if keys is not None:
        (site / "access-keys.json").write_text(keys)
    with pytest.raises(SsgError) as caught:
        build(BuildOptions(site_dir=site, out_dir=tmp_path / "out", now=NOW))
    error = str(caught.value.errors[0])
    assert error.startswith(f"{site / 'site.yaml'}:14: 'access.keys' access-keys.json") and message in error
    assert not (tmp_path / "out").exists()


def test_a_private_key_in_the_site_stops_the_build(tmp_path: Path) -> None:
    site = make_site(tmp_path, {"content/news/a.md": article("A")}, ACCESS_YAML)
    key, public = generate_key("k1")
    d = base64.urlsafe_b64encode(key.private_numbers().private_value.to_bytes(32, "big")).rstrip(b"=").decode()
    (site / "access-keys.json").write_text(json.dumps({"keys": [public.jwk() | {"d": d}]}))
    with pytest.raises(SsgError) as caught:
        build(BuildOptions(site_dir=site, out_dir=tmp_path / "out", now=NOW))
    assert "PRIVATE key" in str(caught.value.errors[0])


@pytest.mark.parametrize("yaml_text, message", [
    ("meter:\n  exempt_referrers: [https://x.org/]\n", "list of host names"),
    ("meter:\n  consent: maybe\n", "'meter.consent' must be 'required'"),
    ("meter:\n  sections: {Opinion: 1}\n", "must be a mapping like {limit: 1}"),
    ("meter:\n  register_url: 'javascript:alert(1)'\n", "'meter.register_url' must be an http(s) URL"),
    ("meter: {}\naccess:\n  issuer: https://m.example.org\n  keys: ../keys.json\n", "must be a file in the site folder"),
    ("meter: {}\naccess:\n  issuer: https://m.example.org\n", "'access.keys' is required"),
])
def test_new_settings_are_checked_at_the_edge(tmp_path: Path, yaml_text: str, message: str) -> None:
    site = make_site(tmp_path, {"content/news/a.md": article("A")},
                     "title: T\nbase_url: https://news.example.org/\n" + yaml_text)
    with pytest.raises(SsgError) as caught:
        build(BuildOptions(site_dir=site, out_dir=tmp_path / "out", now=NOW))
    assert any(message in str(e) and ":0:" not in str(e) for e in caught.value.errors), caught.value.errors


def test_keys_new_then_token_through_the_cli(tmp_path: Path) -> None:
    site = make_site(tmp_path, {"content/news/a.md": article("A")}, ACCESS_YAML)
    key_file = tmp_path / "secret" / "signing.pem"
    key_file.parent.mkdir()
    made = run_cli("keys", "new", "--private-key", str(key_file), "--site", str(site), "--kid", "2026-11")
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    jwks = json.loads((site / "access-keys.json").read_text())
    assert [k["kid"] for k in jwks["keys"]] == ["2026-11"] and "d" not in jwks["keys"][0]

    issued = run_cli("token", "--private-key", str(key_file), "--tier", "subscriber", "--sub", "reader-7",
                     "--days", "2", "--site", str(site))
    assert issued.returncode == 0, issued.stderr
    token, url = issued.stdout.split()
    assert url == f"https://news.example.org/account/#token={token}"
    header, claims, signature = token.split(".")
    assert json.loads(unb64(header)) == {"alg": "ES256", "typ": "JWT", "kid": "2026-11"}
    claims = json.loads(unb64(claims))
    assert (claims["iss"], claims["aud"], claims["sub"], claims["tier"]) == (
        "https://members.example.org", "https://news.example.org/", "reader-7", "subscriber")
    assert claims["exp"] - claims["iat"] == 2 * 86400
    # The signature verifies with the published public key (raw r||s, as JWS has it), and only for these bytes.
    jwk = jwks["keys"][0]
    public = ec.EllipticCurvePublicNumbers(int.from_bytes(unb64(jwk["x"]), "big"), int.from_bytes(unb64(jwk["y"]), "big"),
                                           ec.SECP256R1()).public_key()
    raw = unb64(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public.verify(der, f"{token.split('.')[0]}.{token.split('.')[1]}".encode(), ec.ECDSA(hashes.SHA256()))
    with pytest.raises(InvalidSignature):
        public.verify(der, b"something else", ec.ECDSA(hashes.SHA256()))


def test_keys_new_refuses_to_publish_the_private_key(tmp_path: Path) -> None:
    site = make_site(tmp_path, {"content/news/a.md": article("A")}, ACCESS_YAML)
    for inside in ("content/key.pem", "themes/default/key.pem", "_site/key.pem"):
        result = run_cli("keys", "new", "--private-key", str(site / inside), "--site", str(site))
        assert result.returncode == 1 and "must never be inside" in result.stderr
        assert not (site / inside).exists() and not (site / "access-keys.json").exists()
    result = run_cli("keys", "new", "--private-key", str(site / "key.pem"), "--site", str(site))
    assert result.returncode == 0 and "warning: " in result.stdout and "never commit it" in result.stdout


def test_token_refuses_a_key_the_site_does_not_know(tmp_path: Path) -> None:
    site = access_site(tmp_path)
    pem, _ = new_key_pair("stranger")
    (tmp_path / "stranger.pem").write_bytes(pem)
    result = run_cli("token", "--private-key", str(tmp_path / "stranger.pem"), "--tier", "subscriber", "--sub", "x",
                     "--site", str(site))
    assert result.returncode == 1 and "its public key is not in access-keys.json" in result.stderr
    result = run_cli("token", "--private-key", str(tmp_path / "stranger.pem"), "--tier", "gold", "--sub", "x",
                     "--site", str(site))
    assert result.returncode == 1 and "must be registered or subscriber" in result.stderr


def test_make_token_expiry_and_claims() -> None:
    key, _ = generate_key("k")
    when = datetime(2026, 11, 1, tzinfo=timezone.utc)
    token = make_token(key, "k", "https://i.example", "https://a.example/", "s", "registered", when, timedelta(hours=1))
    claims = json.loads(unb64(token.split(".")[1]))
    assert claims["iat"] == int(when.timestamp()) and claims["exp"] == claims["iat"] + 3600


def test_the_build_prints_both_script_weights(tmp_path: Path) -> None:
    site = access_site(tmp_path)
    result = run_cli("build", "--site", str(site))
    assert result.returncode == 0, result.stderr
    sizes = dict(line.split(": ", 1) for line in result.stdout.splitlines() if "bytes gzipped" in line)
    assert int(sizes["meter script"].split()[0]) <= 2560
    assert int(sizes["account page verifier"].split()[0]) <= 2048


def test_the_audience_is_base_url_as_written(tmp_path: Path) -> None:
    site = access_site(tmp_path, site_yaml=ACCESS_YAML.replace("https://news.example.org/", "https://news.example.org"))
    out = build_site(site)
    assert meter_settings(out, "news/paid/index.html")["auth"]["aud"] == "https://news.example.org"
    account = json.loads(parse_html(out, "account/index.html").xpath("//script[@data-access]/@data-access")[0])
    assert (account["aud"], account["site"], account["base"]) == ("https://news.example.org", "https://news.example.org/", "/")
