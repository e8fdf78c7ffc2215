"""Bad or hostile input: every case is a `path:line: message` and exit 1, never a traceback, a hang or gigabytes."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from conftest import SITE_YAML, article, build_site, make_site, parse_html, run_cli
from ssg.errors import SsgError

TOP = "title: Test Gazette\nbase_url: https://news.example.org/\ntimezone: UTC\n"  # lines 1-3 of site.yaml


def site_errors(site: Path, **options) -> list[str]:
    """The errors of a failed build of `site`, with the site folder left out of site.yaml's path."""
    with pytest.raises(SsgError) as caught:
        build_site(site, **options)
    return [str(error).replace(f"{site}/", "") for error in caught.value.errors]


def cli_errors(site: Path, *args: str) -> list[str]:
    """`ssg build` as a user runs it: exit 1, one `path:line: message` per problem, no traceback."""
    result = run_cli("build", "--site", str(site), "--out", str(site.parent / "out"), *args)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert lines[-1].startswith("error: "), lines
    return [line.replace(f"{site}/", "") for line in lines[:-1]]


def laughs(indent: str = "") -> str:
    """Nine levels of nine aliases: a few hundred bytes that expand to 9**9 (387 million) values."""
    lines = [f'{indent}a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{indent}{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    return "\n".join(lines) + "\n"


# --- 1. alias bombs and other documents too big to build -----------------------------------------

def test_a_billion_laughs_in_site_yaml_is_refused_before_it_expands(tmp_path):
    site = make_site(tmp_path, {}, site_yaml=TOP + laughs())
    started = time.monotonic()
    errors = cli_errors(site)
    assert time.monotonic() - started < 60
    # The first list whose expansion passes 100,000 values: f (9**5 + ...), on line 9.
    assert errors == ["site.yaml:9: invalid YAML: the document would hold more than 100,000 values or "
                      "10,000,000 characters once its aliases (*name) are expanded"]


def test_a_billion_laughs_in_front_matter_is_refused_before_it_expands(tmp_path):
    source = "---\ntitle: A\ndate: 2026-11-19\nparams:\n" + laughs("  ") + "---\nx\n"
    site = make_site(tmp_path, {"content/news/a.md": source})
    assert site_errors(site) == ["content/news/a.md:10: invalid YAML in front matter: the document would hold "
                                 "more than 100,000 values or 10,000,000 characters once its aliases (*name) "
                                 "are expanded"]


def test_a_long_text_repeated_by_aliases_is_refused(tmp_path):
    # Few values, but 20 copies of a megabyte: the limit counts characters as well.
    source = (f'---\ntitle: A\ndate: 2026-11-19\nparams:\n  a: &a "{"x" * 1_000_000}"\n'
              f'  b: [{", ".join(["*a"] * 20)}]\n---\n')
    site = make_site(tmp_path, {"content/news/a.md": source})
    assert site_errors(site) == ["content/news/a.md:6: invalid YAML in front matter: the document would hold "
                                 "more than 100,000 values or 10,000,000 characters once its aliases (*name) "
                                 "are expanded"]


@pytest.mark.parametrize("depth, ok", [(48, True), (49, False), (10_000, False)])
def test_nesting_deeper_than_50_levels_is_refused_in_front_matter(tmp_path, depth, ok):
    # The front matter mapping and params are two levels; the lists add `depth`.
    source = f"---\ntitle: A\ndate: 2026-11-19\nparams:\n  x: {'[' * depth}{']' * depth}\n---\nx\n"
    site = make_site(tmp_path, {"content/news/a.md": source})
    if ok:
        build_site(site)
        return
    errors = site_errors(site)
    assert len(errors) == 1 and errors[0].startswith("content/news/a.md:5: invalid YAML in front matter: "), errors


def test_nesting_through_aliases_counts_what_they_repeat(tmp_path):
    chain = "".join(f"  m{i}: &m{i} [*m{i - 1}]\n" for i in range(1, 60))
    source = f"---\ntitle: A\ndate: 2026-11-19\nparams:\n  m0: &m0 [x]\n{chain}---\nx\n"
    errors = site_errors(make_site(tmp_path, {"content/news/a.md": source}))
    assert len(errors) == 1 and "nested at most 50 levels deep" in errors[0], errors


def test_site_yaml_nested_10000_deep_is_an_error_not_a_recursion_crash(tmp_path):
    site = make_site(tmp_path, {}, site_yaml=TOP + "sections: " + "[" * 10_000 + "]" * 10_000 + "\n")
    errors = cli_errors(site)
    assert len(errors) == 1 and errors[0].startswith("site.yaml:4: invalid YAML: "), errors


def test_a_number_of_more_than_100_characters_is_refused(tmp_path):
    digits = "1" + "0" * 5000  # int() refuses more than 4,300 digits: this used to be a ValueError traceback
    site = make_site(tmp_path, {"content/news/a.md": f"---\ntitle: A\ndate: 2026-11-19\nsummary: {digits}\n---\n"},
                     site_yaml=TOP + f"paginate: {digits}\n")
    assert cli_errors(site) == ["site.yaml:4: invalid YAML: a number may have at most 100 characters, "
                                "got one of 5,001"]
    (site / "site.yaml").write_text(SITE_YAML, encoding="utf-8")
    assert cli_errors(site) == ["content/news/a.md:4: invalid YAML in front matter: a number may have at most "
                                "100 characters, got one of 5,001"]


@pytest.mark.parametrize("fields", [
    {"layout": "x" * 100_000},
    {"date": '"' + "x" * 100_000 + '"'},
    {"slug": "a/" * 50_000},
    {"tags": "[" + "-" * 100_000 + "]"},
    {"summary": "[" + ", ".join(["x" * 100] * 5_000) + "]"},
    {"? " + "x" * 100_000 + "\n": "1"},  # an explicit key: a plain one may not pass 1,024 characters
    {"aliases": "[" + "x" * 100_000 + "]"},
])
def test_error_messages_never_quote_a_huge_value(tmp_path, fields):
    site = make_site(tmp_path, {"content/news/a.md": article(**fields)})
    errors = site_errors(site)
    assert errors and all(len(error) <= 500 + len("content/news/a.md:9: ") for error in errors), \
        [len(error) for error in errors]


def test_site_yaml_messages_never_quote_a_huge_value(tmp_path):
    site = make_site(tmp_path, {}, site_yaml=TOP + f"language: [{', '.join(['x' * 100] * 5_000)}]\n"
                                                   f"theme: {'x/' * 50_000}\n? {'y' * 100_000}\n: 1\n")
    errors = site_errors(site)
    assert len(errors) == 3 and all(len(error) <= 500 + len("site.yaml:9: ") for error in errors), errors


# --- 2. links readers follow ---------------------------------------------------------------------

TRAPS = ["javascript:alert(1)", "JavaScript:alert(1)", '" javascript:alert(1)"', '"java\\tscript:alert(1)"',
         "data:text/html,hi", "vbscript:msgbox(1)", "//evil.example/signin", '"/\\\\evil.example/"',
         "https://", "http://[::1/", "ftp://news.example.org/"]


@pytest.mark.parametrize("value", TRAPS)
@pytest.mark.parametrize("key", ["signin_url", "subscribe_url"])
def test_meter_links_are_http_urls_or_paths_on_the_site(tmp_path, key, value):
    site = make_site(tmp_path, {}, site_yaml=TOP + f"meter:\n  {key}: {value}\n")
    errors = site_errors(site)
    assert len(errors) == 1 and errors[0].startswith(
        f"site.yaml:5: 'meter.{key}' must be an http(s) URL like https://example.org/page or a path on this "
        "site like /signin/, got "), errors


@pytest.mark.parametrize("value", TRAPS)
def test_author_urls_are_http_urls_or_paths_on_the_site(tmp_path, value):
    site = make_site(tmp_path, {}, site_yaml=TOP + f"authors:\n  Jane Doe:\n    bio: Reporter.\n    url: {value}\n")
    errors = site_errors(site)
    assert len(errors) == 1 and errors[0].startswith("site.yaml:7: 'authors.Jane Doe.url' must be an http(s) URL"), \
        errors


@pytest.mark.parametrize("value", ['" https://news.example.org/"', '"https://news.example.org/\\tx"',
                                   '"https://news\\nexample.org/"', "http://[::1/", "https://news.example.org:port/"])
def test_base_url_is_an_absolute_http_url_without_tricks(tmp_path, value):
    site = make_site(tmp_path, {}, site_yaml=f"title: T\nbase_url: {value}\n")
    assert cli_errors(site) == [f"site.yaml:2: 'base_url' must be an absolute http(s) URL like https://example.org/, "
                                f"got {yaml.safe_load(value)!r}"]


def test_good_links_are_kept(tmp_path):
    site = make_site(tmp_path, {"content/news/a.md": article(author="Jane Doe", aliases="[/2026/old/]")}, site_yaml=(
        "title: T\nbase_url: http://[::1]:8000/news/\nmeter: false\n"
        "authors:\n  Jane Doe:\n    url: https://jane.example/about?x=1\n  Ann:\n    url: /about/\n"))
    out = build_site(site)
    assert parse_html(out, "news/a/index.html").xpath('//link[@rel="canonical"]/@href') == [
        "http://[::1]:8000/news/news/a/"]
    assert (out / "2026/old/index.html").is_file()


@pytest.mark.parametrize("alias", ["//evil.example/x", '"/old\\tpath/"', '" javascript:alert(1)"'])
def test_front_matter_aliases_are_paths_on_the_site(tmp_path, alias):
    site = make_site(tmp_path, {"content/news/a.md": article(aliases=f"[/fine/, {alias}]")})
    errors = site_errors(site)
    assert len(errors) == 1 and errors[0].startswith("content/news/a.md:4: alias ") and errors[0].endswith(
        " must be a path inside the site starting with '/', like /2026/11/old-slug/"), errors


# --- 3. inputs that used to end in a traceback ---------------------------------------------------

@pytest.mark.parametrize("setting, expected", [
    ("meter: {limit: 99999999999999999999999999}",
     "site.yaml:4: 'meter.limit' must be at most 1,000,000, got 99999999999999999999999999"),
    ("paginate: 10000000000", "site.yaml:4: 'paginate' must be at most 1,000,000, got 10000000000"),
    ("permalink: /{year/{slug}/",
     "site.yaml:4: 'permalink' has a { or } without its pair, got '/{year/{slug}/'; placeholders look like {slug}"),
    ("permalink: /{section}}/{slug}/",
     "site.yaml:4: 'permalink' has a { or } without its pair, got '/{section}}/{slug}/'; "
     "placeholders look like {slug}"),
    ("permalink: /{slug!r}/", "site.yaml:4: 'permalink' has unknown placeholder {slug!r}; "
                              "use {section}, {slug}, {year}, {month}, {day}"),
    ("theme: ../..", "site.yaml:4: 'theme' must be the name of a theme folder, like default, got '../..'"),
    ("theme: a/b", "site.yaml:4: 'theme' must be the name of a theme folder, like default, got 'a/b'"),
    ("theme: '.'", "site.yaml:4: 'theme' must be the name of a theme folder, like default, got '.'"),
])
def test_settings_that_used_to_crash_name_their_line(tmp_path, setting, expected):
    site = make_site(tmp_path, {"content/news/a.md": article()}, site_yaml=TOP + setting + "\n")
    assert cli_errors(site) == [expected]


def test_site_yaml_that_is_not_utf8(tmp_path):
    site = make_site(tmp_path, {})
    (site / "site.yaml").write_bytes(b"title: Test\nbase_url: https://x.org/\ndescription: Caf\xe9\n")  # Latin-1
    assert cli_errors(site) == ["site.yaml:3: not UTF-8 text (invalid continuation byte at byte 53); "
                                "save site.yaml as UTF-8"]


@pytest.mark.parametrize("value, shown", [
    ("9999-12-31T23:59:59-12:00", "9999-12-31T23:59:59-12:00"),   # year 10000 in UTC
    ("0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00+14:00"),   # year 0 in UTC
    ('"9999-12-31T23:59:59-12:00"', "9999-12-31T23:59:59-12:00"),
    ("9999-12-31 23:00", "9999-12-31 23:00"),                     # the news sitemap adds 48 hours to it
    ("0001-01-01", "0001-01-01"),                                 # year 0 in UTC, from the site's UTC+14
])
def test_dates_past_the_ends_of_the_calendar(tmp_path, value, shown):
    site = make_site(tmp_path, {"content/news/a.md": article(date=value)},
                     site_yaml=SITE_YAML.replace("UTC", "Pacific/Kiritimati"))
    assert site_errors(site, future=True) == [
        "content/news/a.md:3: 'date' must be a date between the years 1 and 9999, with a week to spare once "
        f"time zones apply, got '{shown}'"]


def test_updated_past_the_end_of_the_calendar(tmp_path):
    site = make_site(tmp_path, {"content/news/a.md": article(updated="9999-12-31T23:59:59-12:00")})
    errors = site_errors(site)
    assert len(errors) == 1 and errors[0].startswith("content/news/a.md:4: 'updated' must be a date between"), errors


def test_a_file_name_too_long_to_exist_is_a_missing_file(tmp_path):
    long = "x" * 300  # the file system refuses the name (ENAMETOOLONG) rather than saying it is not there
    site = make_site(tmp_path, {"content/news/a.md": article(image=f"{long}.png"),
                                "content/news/b.md": article(body=f"![a]({long}.png) [b]({long}.md)\n")})
    assert site_errors(site) == [f"content/news/a.md:4: image file '{long}.png' not found next to the article"]


# --- ssg new and ssg init ------------------------------------------------------------------------

@pytest.mark.parametrize("title, message", [
    ("!!!", "the title '!!!' needs a letter or digit to make a file name"),
    ("   ", "the title '   ' needs a letter or digit to make a file name"),
    ("Line one\nLine two", "the title must be one line of text, got 'Line one\\nLine two'"),
    ('Say "hi"\n---\nlayout: x', "the title must be one line of text"),
    ("a" * 300, "the title is too long to make a file name (255 bytes at most): shorten it"),
    ("한" * 90, "the title is too long to make a file name (255 bytes at most): shorten it"),
    ("bad \udcff bytes", "the title must be one line of text"),   # an argument that was not UTF-8
])
def test_new_refuses_a_title_it_cannot_turn_into_a_file(tmp_path, title, message):
    site = make_site(tmp_path, {})
    result = run_cli("new", title, "--site", str(site))
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.splitlines()[0].startswith(f"{site / 'content'}: {message}"), result.stderr
    assert not (site / "content").exists()


def test_new_refuses_a_section_it_cannot_turn_into_a_folder(tmp_path):
    site = make_site(tmp_path, {})
    result = run_cli("new", "Fine", "--section", "???", "--site", str(site))
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == (f"{site / 'content'}: the section '???' needs a letter or digit "
                                             "to make a file name")


def test_new_writes_front_matter_that_reads_back_as_written(tmp_path):
    # The newsroom's first author comes from site.yaml, where a name may hold any character, a line break too.
    site = make_site(tmp_path, {}, site_yaml=SITE_YAML + 'authors:\n  "Jane \\"JD\\"\\nDoe\\u0085":\n    bio: x\n')
    title = 'He said: "hi" \\ # not a comment — ok \'yes\''
    result = run_cli("new", title, "--section", "World: News #1", "--site", str(site))
    assert result.returncode == 0, result.stderr
    path = site / "content/world-news-1/he-said-hi-not-a-comment-ok-yes.md"
    front = yaml.safe_load(path.read_text(encoding="utf-8").split("---\n")[1])
    assert (front["title"], front["section"], front["author"]) == (title, "World: News #1", 'Jane "JD"\nDoe\x85')
    build_site(site, drafts=True)


def test_init_into_a_folder_whose_name_breaks_yaml(tmp_path):
    target = tmp_path / "the: #1 \"evening\" post's"
    result = run_cli("init", str(target))
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load((target / "site.yaml").read_text(encoding="utf-8"))
    assert config["title"] == "The: #1 \"Evening\" Post'S"
    out = build_site(target)
    assert parse_html(out, "index.html").xpath('//a[contains(@class, "brand")]/text()') == [config["title"]]


def test_init_where_a_file_is_in_the_way(tmp_path):
    (tmp_path / "taken").write_text("not a folder", encoding="utf-8")
    result = run_cli("init", str(tmp_path / "taken"))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[0].startswith(f"{tmp_path / 'taken'}: cannot write the new site here: ")
