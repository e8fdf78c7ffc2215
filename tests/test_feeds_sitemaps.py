"""Atom and JSON feeds, sitemap.xml, the Google News sitemap and robots.txt, read as a feed reader and a
crawler would."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from jsonschema import Draft202012Validator
from lxml import html

from conftest import (METERED_SITE_YAML, SITE_YAML, article, build_site,
                      make_site, parse_html, parse_xml, png, read, tree_digest)
from ssg.access import add_public_key, generate_key
from ssg.errors import BuildFailed
from ssg.pages import FEED_ENTRIES

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "news": "http://www.google.com/schemas/sitemap-news/0.9"}
ATOM = {"a": "http://www.w3.org/2005/Atom"}
# Written from https://www.jsonfeed.org/version/1.1/ (feedparser 6.0 reads no JSON Feed, so the schema and
# a comparison with the Atom feed of the same entries are what check these files).
JSON_FEED_SCHEMA = json.loads((Path(__file__).parent / "jsonfeed-1.1.schema.json").read_text(encoding="utf-8"))
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


def json_feed(out: Path, name: str = "feed.json") -> dict:
    """A JSON Feed that is valid against the 1.1 schema, with unique item ids and no extensions."""
    data = json.loads(read(out, name))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in Draft202012Validator(JSON_FEED_SCHEMA).iter_errors(data)]
    assert errors == [], f"{name}: {errors}"
    ids = [item["id"] for item in data["items"]]
    assert len(ids) == len(set(ids)), f"{name}: item ids repeat: {ids}"
    assert not [key for key in (*data, *(k for item in data["items"] for k in item)) if key.startswith("_")]
    return data


def feed_files(out: Path) -> list[str]:
    return sorted(p.relative_to(out).as_posix() for pattern in ("feed.xml", "feed.json") for p in out.rglob(pattern))


def atom_entries(out: Path, name: str) -> list[dict]:
    """An Atom feed's entries as written (lxml, not feedparser: feedparser rewrites HTML it sanitises), in
    the JSON Feed's terms, so that the two formats of one feed can be compared field by field."""
    root = parse_xml(out, name)
    return [{"id": e.findtext("a:id", namespaces=ATOM), "url": e.find("a:link", ATOM).get("href"),
             "title": e.findtext("a:title", namespaces=ATOM),
             **({"summary": e.findtext("a:summary", namespaces=ATOM)} if e.find("a:summary", ATOM) is not None else {}),
             "content_html": e.findtext("a:content", namespaces=ATOM),
             "date_published": e.findtext("a:published", namespaces=ATOM),
             "date_modified": e.findtext("a:updated", namespaces=ATOM),
             "authors": [{"name": a.findtext("a:name", namespaces=ATOM), "url": a.findtext("a:uri", namespaces=ATOM)}
                         for a in e.iterfind("a:author", ATOM)],
             "tags": [c.get("term") for c in e.iterfind("a:category", ATOM)]}
            for e in root.iterfind("a:entry", ATOM)]


def json_entries(data: dict) -> list[dict]:
    fields = ("id", "url", "title", "summary", "content_html", "date_published", "date_modified", "authors", "tags")
    return [{key: item.get(key, []) for key in fields if key in item or key == "authors"} for item in data["items"]]


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


# --- JSON Feed ------------------------------------------------------------------------------------

def test_the_schema_rejects_what_the_spec_forbids():
    Draft202012Validator.check_schema(JSON_FEED_SCHEMA)
    good = {"version": "https://jsonfeed.org/version/1.1", "title": "T",
            "items": [{"id": "https://x.org/a/", "content_html": "<p>A</p>", "date_published": "2026-11-20T11:00:00+01:00",
                       "authors": [{"name": "A"}], "tags": ["x"], "_ext": {"any": 1}}]}
    validator = Draft202012Validator(JSON_FEED_SCHEMA)
    assert validator.is_valid(good)
    item = good["items"][0]
    for broken in ({**good, "version": "https://jsonfeed.org/version/1"}, {k: v for k, v in good.items() if k != "title"},
                   {**good, "items": [{**item, "id": 1}]}, {**good, "items": [{"content_html": "x"}]},
                   {**good, "items": [{"id": "a"}]},                                    # no content at all
                   {**good, "items": [{**item, "date_published": "2026-11-20T11:00:00"}]},  # no offset
                   {**good, "items": [{**item, "authors": [{}]}]}, {**good, "items": [{**item, "tags": "x"}]},
                   {**good, "items": [{**item, "author_name": "A"}]}, {**good, "home_page_url": 3}):
        assert not validator.is_valid(broken), broken


