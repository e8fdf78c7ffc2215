"""End to end: small sites built in tmp_path, checked through the files a reader, a crawler and a host see."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from urllib.parse import unquote

import feedparser
import pytest

from conftest import (METERED_SITE_YAML, NOW, SITE_YAML, article, build_site, jsonld, make_site,
                      parse_html, parse_xml, png, read, tree_digest)
from ssg.errors import BuildFailed, SsgError
from ssg.pipeline import BuildOptions, build

XSS = '<script>alert(1)</script> & "Quotes"'
BYLINE_TIMES = '//p[contains(@class, "byline")]//time/@datetime'
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "news": "http://www.google.com/schemas/sitemap-news/0.9"}


def html_files(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


# --- the whole site -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def newsroom(tmp_path_factory) -> Path:
    """A small publication: two sections, tags, two authors, a bundle with images, pages."""
    tmp_path = tmp_path_factory.mktemp("newsroom")
    site = make_site(tmp_path, {
        "content/news/flood-warning/index.md": article(
            "Flood warning for the river", "2026-11-20 08:00",
            "The river rose overnight.\n\nResidents were told to move cars.\n\n"
            '![Sandbags on Mill Lane](img/sandbags.png "Sandbags on Mill Lane")\n\nThe warning stays until Friday.\n',
            author="Jane Doe", tags="[weather, river]", summary='"Residents near the Wend told to prepare"',
            image='{src: lead.png, alt: "The swollen river", caption: "The Wend at dawn", credit: "Ledger"}'),
        "content/news/flood-warning/lead.png": png(80, 60),
        "content/news/flood-warning/img/sandbags.png": png(30, 20),
        "content/news/flood-warning/data.csv": "level,time\n3.2,06:00\n",
        "content/news/bus-network.md": article("Bus network redrawn", "2026-11-19 10:00", "Routes change.\n",
                                               authors="[Jane Doe, Omar Said]", tags="[transport]"),
        "content/news/council-vote.md": article("Council vote", "2026-11-18 10:00", "The vote.\n",
                                                tags="[Weather]"),
        "content/culture/film-week.md": article("Film week review", "2026-11-17 18:00", "Films.\n",
                                                author="Omar Said"),
        "content/pages/about.md": "---\ntitle: About us\nsummary: Who we are.\n---\n\nA small newsroom.\n",
        "content/images/logo.png": png(10, 10),
    }, site_yaml=SITE_YAML + "description: News from the valley.\nauthors:\n  Jane Doe:\n    bio: Covers the river.\n")
    return build_site(site)


def test_every_kind_of_page_is_written(newsroom):
    expected = [
        "index.html", "404.html", "robots.txt", "sitemap.xml", "news-sitemap.xml", "feed.xml",
        "news/flood-warning/index.html", "news/bus-network/index.html", "news/council-vote/index.html",
        "culture/film-week/index.html", "about/index.html",
        "news/index.html", "culture/index.html", "news/feed.xml", "culture/feed.xml",
        "tags/weather/index.html", "tags/river/index.html", "tags/transport/index.html",
        "authors/jane-doe/index.html", "authors/omar-said/index.html",
    ]
    missing = [name for name in expected if not (newsroom / name).is_file()]
    assert missing == []


def test_home_page_leads_with_the_newest_article(newsroom):
    home = parse_html(newsroom, "index.html")
    lead = home.xpath('//section[contains(@class, "lead-story")]//a[@href="/news/flood-warning/"]')
    assert lead, "the newest article is the lead story"
    titles = home.xpath('//*[contains(@class, "card-title")]/a/text()')
    assert titles == ["Flood warning for the river", "Bus network redrawn", "Council vote", "Film week review"]


def test_article_page(newsroom):
    page = parse_html(newsroom, "news/flood-warning/index.html")
    assert page.xpath("//h1/text()") == ["Flood warning for the river"]
    assert "Residents near the Wend told to prepare" in page.xpath('string(//*[contains(@class, "dek")])')
    assert page.xpath('//a[@rel="author"]/@href') == ["/authors/jane-doe/"]
    assert page.xpath('//*[contains(@class, "kicker")]/a/@href')[0] == "/news/"
    assert page.xpath(BYLINE_TIMES) == ["2026-11-20T08:00:00+00:00"]
    lead = page.xpath('//figure[contains(@class, "lead-figure")]')[0]
    img = lead.xpath(".//img")[0]  # in a <picture>: a resized copy of lead.png, its own size kept
    assert (img.get("alt"), img.get("width"), img.get("height")) == ("The swollen river", "80", "60")
    assert img.get("src").startswith("/assets/images/") and img.get("src").endswith("-80.png")
    assert "The Wend at dawn" in lead.xpath("string(figcaption)") and "Ledger" in lead.xpath("string(figcaption)")
    body = page.xpath("//*[@data-meter-body]")
    assert len(body) == 1
    assert body[0].xpath("figure/figcaption/text()") == ["Sandbags on Mill Lane"]
    assert page.xpath('//ul[@aria-label="Tags"]//a/@href') == ["/tags/weather/", "/tags/river/"]


def test_more_in_section_links(newsroom):
    page = parse_html(newsroom, "news/flood-warning/index.html")
    related = page.xpath('//section[contains(@class, "related")]')[0]
    assert "More in News" in related.xpath("string(h2)")
    assert related.xpath(".//h3/a/@href") == ["/news/bus-network/", "/news/council-vote/"]


def test_every_html_page_has_canonical_open_graph_and_twitter(newsroom):
    for file in html_files(newsroom):
        page = parse_html(newsroom, file.relative_to(newsroom).as_posix())
        canonical = page.xpath('//link[@rel="canonical"]/@href')
        assert len(canonical) == 1 and canonical[0].startswith("https://news.example.org/"), file
        if page.xpath('//meta[@http-equiv="refresh"]'):
            continue  # redirect pages carry only what a redirect needs
        assert page.xpath('//meta[@property="og:url"]/@content') == canonical, file
        assert page.xpath('//meta[@property="og:title"]/@content'), file
        assert page.xpath('//meta[@name="twitter:card"]/@content'), file


def test_canonical_and_og_image_are_absolute(newsroom):
    page = parse_html(newsroom, "news/flood-warning/index.html")
    assert page.xpath('//link[@rel="canonical"]/@href') == ["https://news.example.org/news/flood-warning/"]
    assert page.xpath('//meta[@property="og:image"]/@content') == [
        "https://news.example.org/news/flood-warning/lead.png"]
    assert page.xpath('//meta[@property="og:type"]/@content') == ["article"]


def test_header_navigation_lists_the_sections(newsroom):
    nav = parse_html(newsroom, "about/index.html").xpath('//nav[@aria-label="Sections"]//a/@href')
    assert nav == ["/", "/culture/", "/news/"]


def test_list_pages_of_section_tag_and_author(newsroom):
    section = parse_html(newsroom, "news/index.html")
    assert section.xpath('//*[contains(@class, "card-title")]/a/@href') == [
        "/news/flood-warning/", "/news/bus-network/", "/news/council-vote/"]
    tag = parse_html(newsroom, "tags/weather/index.html")  # "weather" and "Weather" are one tag
    assert tag.xpath('//*[contains(@class, "card-title")]/a/@href') == ["/news/flood-warning/", "/news/council-vote/"]
    author = parse_html(newsroom, "authors/jane-doe/index.html")
    assert author.xpath("//h1/text()") == ["Jane Doe"]
    assert "Covers the river." in author.xpath('string(//header[contains(@class, "list-header")])')
    assert author.xpath('//*[contains(@class, "card-title")]/a/@href') == ["/news/flood-warning/", "/news/bus-network/"]


def test_pages_are_standalone(newsroom):
    page = parse_html(newsroom, "about/index.html")
    assert page.xpath("//h1/text()") == ["About us"]
    assert "A small newsroom." in page.text_content()
    assert not page.xpath('//script[@type="application/ld+json"]')
    assert "/about/" not in read(newsroom, "feed.xml")


def test_images_and_bundle_files_are_copied_beside_the_page(newsroom):
    assert (newsroom / "news/flood-warning/lead.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (newsroom / "news/flood-warning/img/sandbags.png").is_file()
    assert (newsroom / "news/flood-warning/data.csv").read_text() == "level,time\n3.2,06:00\n"
    assert (newsroom / "images/logo.png").is_file()      # a file outside any bundle keeps its place
    img = parse_html(newsroom, "news/flood-warning/index.html").xpath('//img[@alt="Sandbags on Mill Lane"]')[0]
    assert (img.get("width"), img.get("height")) == ("30", "20")
    assert img.get("src").startswith("/assets/images/") and img.get("src").endswith("-30.png")
    assert (newsroom / img.get("src").lstrip("/")).is_file()


def test_theme_assets_are_fingerprinted_and_linked(newsroom):
    page = parse_html(newsroom, "index.html")
    stylesheets = page.xpath('//link[@rel="stylesheet"]/@href')
    assert stylesheets and all(href.startswith("/assets/css/") for href in stylesheets)
    for href in stylesheets:
        assert (newsroom / href.lstrip("/")).is_file()


def test_no_external_resources(newsroom):
    for file in html_files(newsroom):
        page = parse_html(newsroom, file.relative_to(newsroom).as_posix())
        for url in page.xpath("//script/@src | //link[@rel='stylesheet']/@href | //img/@src"):
            assert url.startswith("/"), f"{file}: {url}"


def test_404_page(newsroom):
    page = parse_html(newsroom, "404.html")
    assert page.xpath('//meta[@name="robots"]/@content') == ["noindex"]
    assert "could not find" in page.xpath("string(//h1)").lower()
    assert page.xpath('//main//a[@href="/"]')


def test_rebuilding_gives_the_same_bytes(newsroom, tmp_path):
    site = newsroom.parent / "site"
    again = build_site(site, tmp_path / "again")
    assert tree_digest(again) == tree_digest(newsroom)


# --- drafts and future dates ----------------------------------------------------------------------

@pytest.fixture
def hidden_site(tmp_path) -> Path:
    return make_site(tmp_path, {
        "content/news/published.md": article("Published", "2026-11-19 09:00"),
        "content/news/draft.md": article("Draft story", "2026-11-19 10:00", draft="true", tags="[secret]"),
        "content/news/tomorrow.md": article("Tomorrow story", "2026-11-21 09:00"),
    })


def published_paths(out: Path) -> set[str]:
    return {loc.text for loc in parse_xml(out, "sitemap.xml").iterfind(".//s:loc", NS)}


def test_drafts_and_future_articles_are_left_out(hidden_site):
    out = build_site(hidden_site)
    assert (out / "news/published/index.html").is_file()
    assert not (out / "news/draft").exists() and not (out / "news/tomorrow").exists()
    assert not (out / "tags/secret").exists()
    everything = "".join(p.read_text(encoding="utf-8") for p in out.rglob("*") if p.suffix in (".html", ".xml"))
    assert "Draft story" not in everything and "Tomorrow story" not in everything


def test_drafts_option_includes_drafts(hidden_site):
    out = build_site(hidden_site, drafts=True)
    assert (out / "news/draft/index.html").is_file() and (out / "tags/secret/index.html").is_file()
    assert "https://news.example.org/news/draft/" in published_paths(out)
    assert not (out / "news/tomorrow").exists()


def test_future_option_includes_future_articles(hidden_site):
    out = build_site(hidden_site, future=True)
    assert (out / "news/tomorrow/index.html").is_file()
    assert [e.title for e in feedparser.parse(read(out, "feed.xml")).entries] == ["Tomorrow story", "Published"]
    assert not (out / "news/draft").exists()


def test_an_article_becomes_visible_once_its_time_has_come(hidden_site):
    from datetime import timedelta

    out = build_site(hidden_site, now=NOW + timedelta(days=1))
    assert (out / "news/tomorrow/index.html").is_file()


# --- pagination -----------------------------------------------------------------------------------

def paginated_site(tmp_path: Path, count: int) -> Path:
    files = {f"content/news/story-{i}.md": article(f"Story {i}", f"2026-11-{10 + i:02d} 09:00") for i in range(count)}
    site = make_site(tmp_path, files, site_yaml=SITE_YAML.replace("paginate: 10", "paginate: 3"))
    return build_site(site)


@pytest.fixture(scope="module")
def four_stories(tmp_path_factory) -> Path:
    """paginate is 3: one article more than a page."""
    return paginated_site(tmp_path_factory.mktemp("paginated"), 4)


def card_links(out: Path, name: str) -> list[str]:
    return parse_html(out, name).xpath('//*[contains(@class, "card-title")]/a/@href')


def test_exactly_one_page_of_articles(tmp_path):
    out = paginated_site(tmp_path, 3)
    assert len(card_links(out, "news/index.html")) == 3
    assert not (out / "news/page").exists() and not (out / "page").exists()
    assert not parse_html(out, "news/index.html").xpath('//link[@rel="next"] | //nav[@class="pagination"]')


def test_one_more_than_a_page(four_stories):
    out = four_stories
    assert card_links(out, "news/index.html") == ["/news/story-3/", "/news/story-2/", "/news/story-1/"]
    assert card_links(out, "news/page/2/index.html") == ["/news/story-0/"]
    assert not (out / "news/page/3").exists()
    assert not (out / "news/page/1").exists()   # page 1 is /news/ itself
    first, second = parse_html(out, "news/index.html"), parse_html(out, "news/page/2/index.html")
    assert first.xpath('//link[@rel="next"]/@href') == ["/news/page/2/"]
    assert not first.xpath('//link[@rel="prev"]')
    assert second.xpath('//link[@rel="prev"]/@href') == ["/news/"]
    assert not second.xpath('//link[@rel="next"]')
    assert "Page 2 of 2" in second.xpath('string(//nav[contains(@class, "pagination")])')
    assert (out / "page/2/index.html").is_file() and not (out / "page/3").exists()   # the home page too


def test_later_pages_are_in_the_sitemap(four_stories):
    assert {"https://news.example.org/news/page/2/", "https://news.example.org/page/2/"} <= published_paths(four_stories)


# --- permalinks and dates -------------------------------------------------------------------------

def test_date_permalinks(tmp_path):
    site = make_site(tmp_path, {"content/news/vote.md": article("Vote", "2026-03-07 21:00")},
                     site_yaml=SITE_YAML + "permalink: /{year}/{month}/{day}/{slug}/\n")
    out = build_site(site)
    assert (out / "2026/03/07/vote/index.html").is_file()
    assert card_links(out, "index.html") == ["/2026/03/07/vote/"]


def test_section_and_year_permalinks(tmp_path):
    site = make_site(tmp_path, {"content/world/vote.md": article("Vote", "2026-03-07 21:00")},
                     site_yaml=SITE_YAML + "permalink: /{section}/{year}/{slug}/\n")
    assert (build_site(site) / "world/2026/vote/index.html").is_file()


def test_a_date_only_value_never_shifts_a_day_anywhere(tmp_path):
    site = make_site(tmp_path, {"content/news/vote.md": article("Vote", "2026-11-19")},
                     site_yaml=SITE_YAML.replace("UTC", "America/Los_Angeles")
                     + "permalink: /{year}/{month}/{day}/{slug}/\n")
    out = build_site(site)
    stamp = "2026-11-19T00:00:00-08:00"
    page = parse_html(out, "2026/11/19/vote/index.html")
    assert page.xpath(BYLINE_TIMES) == [stamp]
    assert "19 November 2026" in page.xpath('string(//p[contains(@class, "byline")]//time)')
    assert page.xpath('//meta[@property="article:published_time"]/@content') == [stamp]
    data = jsonld(page)
    assert (data["datePublished"], data["dateModified"]) == (stamp, stamp)
    entry = feedparser.parse(read(out, "feed.xml")).entries[0]
    assert (entry.published, entry.updated) == (stamp, stamp)
    lastmods = {u.findtext("s:loc", namespaces=NS): u.findtext("s:lastmod", namespaces=NS)
                for u in parse_xml(out, "sitemap.xml").iterfind("s:url", NS)}
    assert lastmods["https://news.example.org/2026/11/19/vote/"] == stamp
    assert parse_xml(out, "news-sitemap.xml").findtext(".//news:publication_date", namespaces=NS) == stamp


def test_dates_with_an_offset_are_shown_in_the_site_zone(tmp_path):
    site = make_site(tmp_path, {"content/news/vote.md": article("Vote", "2026-11-19T23:30:00Z",
                                                                updated="2026-11-20T01:00:00+00:00")},
                     site_yaml=SITE_YAML.replace("UTC", "Asia/Seoul"))
    out = build_site(site)
    page = parse_html(out, "news/vote/index.html")
    assert page.xpath(BYLINE_TIMES) == ["2026-11-20T08:30:00+09:00", "2026-11-20T10:00:00+09:00"]
    assert jsonld(page)["dateModified"] == "2026-11-20T10:00:00+09:00"
    entry = feedparser.parse(read(out, "feed.xml")).entries[0]
    assert (entry.published, entry.updated) == ("2026-11-20T08:30:00+09:00", "2026-11-20T10:00:00+09:00")


def test_summer_time_offsets(tmp_path):
    site = make_site(tmp_path, {"content/news/a.md": article("A", "2026-07-04 10:00"),
                                "content/news/b.md": article("B", "2026-01-04 10:00")},
                     site_yaml=SITE_YAML.replace("UTC", "America/New_York"))
    out = build_site(site)
    assert parse_html(out, "news/a/index.html").xpath(BYLINE_TIMES) == ["2026-07-04T10:00:00-04:00"]
    assert parse_html(out, "news/b/index.html").xpath(BYLINE_TIMES) == ["2026-01-04T10:00:00-05:00"]


# --- a site under a path --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def project_site(tmp_path_factory) -> Path:
    tmp_path = tmp_path_factory.mktemp("project")
    site = make_site(tmp_path, {
        "content/news/vote/index.md": article("Vote", "2026-11-19 09:00", "![Chart](chart.png)\n",
                                              author="Jane Doe", tags="[politics]", image="chart.png",
                                              aliases="[/2025/old-vote/]"),
        "content/news/vote/chart.png": png(20, 10),
        "content/news/other.md": article("Other", "2026-11-18 09:00"),
        "content/pages/about.md": "---\ntitle: About\n---\nx\n",
    }, site_yaml=SITE_YAML.replace("https://news.example.org/", "https://host.example/project/"))
    return build_site(site)


def test_links_are_root_relative_under_the_base_path(project_site):
    for file in html_files(project_site):
        page = parse_html(project_site, file.relative_to(project_site).as_posix())
        for body in page.xpath("//*[@data-meter-body]"):
            body.getparent().remove(body)   # the theme's links here; the article body's in the next test
        for url in page.xpath("//a/@href | //link/@href | //img/@src | //script/@src"):
            if url.startswith("/"):
                assert url.startswith("/project/") and not url.startswith("/project/project/"), f"{file}: {url}"
    page = parse_html(project_site, "news/vote/index.html")
    [lead] = page.xpath('//figure[contains(@class, "lead-figure")]//img/@src')
    assert lead.startswith("/project/assets/images/") and lead.endswith("-20.png")
    assert page.xpath('//a[@rel="author"]/@href') == ["/project/authors/jane-doe/"]


def test_body_images_are_under_the_base_path(project_site):
    page = parse_html(project_site, "news/vote/index.html")
    [src] = page.xpath('//*[@data-meter-body]//img/@src')
    assert src.startswith("/project/assets/images/")
    assert all(url.startswith("/project/assets/images/") for srcset in page.xpath('//*[@data-meter-body]//@srcset')
               for url in srcset.split(", "))
    content = feedparser.parse(read(project_site, "feed.xml")).entries[0].content[0].value
    assert f'src="https://host.example{src}"' in content


def test_canonical_and_machine_urls_are_absolute_under_the_base_url(project_site):
    page = parse_html(project_site, "news/vote/index.html")
    canonical = "https://host.example/project/news/vote/"
    assert page.xpath('//link[@rel="canonical"]/@href') == [canonical]
    assert page.xpath('//meta[@property="og:image"]/@content') == ["https://host.example/project/news/vote/chart.png"]
    data = jsonld(page)
    assert data["url"] == data["mainEntityOfPage"] == canonical
    assert data["author"][0]["url"] == "https://host.example/project/authors/jane-doe/"
    feed = feedparser.parse(read(project_site, "feed.xml"))
    assert feed.entries[0].link == canonical
    assert feed.feed.link == "https://host.example/project/"
    locs = [loc.text for loc in parse_xml(project_site, "sitemap.xml").iterfind(".//s:loc", NS)]
    assert locs and all(loc.startswith("https://host.example/project/") for loc in locs)
    assert not any("/project/project/" in loc for loc in locs)
    assert "Sitemap: https://host.example/project/sitemap.xml" in read(project_site, "robots.txt")


def test_redirect_under_the_base_path(project_site):
    page = parse_html(project_site, "2025/old-vote/index.html")
    assert page.xpath('//meta[@http-equiv="refresh"]/@content') == ["0; url=/project/news/vote/"]
    assert page.xpath('//link[@rel="canonical"]/@href') == ["https://host.example/project/news/vote/"]


def test_base_url_option_overrides_site_yaml(tmp_path):
    site = make_site(tmp_path, {"content/news/a.md": article("A")})
    out = build_site(site, base_url="https://staging.example.org/preview/")
    page = parse_html(out, "news/a/index.html")
    assert page.xpath('//link[@rel="canonical"]/@href') == ["https://staging.example.org/preview/news/a/"]
    assert page.xpath('//*[contains(@class, "kicker")]/a/@href') == ["/preview/news/"]


# --- aliases --------------------------------------------------------------------------------------

def test_aliases_redirect_to_the_article(tmp_path):
    site = make_site(tmp_path, {"content/news/new-name.md": article(
        "Renamed", aliases="[/2026/11/old-name/, /news/older-name]")})
    out = build_site(site)
    for alias in ("2026/11/old-name/index.html", "news/older-name/index.html"):
        page = parse_html(out, alias)
        assert page.xpath('//meta[@http-equiv="refresh"]/@content') == ["0; url=/news/new-name/"]
        assert page.xpath('//link[@rel="canonical"]/@href') == ["https://news.example.org/news/new-name/"]
        assert page.xpath('//meta[@name="robots"]/@content') == ["noindex"]
        assert page.xpath("//a/@href") == ["/news/new-name/"]
    assert "old-name" not in read(out, "sitemap.xml")


# --- unicode and escaping -------------------------------------------------------------------------

def test_unicode_titles_and_slugs(tmp_path):
    site = make_site(tmp_path, {
        "content/news/élection-à-séoul.md": article("Élection à Séoul : « résultats »", tags="[Séoul]"),
        "content/news/kr.md": article("서울 시장 선거 결과", "2026-11-19 08:00", slug="서울-선거", author="김민준"),
        "content/국제/tokyo.md": article("東京の選挙", "2026-11-19 07:00"),
    })
    out = build_site(site)
    french = parse_html(out, "news/election-a-seoul/index.html")
    assert french.xpath("//h1/text()") == ["Élection à Séoul : « résultats »"]
    assert (out / "tags/seoul/index.html").is_file()
    korean = parse_html(out, "news/서울-선거/index.html")
    assert korean.xpath("//h1/text()") == ["서울 시장 선거 결과"]
    assert korean.xpath('//a[@rel="author"]/text()') == ["김민준"]
    author_page = korean.xpath('//a[@rel="author"]/@href')[0]
    assert (out / author_page.strip("/") / "index.html").is_file()
    section = parse_html(out, "index.html").xpath('//a[text()="국제"]/@href')[0]
    assert (out / section.strip("/") / "tokyo/index.html").is_file()
    # Machine-read URLs are percent-encoded URIs; they decode to the page's path.
    locs = [loc.text for loc in parse_xml(out, "sitemap.xml").iterfind(".//s:loc", NS)]
    assert "https://news.example.org/news/%EC%84%9C%EC%9A%B8-%EC%84%A0%EA%B1%B0/" in locs
    assert all(loc.isascii() for loc in locs)
    assert unquote(korean.xpath('//link[@rel="canonical"]/@href')[0]) == "https://news.example.org/news/서울-선거/"
    feed = feedparser.parse(read(out, "feed.xml"))
    assert not feed.bozo
    assert [e.title for e in feed.entries][:2] == ["Élection à Séoul : « résultats »", "서울 시장 선거 결과"]


def test_a_hostile_title_shows_literally_everywhere(tmp_path):
    site = make_site(tmp_path, {"content/news/xss.md": article(
        XSS, summary=json.dumps(XSS), tags=json.dumps([XSS]), author=json.dumps(XSS), aliases="[/old-xss/]")})
    out = build_site(site)
    for file in html_files(out):
        assert "<script>alert(1)</script>" not in file.read_text(encoding="utf-8"), file
    page = parse_html(out, "news/xss/index.html")
    assert page.xpath("//h1/text()") == [XSS]
    assert page.xpath("//title/text()") == [f"{XSS} | Test Gazette"]
    assert page.xpath('//meta[@property="og:title"]/@content') == [XSS]
    assert page.xpath('//*[contains(@class, "dek")]/text()') == [XSS]
    home = parse_html(out, "index.html")
    assert home.xpath('//*[contains(@class, "card-title")]/a/text()') == [XSS]
    assert parse_html(out, "old-xss/index.html").xpath("//title/text()") == [XSS]
    data = jsonld(page)
    assert (data["headline"], data["description"], data["keywords"]) == (XSS, XSS, [XSS])
    assert data["author"][0]["name"] == XSS
    feed = feedparser.parse(read(out, "feed.xml"))
    assert not feed.bozo, feed.get("bozo_exception")
    entry = feed.entries[0]
    assert entry.title == XSS
    assert entry.summary == XSS
    assert entry.author == XSS
    assert XSS in [t.term for t in entry.tags]
    news = parse_xml(out, "news-sitemap.xml")
    assert news.findtext(".//news:title", namespaces=NS) == XSS
    parse_xml(out, "sitemap.xml")  # well-formed


def test_a_hostile_site_title_and_description(tmp_path):
    site = make_site(tmp_path, {"content/news/a.md": article("A")},
                     site_yaml=SITE_YAML.replace("Test Gazette", json.dumps(XSS)) + f"description: {json.dumps(XSS)}\n")
    out = build_site(site)
    assert parse_html(out, "index.html").xpath('//a[contains(@class, "brand")]/text()') == [XSS]
    feed = feedparser.parse(read(out, "feed.xml"))
    assert not feed.bozo and feed.feed.title == XSS and feed.feed.subtitle == XSS
    assert parse_xml(out, "news-sitemap.xml").findtext(".//news:name", namespaces=NS) == XSS
    assert jsonld(parse_html(out, "news/a/index.html"))["publisher"]["name"] == XSS


# --- the meter's markup ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def metered_site(tmp_path_factory) -> Path:
    tmp_path = tmp_path_factory.mktemp("metered")
    body = "First paragraph.\n\nSecond paragraph.\n\nThird paragraph, for subscribers.\n"
    site = make_site(tmp_path, {
        "content/news/metered.md": article("Metered", "2026-11-19 09:00", body),
        "content/news/free.md": article("Free", "2026-11-19 08:00", body, metered="false"),
        "content/pages/signin.md": "---\ntitle: Sign in\n---\nx\n",
    }, site_yaml=METERED_SITE_YAML)
    return build_site(site)


def test_jsonld_of_a_metered_article(metered_site):
    page = parse_html(metered_site, "news/metered/index.html")
    data = jsonld(page)
    assert data["@type"] == "NewsArticle" and data["headline"] == "Metered"
    assert data["isAccessibleForFree"] is False
    part = data["hasPart"]
    assert part["@type"] == "WebPageElement" and part["isAccessibleForFree"] is False
    # The selector must select exactly the article body container.
    assert part["cssSelector"] == ".article-body"
    body = page.xpath("//*[@data-meter-body]")
    assert len(body) == 1 and "Third paragraph" in body[0].text_content()
    assert page.xpath('//*[contains(concat(" ", normalize-space(@class), " "), " article-body ")]') == body
    assert page.xpath("//script[@data-meter]/@src")


def test_jsonld_of_an_article_marked_metered_false(metered_site):
    page = parse_html(metered_site, "news/free/index.html")
    data = jsonld(page)
    assert data["isAccessibleForFree"] is True and "hasPart" not in data
    assert len(page.xpath("//*[@data-meter-body]")) == 1
    assert not page.xpath("//script[@data-meter]")


def test_paywall_selector_is_a_class_selector_of_the_body(metered_site):
    page = parse_html(metered_site, "news/metered/index.html")
    selector = jsonld(page)["hasPart"]["cssSelector"]
    assert re.fullmatch(r"\.[A-Za-z_][\w-]*", selector)
    matches = page.xpath(f'//*[contains(concat(" ", normalize-space(@class), " "), " {selector[1:]} ")]')
    assert len(matches) == 1 and matches[0].get("data-meter-body") is not None


def test_jsonld_when_the_site_has_no_meter(tmp_path):
    out = build_site(make_site(tmp_path, {"content/news/a.md": article("A", author="Jane Doe", summary="Dek",
                                                                        tags="[x]")}))
    page = parse_html(out, "news/a/index.html")
    data = jsonld(page)
    assert data["isAccessibleForFree"] is True and "hasPart" not in data
    assert data["author"] == [{"@type": "Person", "name": "Jane Doe",
                               "url": "https://news.example.org/authors/jane-doe/"}]
    assert (data["articleSection"], data["description"], data["keywords"]) == ("News", "Dek", ["x"])
    assert data["publisher"]["name"] == "Test Gazette"
    assert len(page.xpath("//*[@data-meter-body]")) == 1
    assert not page.xpath("//script[@data-meter]") and not page.xpath("//*[@data-meter-cut]")


# --- errors, duplicates and atomic output ---------------------------------------------------------

def test_two_files_with_one_url(tmp_path):
    site = make_site(tmp_path, {
        "content/news/vote.md": article("Vote", "2026-11-19 09:00"),
        "content/news/other.md": article("Other", "2026-11-19 08:00", slug="vote"),
    })
    with pytest.raises(BuildFailed) as caught:
        build_site(site)
    assert [str(e) for e in caught.value.errors] == [
        "content/news/other.md:4: URL /news/vote/ is also produced by content/news/vote.md:2; "
        "give one of them a different 'slug' or 'aliases'"]


@pytest.mark.parametrize("alias", ["/robots.txt", "/news/feed.xml", "/news/"])
def test_an_alias_onto_a_generated_file_is_an_error_not_a_crash(tmp_path, alias):
    site = make_site(tmp_path, {"content/news/a.md": article("A", aliases=f"[{alias}]")})
    with pytest.raises(BuildFailed) as caught:
        build_site(site)
    assert [(e.path, e.line) for e in caught.value.errors] == [("content/news/a.md", 2)]
    assert "is reserved for a page the generator makes" in caught.value.errors[0].message


def test_a_failed_build_leaves_the_previous_output_byte_for_byte(tmp_path):
    site = make_site(tmp_path, {"content/news/a.md": article("A"), "content/news/b.md": article("B")})
    out = build_site(site)
    before = tree_digest(out)
    (site / "content/news/a.md").write_text(article("A changed", body="New text.\n"), encoding="utf-8")
    (site / "content/news/c.md").write_text("---\ntitle: C\ndate: soon\n---\n", encoding="utf-8")
    with pytest.raises(BuildFailed):
        build_site(site, out)
    assert tree_digest(out) == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["out", "site"]   # no staging folder left


def test_a_template_error_mid_render_writes_nothing(tmp_path):
    site = make_site(tmp_path, {"content/news/a.md": article("A"), "content/news/b.md": article("B")})
    out = build_site(site)
    before = tree_digest(out)
    # A theme mistake that only shows when the second article renders: earlier pages rendered fine.
    (site / "themes/default/templates").mkdir(parents=True)
    (site / "themes/default/templates/article.html").write_text(
        '{% extends "default/article.html" %}\n{% block kicker %}{{ article.title }}\n'
        '{% if article.slug == "b" %}{{ no_such_variable }}{% endif %}{% endblock %}\n', encoding="utf-8")
    (site / "content/news/a.md").write_text(article("A changed"), encoding="utf-8")
    with pytest.raises(BuildFailed) as caught:
        build_site(site, out)
    error = caught.value.errors[0]
    assert error.path.endswith("article.html") and error.line == 3
    assert "no_such_variable" in error.message
    assert tree_digest(out) == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["out", "site"]


def test_a_first_build_that_fails_creates_no_output(tmp_path):
    site = make_site(tmp_path, {"content/news/a.md": "---\ntitle: A\n---\n"})
    with pytest.raises(BuildFailed):
        build_site(site)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_a_rebuild_removes_pages_that_are_gone_and_keeps_the_rest(tmp_path):
    site = make_site(tmp_path, {"content/news/a.md": article("A", "2026-11-19 09:00", tags="[gone]"),
                                "content/news/b.md": article("B", "2026-11-19 08:00"),
                                "content/culture/c.md": article("C", "2026-11-19 07:00")})
    out = build_site(site)
    os.utime(out / "culture/c/index.html", ns=(1, 1))
    (site / "content/news/a.md").unlink()
    build_site(site, out)
    assert not (out / "news/a").exists() and not (out / "tags/gone").exists()
    assert (out / "culture/c/index.html").stat().st_mtime_ns == 1   # identical bytes are not rewritten
    assert card_links(out, "index.html") == ["/news/b/", "/culture/c/"]


def test_a_first_build_into_an_existing_folder_keeps_its_hidden_files(tmp_path):
    site = make_site(tmp_path, {"content/news/a.md": article("A")})
    out = tmp_path / "public"
    (out / ".git").mkdir(parents=True)
    (out / ".git/HEAD").write_text("ref: refs/heads/gh-pages\n")
    (out / ".nojekyll").write_text("")
    build_site(site, out)
    assert (out / "news/a/index.html").is_file()
    assert (out / ".git/HEAD").read_text() == "ref: refs/heads/gh-pages\n"
    assert (out / ".nojekyll").is_file()


def test_the_output_folder_may_not_hold_the_sources(tmp_path):
    site = make_site(tmp_path, {"content/news/a.md": article("A")})
    for out in (site, site / "content" / "out", tmp_path):
        with pytest.raises(SsgError, match="output folder"):
            build_site(site, out)
    assert (site / "content/news/a.md").is_file()


def test_empty_site_builds(tmp_path):
    out = build_site(make_site(tmp_path, {}))
    assert "Nothing published here yet." in read(out, "index.html")
    assert feedparser.parse(read(out, "feed.xml")).entries == []
    assert not feedparser.parse(read(out, "feed.xml")).bozo


def test_files_editors_leave_behind_are_ignored(tmp_path):
    site = make_site(tmp_path, {"content/news/a.md": article("A"), "content/news/.a.md.swp": "x",
                                "content/news/a.md~": "x", "content/.DS_Store": "x",
                                "content/news/b/index.md": article("B"), "content/news/b/notes.txt": "kept",
                                "content/news/b/notes.txt~": "x", "content/news/b/#notes.txt#": "x"})
    out = build_site(site)
    names = {p.name for p in out.rglob("*")}
    assert not names & {".a.md.swp", "a.md~", ".DS_Store", "notes.txt~", "#notes.txt#"}
    assert read(out, "news/b/notes.txt") == "kept"


def test_build_does_not_depend_on_the_working_directory(tmp_path, monkeypatch):
    make_site(tmp_path, {"content/news/a.md": article("A")})  # writes tmp_path/site
    monkeypatch.chdir(tmp_path)
    out = build_site(Path("site"), Path("rel-out"))
    assert (tmp_path / "rel-out/news/a/index.html").is_file() and out == Path("rel-out")
    assert os.getcwd() == str(tmp_path)


# --- the bundled example site ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def example_site(tmp_path_factory) -> Path:
    """The repository's own example site, copied so that building it leaves the checkout alone."""
    import shutil

    from conftest import REPO

    if not (REPO / "content").is_dir():
        pytest.skip("the example site's content/ is not there yet")
    site = tmp_path_factory.mktemp("example") / "site"
    shutil.copytree(REPO / "content", site / "content")
    shutil.copy(REPO / "site.yaml", site / "site.yaml")
    if (REPO / "themes").is_dir():
        shutil.copytree(REPO / "themes", site / "themes")
    return site


