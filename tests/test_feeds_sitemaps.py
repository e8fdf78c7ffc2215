"""Atom feeds, sitemap.xml, the Google News sitemap and robots.txt, read as a feed reader and a crawler would."""
from __future__ import annotations

from pathlib import Path

import feedparser
import pytest
from lxml import html

from conftest import (METERED_SITE_YAML, SITE_YAML, article, build_site,
                      make_site, parse_html, parse_xml, png, read)

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "news": "http://www.google.com/schemas/sitemap-news/0.9"}
BODY = "Teaser one.\n\nTeaser two.\n\nThe part for subscribers.\n\nAnd the last paragraph.\n"
HOST = "https://news.example.org"


def site_files() -> dict:
    # NOW is 2026-11-20 12:00 UTC; the news sitemap covers the 48 hours before it.
    return {
        "content/news/fresh.md": article("Fresh", "2026-11-20 11:00", BODY, author="Jane Doe", summary="The dek",
                                         tags="[korea, vote]", updated="2026-11-20 11:30"),
        "content/news/free.md": article("Free", "2026-11-19 09:00", BODY, metered="false"),
        "content/news/edge.md": article("Inside the window", "2026-11-18 13:00", BODY),
        "content/culture/old.md": article("Old review", "2026-11-18 11:00", BODY),
        "content/culture/ancient.md": article("Ancient", "2026-01-02", BODY),
        "content/pages/about.md": "---\ntitle: About\nupdated: 2026-10-01\n---\nAbout.\n",
    }


@pytest.fixture(scope="module")
def metered(tmp_path_factory) -> Path:
    return build_site(make_site(tmp_path_factory.mktemp("metered"), site_files(), METERED_SITE_YAML))


@pytest.fixture(scope="module")
def unmetered(tmp_path_factory) -> Path:
    return build_site(make_site(tmp_path_factory.mktemp("unmetered"), site_files(), SITE_YAML))


def feed(out: Path, name: str = "feed.xml") -> feedparser.FeedParserDict:
    parsed = feedparser.parse(read(out, name))
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


# --- Atom feeds -----------------------------------------------------------------------------------

def test_site_feed(unmetered):
    parsed = feed(unmetered)
    assert parsed.version == "atom10"
    assert parsed.feed.title == "Test Gazette"
    assert parsed.feed.link == f"{HOST}/"
    assert parsed.feed.id == f"{HOST}/feed.xml"
    assert parsed.feed.updated == "2026-11-20T11:30:00+00:00"   # the newest change of any entry
    assert [e.title for e in parsed.entries] == ["Fresh", "Free", "Inside the window", "Old review", "Ancient"]


def test_feed_entry(unmetered):
    entry = feed(unmetered).entries[0]
    assert entry.link == entry.id == f"{HOST}/news/fresh/"
    assert entry.published == "2026-11-20T11:00:00+00:00"
    assert entry.updated == "2026-11-20T11:30:00+00:00"
    assert entry.summary == "The dek"
    assert entry.author == "Jane Doe"
    assert entry.author_detail.href == f"{HOST}/authors/jane-doe/"
    assert [t.term for t in entry.tags] == ["News", "korea", "vote"]


def test_section_feeds(unmetered):
    culture = feed(unmetered, "culture/feed.xml")
    assert culture.feed.title == "Culture | Test Gazette"
    assert culture.feed.link == f"{HOST}/culture/"
    assert [e.title for e in culture.entries] == ["Old review", "Ancient"]
    assert [e.title for e in feed(unmetered, "news/feed.xml").entries] == ["Fresh", "Free", "Inside the window"]


def test_feeds_are_announced_in_the_pages(unmetered):
    assert parse_html(unmetered, "index.html").xpath('//link[@type="application/atom+xml"]/@href') == ["/feed.xml"]
    section = parse_html(unmetered, "news/index.html").xpath('//link[@type="application/atom+xml"]/@href')
    assert "/news/feed.xml" in section


def test_feed_without_meter_carries_the_whole_article(unmetered):
    for entry in feed(unmetered).entries:
        content = entry.content[0].value
        assert "Teaser one." in content and "And the last paragraph." in content
        assert "data-meter-cut" not in content


def test_feed_of_a_metered_article_carries_only_summary_and_teaser(metered):
    entry = feed(metered).entries[0]
    assert entry.title == "Fresh" and entry.summary == "The dek"
    content = entry.content[0].value
    assert "Teaser one." in content and "Teaser two." in content
    assert "The part for subscribers." not in content
    assert "And the last paragraph." not in content
    assert f'href="{HOST}/news/fresh/"' in content   # "Continue reading" on the site


def test_feed_of_an_unmetered_article_carries_all(metered):
    entry = next(e for e in feed(metered).entries if e.title == "Free")
    content = entry.content[0].value
    assert "The part for subscribers." in content and "And the last paragraph." in content
    assert "data-meter-cut" not in content