def test_every_feed_in_both_formats(unmetered):
    assert feed_files(unmetered) == sorted(f"{folder}{name}" for name in ("feed.xml", "feed.json") for folder in (
        "", "news/", "culture/", "tags/korea/", "tags/vote/", "authors/jane-doe/"))
    for name in feed_files(unmetered):
        if name.endswith(".json"):
            json_feed(unmetered, name)
        else:
            feed(unmetered, name)


def test_site_json_feed(unmetered):
    data = json_feed(unmetered)
    assert data["version"] == "https://jsonfeed.org/version/1.1"
    assert data["title"] == "Test Gazette" and data["language"] == "en"
    assert data["home_page_url"] == f"{HOST}/" and data["feed_url"] == f"{HOST}/feed.json"
    assert "description" not in data    # the site has none
    assert [i["title"] for i in data["items"]] == ["Fresh", "Free", "Inside the window", "Old review", "Ancient"]


def test_json_feed_item(unmetered):
    item = json_feed(unmetered)["items"][0]
    assert item["id"] == item["url"] == f"{HOST}/news/fresh/"
    assert item["date_published"] == "2026-11-20T11:00:00+00:00"
    assert item["date_modified"] == "2026-11-20T11:30:00+00:00"
    assert item["summary"] == "The dek"
    assert item["authors"] == [{"name": "Jane Doe", "url": f"{HOST}/authors/jane-doe/"}]
    assert item["tags"] == ["News", "korea", "vote"]
    assert "Teaser one." in item["content_html"] and "And the last paragraph." in item["content_html"]
    assert "image" not in item and "banner_image" not in item and "author" not in item


def test_json_feed_dates_keep_the_sites_offset(tmp_path):
    out = build_site(make_site(tmp_path, {"content/news/a.md": article("A", "2026-07-01 09:30")},
                               SITE_YAML.replace("timezone: UTC", "timezone: Europe/London")))
    item = json_feed(out)["items"][0]
    assert item["date_published"] == item["date_modified"] == "2026-07-01T09:30:00+01:00"


@pytest.mark.parametrize("site", ["unmetered", "metered"])
def test_both_formats_of_a_feed_carry_the_same_entries(site, request):
    out = request.getfixturevalue(site)
    for name in (n for n in feed_files(out) if n.endswith(".xml")):
        data = json_feed(out, name.replace(".xml", ".json"))
        atom = parse_xml(out, name)
        assert data["title"] == atom.findtext("a:title", namespaces=ATOM)
        assert data["home_page_url"] == atom.find("a:link[@rel='alternate']", ATOM).get("href")
        assert json_entries(data) == atom_entries(out, name), name


def test_json_feed_with_lead_image_uses_absolute_urls(tmp_path):
    site = make_site(tmp_path, {"content/news/a/index.md": article("A", image='{src: lead.png, alt: "Lead"}'),
                                "content/news/a/lead.png": png(8, 8)})
    item = json_feed(build_site(site))["items"][0]
    assert item["image"] == item["banner_image"] == f"{HOST}/news/a/lead.png"
    content = html.fragment_fromstring(item["content_html"], create_parent="div")
    assert content.xpath("//img/@src") == [f"{HOST}/news/a/lead.png"]


def test_json_feed_escapes_what_it_carries(tmp_path):
    title = 'Quotes " and \\ backslash </script> & <b>'
    out = build_site(make_site(tmp_path, {"content/news/a.md": article(title, summary='"Line\\nbreak"')}))
    item = json_feed(out)["items"][0]
    assert item["title"] == title and item["summary"] == "Line\nbreak"
    assert "</script>" not in read(out, "feed.json")


# --- feeds per tag and per author -----------------------------------------------------------------

