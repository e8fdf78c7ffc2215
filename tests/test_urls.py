"""URL rules: slugs, permalinks, list pages, output files, links under a base path, absolute URLs."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ssg import urls


@pytest.mark.parametrize("text, slug", [
    ("Élection à Séoul!", "election-a-seoul"),
    ("  Vote Count: Day 2  ", "vote-count-day-2"),
    ("Korea & Russia", "korea-russia"),
    ("서울 선거", "seoul-seongeo"),   # transliterated when an ASCII form exists
])
def test_slugify(text, slug):
    assert urls.slugify(text) == slug


def test_slugify_is_stable():
    assert urls.slugify(urls.slugify("Élection à Séoul!")) == "election-a-seoul"


@pytest.mark.parametrize("pattern, expected", [
    ("/{section}/{slug}/", "/news/vote/"),
    ("/{year}/{month}/{day}/{slug}/", "/2026/03/07/vote/"),
    ("/{section}/{year}/{slug}", "/news/2026/vote/"),
    ("//{section}//{slug}", "/news/vote/"),
])
def test_article_path(pattern, expected):
    when = datetime(2026, 3, 7, 23, 59, tzinfo=ZoneInfo("America/New_York"))
    assert urls.article_path(pattern, "news", "vote", when) == expected


def test_article_path_uses_the_day_of_the_date_as_given():
    # The caller passes the date in the site's zone; no conversion to UTC may move it to the next day.
    late = datetime(2026, 12, 31, 23, 30, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert urls.article_path("/{year}/{month}/{day}/{slug}/", "news", "nye", late) == "/2026/12/31/nye/"


def test_page_path():
    assert urls.page_path("about") == "/about/"


@pytest.mark.parametrize("path, expected", [
    ("/a/b", "/a/b/"), ("a//b/", "/a/b/"), ("/", "/"), ("/feed.xml", "/feed.xml"), ("/old.html", "/old.html"),
])
def test_normalize_path(path, expected):
    assert urls.normalize_path(path) == expected


@pytest.mark.parametrize("path, safe", [
    ("/news/vote/", True), ("/", True), ("/news/../../etc/", False), ("/news/./x/", False),
    ("news/x/", False), ("/a\\b/", False), ("/a\0/", False),
])
def test_is_safe_path(path, safe):
    assert urls.is_safe_path(path) is safe


def test_paginated():
    assert urls.paginated("/news/", 1) == "/news/"
    assert urls.paginated("/news/", 2) == "/news/page/2/"
    assert urls.paginated("/", 3) == "/page/3/"


def test_group_paths():
    assert urls.section_path("news") == "/news/"
    assert urls.tag_path("korea") == "/tags/korea/"
    assert urls.author_path("jane-doe") == "/authors/jane-doe/"


@pytest.mark.parametrize("path, file", [
    ("/news/x/", "news/x/index.html"), ("/", "index.html"), ("/feed.xml", "feed.xml"), ("/404.html", "404.html"),
])
def test_output_file(path, file):
    assert urls.output_file(path) == file


def test_link_is_root_relative_under_the_base_path():
    assert urls.link("", "/news/x/") == "/news/x/"
    assert urls.link("/project", "/news/x/") == "/project/news/x/"
    assert urls.link("/project", "/") == "/project/"


@pytest.mark.parametrize("base_url, base_path", [
    ("https://news.example.org/", ""), ("https://host.example/project/", "/project"),
    ("https://host.example/a/b/", "/a/b"),
])
def test_absolute_puts_a_link_under_the_host_once(base_url, base_path):
    link = urls.link(base_path, "/news/x/")
    host = base_url.split("/")[2]
    assert urls.absolute(base_url, link) == f"https://{host}{base_path}/news/x/"


def test_absolute_percent_encodes_non_ascii_paths():
    assert urls.absolute("https://x.org/", "/news/서울/") == "https://x.org/news/%EC%84%9C%EC%9A%B8/"
    assert urls.absolute("https://x.org/", "/news/a%20b/") == "https://x.org/news/a%20b/"  # not encoded twice


def test_resolve_relative():
    assert urls.resolve_relative("news/a", "../b.jpg") == "news/b.jpg"
    assert urls.resolve_relative("news/a", "img/c.png") == "news/a/img/c.png"