def test_no_metered_text_leaks_into_any_feed(metered):
    # Only the one `metered: false` article (in News) may carry the paragraphs after the teaser.
    counts = {name: read(metered, name).count("The part for subscribers.")
              for name in ("feed.xml", "news/feed.xml", "culture/feed.xml")}
    assert counts == {"feed.xml": 1, "news/feed.xml": 1, "culture/feed.xml": 0}


def test_feed_with_lead_image_uses_an_absolute_url(tmp_path):
    site = make_site(tmp_path, {"content/news/a/index.md": article("A", image='{src: lead.png, alt: "Lead"}'),
                                "content/news/a/lead.png": png(8, 8)})
    content = html.fragment_fromstring(feed(build_site(site)).entries[0].content[0].value, create_parent="div")
    assert content.xpath("//img/@src") == [f"{HOST}/news/a/lead.png"]
    assert content.xpath("//img/@alt") == ["Lead"]


def test_feed_keeps_the_newest_twenty(tmp_path):
    files = {f"content/news/s{i:02d}.md": article(f"Story {i}", f"2026-10-{i + 1:02d} 09:00") for i in range(25)}
    parsed = feed(build_site(make_site(tmp_path, files)))
    assert len(parsed.entries) == 20
    assert parsed.entries[0].title == "Story 24" and parsed.entries[-1].title == "Story 5"


# --- sitemaps and robots.txt ----------------------------------------------------------------------

def sitemap(out: Path) -> dict[str, str | None]:
    root = parse_xml(out, "sitemap.xml")
    assert root.tag == f"{{{NS['s']}}}urlset"
    return {u.findtext("s:loc", namespaces=NS): u.findtext("s:lastmod", namespaces=NS)
            for u in root.iterfind("s:url", NS)}


def test_sitemap_lists_every_page_with_lastmod(unmetered):
    entries = sitemap(unmetered)
    assert set(entries) == {f"{HOST}{path}" for path in (
        "/", "/news/fresh/", "/news/free/", "/news/edge/", "/culture/old/", "/culture/ancient/", "/about/",
        "/news/", "/culture/", "/tags/korea/", "/tags/vote/", "/authors/jane-doe/")}
    assert entries[f"{HOST}/news/fresh/"] == "2026-11-20T11:30:00+00:00"    # `updated` wins over `date`
    assert entries[f"{HOST}/culture/ancient/"] == "2026-01-02T00:00:00+00:00"
    assert entries[f"{HOST}/about/"] == "2026-10-01T00:00:00+00:00"
    assert entries[f"{HOST}/"] == entries[f"{HOST}/news/"] == "2026-11-20T11:30:00+00:00"
    assert entries[f"{HOST}/culture/"] == "2026-11-18T11:00:00+00:00"


def test_sitemap_leaves_out_redirects_and_the_404_page(unmetered):
    assert not [loc for loc in sitemap(unmetered) if "404" in loc]


def test_news_sitemap_holds_only_the_last_48_hours(unmetered):
    root = parse_xml(unmetered, "news-sitemap.xml")
    urls = root.findall("s:url", NS)
    assert [u.findtext("s:loc", namespaces=NS) for u in urls] == [
        f"{HOST}/news/fresh/", f"{HOST}/news/free/", f"{HOST}/news/edge/"]   # 1 h, 27 h and 47 h old
    first = urls[0].find("news:news", NS)
    assert first.findtext("news:publication/news:name", namespaces=NS) == "Test Gazette"
    assert first.findtext("news:publication/news:language", namespaces=NS) == "en"
    assert first.findtext("news:publication_date", namespaces=NS) == "2026-11-20T11:00:00+00:00"
    assert first.findtext("news:title", namespaces=NS) == "Fresh"


def test_news_sitemap_follows_the_pinned_time(tmp_path):
    from datetime import datetime, timezone

    site = make_site(tmp_path, site_files())
    out = build_site(site, now=datetime(2026, 11, 21, 8, 0, tzinfo=timezone.utc))
    locs = [u.findtext("s:loc", namespaces=NS) for u in parse_xml(out, "news-sitemap.xml").findall("s:url", NS)]
    assert locs == [f"{HOST}/news/fresh/", f"{HOST}/news/free/"]


def test_news_sitemap_may_be_empty(tmp_path):
    out = build_site(make_site(tmp_path, {"content/news/old.md": article("Old", "2020-01-01")}))
    assert parse_xml(out, "news-sitemap.xml").findall("s:url", NS) == []


def test_robots_txt_names_both_sitemaps(unmetered):
    lines = read(unmetered, "robots.txt").splitlines()
    assert f"Sitemap: {HOST}/sitemap.xml" in lines
    assert f"Sitemap: {HOST}/news-sitemap.xml" in lines
    assert "User-agent: *" in lines