@pytest.fixture(scope="module")
def many(tmp_path_factory) -> Path:
    """36 articles, 7 hours apart: every third one untagged, every fourth by another author."""
    files = {}
    for i in range(36):
        when = datetime(2026, 11, 1, 9, 0) + timedelta(hours=7 * i)
        fields = {"author": "Bo Chen" if i % 4 == 0 else "Ana Li"}
        if i % 3:
            fields["tags"] = "[River, flood]" if i % 2 else "[River]"
        files[f"content/{'news' if i % 2 else 'culture'}/s{i:02d}.md"] = article(f"Story {i}", f"{when:%Y-%m-%d %H:%M}",
                                                                                 **fields)
    return build_site(make_site(tmp_path_factory.mktemp("many"), files))


def newest(predicate) -> list[str]:
    return [f"Story {i}" for i in range(35, -1, -1) if predicate(i)][:FEED_ENTRIES]


@pytest.mark.parametrize("folder, title, predicate", [
    ("tags/river/", "River", lambda i: i % 3 != 0),
    ("tags/flood/", "flood", lambda i: i % 3 != 0 and i % 2 == 1),
    ("authors/ana-li/", "Ana Li", lambda i: i % 4 != 0),
    ("authors/bo-chen/", "Bo Chen", lambda i: i % 4 == 0),
])
def test_feeds_per_tag_and_author_list_exactly_their_newest_articles(many, folder, title, predicate):
    expected = newest(predicate)
    parsed = feed(many, f"{folder}feed.xml")
    assert parsed.version == "atom10"
    assert parsed.feed.title == f"{title} | Test Gazette"
    assert parsed.feed.id == f"{HOST}/{folder}feed.xml" and parsed.feed.link == f"{HOST}/{folder}"
    assert [e.title for e in parsed.entries] == expected
    data = json_feed(many, f"{folder}feed.json")
    assert data["feed_url"] == f"{HOST}/{folder}feed.json" and data["home_page_url"] == f"{HOST}/{folder}"
    assert [item["title"] for item in data["items"]] == expected


def test_a_tag_or_author_feed_is_reserved(tmp_path):
    site = make_site(tmp_path, {"content/news/a.md": article("A", tags="[River]", author="Ana Li"),
                                "content/news/b.md": article("B", aliases="[/tags/river/feed.json, /authors/ana-li/feed.xml]")})
    with pytest.raises(BuildFailed) as caught:
        build_site(site)
    messages = sorted(e.message for e in caught.value.errors)
    assert len(messages) == 2 and all("is reserved for a page the generator makes" in m for m in messages)
    assert "/authors/ana-li/feed.xml" in messages[0] and "/tags/river/feed.json" in messages[1]


# --- what a feed may carry ------------------------------------------------------------------------

ACCESS_YAML = METERED_SITE_YAML + "access:\n  issuer: https://members.example.org\n  keys: access-keys.json\n"
ACCESS = {"Metered": "metered", "Registered": "registered", "Subscribers": "subscribers", "Free": "free"}


@pytest.fixture(scope="module")
def walled(tmp_path_factory) -> Path:
    files = {f"content/news/{title.lower()}.md": article(title, f"2026-11-1{n} 09:00", BODY, access=access,
                                                         summary=f'"Dek of {title}"', tags="[korea]", author="Jane Doe")
             for n, (title, access) in enumerate(ACCESS.items())}
    site = make_site(tmp_path_factory.mktemp("walled"), files, ACCESS_YAML)
    add_public_key(site / "access-keys.json", generate_key("k1")[1])
    return build_site(site)


def carried(out: Path, name: str) -> dict[str, str]:
    """Title -> everything the feed carries of that article (summary and content), in either format."""
    if name.endswith(".json"):
        return {i["title"]: i.get("summary", "") + i["content_html"] for i in json_feed(out, name)["items"]}
    return {e.title: e.get("summary", "") + e.content[0].value for e in feed(out, name).entries}


def test_walled_articles_carry_only_summary_and_teaser_in_every_feed(walled):
    names = feed_files(walled)
    assert len(names) == 8   # site, News, korea, Jane Doe; Atom and JSON each
    for name in names:
        content = carried(walled, name)
        assert set(content) == set(ACCESS), name
        for title, access in ACCESS.items():
            text = content[title]
            assert f"Dek of {title}" in text, (name, title)
            assert ("And the last paragraph." in text) == (access == "free"), (name, title)
            assert ("The part for subscribers." in text) == (access == "free"), (name, title)
            # A metered article's teaser goes out; nothing of a members' article but its summary.
            assert ("Teaser one." in text) == (access in ("free", "metered")), (name, title)
        raw = read(walled, name)
        assert raw.count("And the last paragraph.") == 1, name    # the free article's, nobody else's