def test_the_example_site_builds_and_checks_clean(example_site):
    from ssg.check import check_site
    from ssg.pipeline import BuildOptions

    out = build_site(example_site, now=None)   # its articles are dated around the real today
    assert [str(e) for e in check_site(BuildOptions(site_dir=example_site))] == []
    for name in ("about/index.html", "subscribe/index.html", "signin/index.html", "404.html"):
        assert (out / name).is_file(), name
    articles = [p for p in html_files(out) if parse_html(out, p.relative_to(out).as_posix())
                .xpath('//script[@type="application/ld+json"]')]
    assert len(articles) >= 10
    free = []
    for file in articles:
        page = parse_html(out, file.relative_to(out).as_posix())
        assert len(page.xpath("//*[@data-meter-body]")) == 1, file
        if jsonld(page)["isAccessibleForFree"]:
            free.append(file)
    assert len(free) >= 1                       # the example has a `metered: false` article
    assert not feedparser.parse(read(out, "feed.xml")).bozo


def test_no_reference_to_the_site_outlives_a_build(tmp_path: Path) -> None:
    import gc

    from ssg.model import Site

    site = make_site(tmp_path, {f"content/news/story-{n}.md": article(f"Story {n}") for n in range(5)})
    build(BuildOptions(site_dir=site, out_dir=tmp_path / "out", now=NOW, jobs=1))  # serial: in this process
    gc.collect()
    assert [o for o in gc.get_objects() if isinstance(o, Site)] == []


def test_a_build_leaves_its_callers_frozen_objects_frozen(tmp_path: Path) -> None:
    import gc

    site = make_site(tmp_path, {"content/news/a.md": article("A")})
    kept = [object() for _ in range(100)]  # noqa: F841 (held so that the freeze has something to hold)
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        build(BuildOptions(site_dir=site, out_dir=tmp_path / "out", now=NOW, jobs=1))
        assert gc.get_freeze_count() >= frozen
    finally:
        gc.unfreeze()
