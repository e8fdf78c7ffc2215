"""site.yaml: every setting validated once, every mistake reported with its key and line."""
from __future__ import annotations

from pathlib import Path

import pytest

from ssg.config import DEFAULT_MESSAGES, MeterConfig, SiteConfig, load_config
from ssg.errors import SsgError

MINIMAL = "title: Gazette\nbase_url: https://news.example.org/\n"


def config_errors(tmp_path: Path, text: str) -> list[str]:
    """The errors load_config reports for `text`, as `site.yaml:LINE: message` (the folder left out)."""
    (tmp_path / "site.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(SsgError) as caught:
        load_config(tmp_path)
    prefix = str(tmp_path) + "/"
    messages = [str(error) for error in caught.value.errors]
    assert all(m.startswith(prefix + "site.yaml") for m in messages), messages
    return [m[len(prefix):] for m in messages]


def load(tmp_path: Path, text: str, **kwargs):
    (tmp_path / "site.yaml").write_text(text, encoding="utf-8")
    return load_config(tmp_path, **kwargs)


def test_minimal_site_gets_the_documented_defaults(tmp_path):
    config = load(tmp_path, MINIMAL)
    assert (config.title, config.base_url) == ("Gazette", "https://news.example.org/")
    assert (config.language, config.theme, config.permalink) == ("en", "default", "/{section}/{slug}/")
    assert (config.paginate, config.timezone) == (10, "UTC")
    assert config.authors == {}
    assert config.meter is None
    assert config.base_path == ""


def test_full_settings_are_read(tmp_path):
    config = load(tmp_path, """\
title: Gazette
base_url: https://host.example/project
language: ko
theme: default
permalink: /{year}/{month}/{day}/{slug}/
paginate: 3
timezone: Asia/Seoul
authors:
  Jane Doe:
    bio: Covers the city.
    url: https://jane.example/
  Kim Min-jun:
meter:
  limit: 0
  window_days: 7
  teaser_paragraphs: 0
  signin_url: /login/
  subscribe_url: /join/
  messages:
    paywall: Log in to keep reading.
""")
    assert config.base_url == "https://host.example/project/"  # a trailing slash is added
    assert config.base_path == "/project"
    assert (config.language, config.paginate, config.timezone) == ("ko", 3, "Asia/Seoul")
    assert config.permalink == "/{year}/{month}/{day}/{slug}/"
    assert config.authors["Jane Doe"].bio == "Covers the city."
    assert config.authors["Jane Doe"].url == "https://jane.example/"
    assert config.authors["Kim Min-jun"].bio == ""
    meter = config.meter
    assert (meter.limit, meter.window_days, meter.teaser_paragraphs) == (0, 7, 0)
    assert (meter.signin_url, meter.subscribe_url) == ("/login/", "/join/")
    assert meter.messages["paywall"] == "Log in to keep reading."
    assert meter.messages["subscribe"] == DEFAULT_MESSAGES["subscribe"]  # the others keep their defaults


@pytest.mark.parametrize("text, expected", [
    ("base_url: https://x.org/\n", "site.yaml:1: 'title' is required"),
    ("title: Gazette\n", "site.yaml:1: 'base_url' is required"),
])
def test_each_required_key(tmp_path, text, expected):
    assert config_errors(tmp_path, text) == [expected]


def test_an_empty_site_yaml_names_both_required_keys(tmp_path):
    errors = config_errors(tmp_path, "")
    assert [e.split(": ", 1)[1] for e in errors] == ["'title' is required", "'base_url' is required"]


@pytest.mark.parametrize("line, expected", [
    ("paginate: ten", "site.yaml:3: 'paginate' must be a whole number >= 1, got 'ten'"),
    ("paginate: 0", "site.yaml:3: 'paginate' must be a whole number >= 1, got 0"),
    ("paginate: true", "site.yaml:3: 'paginate' must be a whole number >= 1, got True"),
    ("timezone: Mars/Olympus", "site.yaml:3: 'timezone' must be an IANA zone like Europe/London, got 'Mars/Olympus'"),
    ("language: 5", "site.yaml:3: 'language' must be a non-empty text, got 5"),
    ("authors: [Jane]", "site.yaml:3: 'authors' must map each author's name to {bio, url}"),
    ("sections: News", "site.yaml:3: 'sections' must be a list of section names"),
    ("description: [a]", "site.yaml:3: 'description' must be text"),
    ("meter: 3", "site.yaml:3: 'meter' must be a mapping of meter settings, or false to turn metering off"),
])
def test_wrong_types_name_the_key_and_its_line(tmp_path, line, expected):
    assert config_errors(tmp_path, MINIMAL + line + "\n") == [expected]


def test_title_of_the_wrong_type(tmp_path):
    errors = config_errors(tmp_path, "# The site\n\ntitle: [not, text]\nbase_url: https://x.org/\n")
    assert errors == ["site.yaml:3: 'title' must be a non-empty text, got ['not', 'text']"]


def test_base_url_must_be_absolute(tmp_path):
    errors = config_errors(tmp_path, "title: Gazette\nbase_url: example.org\n")
    assert errors == ["site.yaml:2: 'base_url' must be an absolute http(s) URL like https://example.org/, "
                      "got 'example.org'"]


def test_unknown_key_suggests_the_close_one(tmp_path):
    errors = config_errors(tmp_path, MINIMAL + "\npaginte: 5\n")
    assert errors == ["site.yaml:4: unknown key 'paginte' (did you mean 'paginate'?)"]


def test_unknown_key_without_a_close_match_has_no_suggestion(tmp_path):
    assert config_errors(tmp_path, MINIMAL + "colour: blue\n") == ["site.yaml:3: unknown key 'colour'"]


def test_unknown_nested_keys_carry_their_dotted_name_and_line(tmp_path):
    errors = config_errors(tmp_path, MINIMAL + """\
authors:
  Jane Doe:
    bio: x
    twiter: "@jane"
meter:
  limt: 3
  messages:
    paywal: Sign in
""")
    assert errors == [
        "site.yaml:6: unknown key 'authors.Jane Doe.twiter'",
        "site.yaml:8: unknown key 'meter.limt' (did you mean 'meter.limit'?)",
        "site.yaml:10: unknown key 'meter.messages.paywal' (did you mean 'meter.messages.paywall'?)",
    ]


@pytest.mark.parametrize("setting, expected", [
    ("limit: -1", "site.yaml:4: 'meter.limit' must be a whole number >= 0, got -1"),
    ("limit: three", "site.yaml:4: 'meter.limit' must be a whole number >= 0, got 'three'"),
    ("window_days: 0", "site.yaml:4: 'meter.window_days' must be a whole number >= 1, got 0"),
    ("window_days: 1.5", "site.yaml:4: 'meter.window_days' must be a whole number >= 1, got 1.5"),
    ("teaser_paragraphs: -2", "site.yaml:4: 'meter.teaser_paragraphs' must be a whole number >= 0, got -2"),
    ("signin_url: 42", "site.yaml:4: 'meter.signin_url' must be a non-empty text, got 42"),
    ("subscribe_url: ''", "site.yaml:4: 'meter.subscribe_url' must be a non-empty text, got ''"),
    ("messages: [a]", "site.yaml:4: 'meter.messages' must map message names to texts"),
    ("period: weekly", "site.yaml:4: 'meter.period' must be 'rolling' or 'month', got 'weekly'"),
])
def test_meter_block_validation(tmp_path, setting, expected):
    assert config_errors(tmp_path, MINIMAL + "meter:\n  " + setting + "\n") == [expected]


def test_meter_limit_zero_is_allowed(tmp_path):
    assert load(tmp_path, MINIMAL + "meter:\n  limit: 0\n").meter.limit == 0


@pytest.mark.parametrize("value", ["false", "null", ""])
def test_meter_false_or_absent_turns_metering_off(tmp_path, value):
    assert load(tmp_path, MINIMAL + f"meter: {value}\n").meter is None


def test_optional_keys_left_empty_mean_their_defaults(tmp_path):
    config = load(tmp_path, MINIMAL + "authors:\nsections:\ndescription:\npaginate:\ntimezone:\n"
                                      "meter:\n  limit:\n  messages:\n")
    assert (config.authors, config.sections, config.description) == ({}, (), "")
    assert (config.paginate, config.timezone) == (10, "UTC")
    assert config.meter.limit == 5 and config.meter.messages == DEFAULT_MESSAGES


def test_an_empty_title_is_reported_at_its_line(tmp_path):
    assert config_errors(tmp_path, "base_url: https://x.org/\ntitle:\n") == ["site.yaml:2: 'title' is required"]


def test_meter_true_uses_defaults(tmp_path):
    meter = load(tmp_path, MINIMAL + "meter: true\n").meter
    assert (meter.limit, meter.window_days, meter.teaser_paragraphs) == (5, 30, 2)
    assert meter.messages == DEFAULT_MESSAGES


def test_all_errors_are_reported_at_once(tmp_path):
    errors = config_errors(tmp_path, """\
title: Gazette
base_url: ftp://x.org/
paginate: 0
colour: blue
meter:
  limit: -1
""")
    assert sorted(errors) == sorted([
        "site.yaml:2: 'base_url' must be an absolute http(s) URL like https://example.org/, got 'ftp://x.org/'",
        "site.yaml:3: 'paginate' must be a whole number >= 1, got 0",
        "site.yaml:4: unknown key 'colour'",
        "site.yaml:6: 'meter.limit' must be a whole number >= 0, got -1",
    ])


@pytest.mark.parametrize("placeholder, message", [
    ("/{title}/{slug}/", "'permalink' has unknown placeholder {title}"),
    ("/{section}/{year}/", "'permalink' must contain {slug}"),
    ("news/{slug}/", "'permalink' must start with / and stay inside the site"),
    ("/../{slug}/", "'permalink' must start with / and stay inside the site"),
])
def test_bad_permalink_patterns(tmp_path, placeholder, message):
    errors = config_errors(tmp_path, MINIMAL + f"permalink: {placeholder}\n")
    assert len(errors) == 1 and errors[0].startswith("site.yaml:3: " + message), errors


def test_invalid_yaml_reports_its_line(tmp_path):
    errors = config_errors(tmp_path, MINIMAL + "authors:\n  Jane: [unclosed\n")
    assert len(errors) == 1
    assert errors[0].startswith("site.yaml:5: invalid YAML"), errors


def test_an_impossible_date_is_an_error_not_a_crash(tmp_path):
    # PyYAML raises ValueError (not YAMLError) building 2026-02-30; it must still be a reported mistake.
    assert config_errors(tmp_path, MINIMAL + "launched: 2026-02-30\n") == ["site.yaml:3: unknown key 'launched'"]


def test_a_list_instead_of_a_mapping(tmp_path):
    assert config_errors(tmp_path, "- title\n- base_url\n") == ["site.yaml:1: site.yaml must be a mapping of settings"]


def test_missing_site_yaml(tmp_path):
    with pytest.raises(SsgError, match="no site.yaml here"):
        load_config(tmp_path)


def test_base_url_override_replaces_the_file_value(tmp_path):
    config = load(tmp_path, MINIMAL, base_url="https://staging.example.org/preview")
    assert config.base_url == "https://staging.example.org/preview/"
    assert config.base_path == "/preview"


def test_defaults_are_the_dataclass_defaults(tmp_path):
    # Each default is written once, on its field: what a minimal site.yaml gets is what the classes say.
    config = load(tmp_path, MINIMAL + "meter: true\n")
    assert config == SiteConfig(title="Gazette", base_url="https://news.example.org/", meter=MeterConfig())


def test_every_field_is_a_setting(tmp_path):
    config = load(tmp_path, MINIMAL + "".join(f"{name}:\n" for name in SiteConfig.__dataclass_fields__
                                              if name not in ("title", "base_url")))
    assert config == SiteConfig(title="Gazette", base_url="https://news.example.org/")


@pytest.mark.parametrize("text, expected", [
    ("theme: ../themes\n", "site.yaml:3: 'theme' must be the name of a theme folder, like default, got '../themes'"),
    # Only load_config here, never a build: a theme named "/" must not send anything walking the root folder.
    ("theme: /\n", "site.yaml:3: 'theme' must be the name of a theme folder, like default, got '/'"),
    ("permalink: /{slug}/{\n", "site.yaml:3: 'permalink' has a { or } without its pair, got '/{slug}/{'; "
                               "placeholders look like {slug}"),
    ("paginate: 1000001\n", "site.yaml:3: 'paginate' must be at most 1,000,000, got 1000001"),
    ("meter:\n  signin_url: javascript:alert(1)\n",
     "site.yaml:4: 'meter.signin_url' must be an http(s) URL like https://example.org/page or a path on this site "
     "like /signin/, got 'javascript:alert(1)'"),
])
def test_hardened_settings(tmp_path, text, expected):
    assert config_errors(tmp_path, MINIMAL + text) == [expected]