def test_feed_discovery_links(unmetered):
    def alternates(name: str, kind: str) -> list[str]:
        return parse_html(unmetered, name).xpath(f'//head/link[@rel="alternate"][@type="{kind}"]/@href')
    for page in ("index.html", "news/fresh/index.html", "about/index.html", "404.html"):
        assert alternates(page, "application/feed+json")[0] == "/feed.json", page
    assert alternates("index.html", "application/feed+json") == ["/feed.json"]
    for folder in ("news/", "tags/korea/", "authors/jane-doe/"):
        assert alternates(f"{folder}index.html", "application/atom+xml") == ["/feed.xml", f"/{folder}feed.xml"]
        assert alternates(f"{folder}index.html", "application/feed+json") == ["/feed.json", f"/{folder}feed.json"]
    for name in feed_files(unmetered):
        assert (unmetered / name).is_file()   # every announced feed exists


def test_feeds_under_a_base_path(tmp_path):
    site = make_site(tmp_path, {
        "content/news/vote/index.md": article("Vote", image="{src: lead.png, alt: L}", tags="[korea]", author="Jane Doe"),
        "content/news/vote/lead.png": png(8, 8),
    }, SITE_YAML.replace("https://news.example.org/", "https://host.example/project/"))
    out = build_site(site)
    base = "https://host.example/project"
    for folder in ("", "news/", "tags/korea/", "authors/jane-doe/"):
        data = json_feed(out, f"{folder}feed.json")
        assert data["feed_url"] == f"{base}/{folder}feed.json" and data["home_page_url"] == f"{base}/{folder}"
        item = data["items"][0]
        assert item["id"] == item["url"] == f"{base}/news/vote/"
        assert item["image"] == item["banner_image"] == f"{base}/news/vote/lead.png"
        assert item["authors"] == [{"name": "Jane Doe", "url": f"{base}/authors/jane-doe/"}]
        atom = feed(out, f"{folder}feed.xml")
        assert atom.feed.id == f"{base}/{folder}feed.xml" and atom.feed.link == f"{base}/{folder}"
        assert atom.entries[0].link == f"{base}/news/vote/"
        links = parse_html(out, f"{folder}index.html").xpath('//head/link[@rel="alternate"]/@href')
        assert set(links) == {"/project/feed.xml", "/project/feed.json", f"/project/{folder}feed.xml",
                              f"/project/{folder}feed.json"}


def test_the_sitemap_lists_no_feed(many):
    locs = [loc.text for loc in parse_xml(many, "sitemap.xml").iterfind(".//s:loc", NS)]
    assert f"{HOST}/tags/river/" in locs
    assert not [loc for loc in locs if "feed" in loc]


def test_an_edited_article_updates_every_feed_that_lists_it(tmp_path):
    files = {"content/news/a.md": article("Alpha", "2026-11-19 09:00", tags="[korea]", author="Jane Doe"),
             "content/news/b.md": article("Beta", "2026-11-18 09:00", tags="[vote]", author="Omar Said"),
             "content/culture/c.md": article("Gamma", "2026-11-17 09:00", tags="[vote]", author="Omar Said")}
    site = make_site(tmp_path, files)
    out = build_site(site)
    before = tree_digest(out)
    (site / "content/news/a.md").write_text(article("Alpha renamed", "2026-11-19 09:00", "New body.\n",
                                                    tags="[korea]", author="Jane Doe"))
    out = build_site(site)
    listing = {f"{folder}{name}" for folder in ("", "news/", "tags/korea/", "authors/jane-doe/")
               for name in ("feed.xml", "feed.json")}
    after = tree_digest(out)
    for name in feed_files(out):
        changed = before[name] != after[name]
        assert changed == (name in listing), name
        assert ("Alpha renamed" in read(out, name)) == (name in listing), name
        assert ("New body." in read(out, name)) == (name in listing), name
    clean = build_site(site, tmp_path / "clean", use_cache=False)
    assert {n: after[n] for n in feed_files(out)} == {n: tree_digest(clean)[n] for n in feed_files(clean)}


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
