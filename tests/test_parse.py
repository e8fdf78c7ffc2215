"""Front matter: fields read into a Document, and every mistake reported as `content/FILE:LINE: message`."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from conftest import article, build_site, make_site, png
from ssg.errors import BuildFailed
from ssg.markup import MarkdownRenderer
from ssg.parse import ParseSettings, parse_date, parse_document, split_front_matter


def parse_one(tmp_path: Path, files: dict[str, str | bytes], name: str, timezone: str = "UTC",
              permalink: str = "/{section}/{slug}/", teaser_paragraphs: int | None = None):
    """Parse content/<name> of a content folder holding `files`; return (document, errors as text)."""
    content = tmp_path / "content"
    for relative, text in files.items():
        path = content / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    settings = ParseSettings(
        content_dir=content.resolve(), content_label="content", timezone=timezone, permalink=permalink,
        teaser_paragraphs=teaser_paragraphs, layouts=frozenset({"article", "page"}),
        documents=frozenset(name for name in files if name.endswith(".md")),
        assets=frozenset(name for name in files if not name.endswith(".md")))
    document, errors = parse_document(name, (content / name).read_bytes(), settings, MarkdownRenderer())
    return document, [str(e) for e in errors]


def build_errors(tmp_path: Path, files: dict[str, str | bytes]) -> list[str]:
    """Build a site holding `files` and return every error of the failed build as text."""
    site = make_site(tmp_path, files)
    with pytest.raises(BuildFailed) as caught:
        build_site(site)
    return [str(e) for e in caught.value.errors]


# --- fields ---------------------------------------------------------------------------------------

def test_article_fields_and_defaults(tmp_path):
    document, errors = parse_one(tmp_path, {"world-news/Vote Count.md": article(
        "Vote count", "2026-11-19 09:30", "Body.\n", author="Jane Doe", tags="[korea, Russia]",
        summary='"The dek"')}, "world-news/Vote Count.md")
    assert errors == []
    assert document.kind == "article" and document.layout == "article"
    assert document.title == "Vote count"
    assert document.date == datetime(2026, 11, 19, 9, 30, tzinfo=ZoneInfo("UTC"))
    assert document.authors == ("Jane Doe",)
    assert document.tags == ("korea", "Russia")
    assert document.summary == "The dek"
    assert (document.section, document.section_slug) == ("World News", "world-news")  # first folder
    assert document.slug == "vote-count"                                              # file name, slugified
    assert document.path == "/world-news/vote-count/"
    assert document.access == "metered" and document.draft is False
    assert document.body == "<p>Body.</p>"
    assert document.source == "content/world-news/Vote Count.md"


def test_file_at_the_top_of_content_is_in_news(tmp_path):
    document, _ = parse_one(tmp_path, {"loose.md": article()}, "loose.md")
    assert (document.section, document.path) == ("News", "/news/loose/")


def test_bundle_takes_its_slug_from_the_folder(tmp_path):
    document, _ = parse_one(tmp_path, {"news/flood-warning/index.md": article()}, "news/flood-warning/index.md")
    assert document.slug == "flood-warning" and document.path == "/news/flood-warning/"


def test_explicit_section_slug_and_authors(tmp_path):
    document, _ = parse_one(tmp_path, {"news/a.md": article(
        section="Culture & Arts", slug="my-own-slug", authors="[Ana, Ben]")}, "news/a.md")
    assert (document.section, document.section_slug) == ("Culture & Arts", "culture-arts")
    assert document.path == "/culture-arts/my-own-slug/"
    assert document.authors == ("Ana", "Ben")


def test_files_under_pages_are_pages_without_a_date(tmp_path):
    document, errors = parse_one(tmp_path, {"pages/about.md": "---\ntitle: About us\n---\nWho we are.\n"},
                                 "pages/about.md")
    assert errors == []
    assert document.kind == "page" and document.layout == "page"
    assert document.path == "/about/"
    assert document.access == "free"  # pages are never metered


def test_layout_page_makes_a_standalone_page_anywhere(tmp_path):
    document, errors = parse_one(tmp_path, {"news/contact.md": "---\ntitle: Contact\nlayout: page\n---\nx\n"},
                                 "news/contact.md")
    assert errors == [] and document.kind == "page" and document.path == "/contact/"


def test_metered_false_and_draft(tmp_path):
    document, _ = parse_one(tmp_path, {"news/a.md": article(metered="false", draft="true")}, "news/a.md")
    assert document.access == "free" and document.draft is True


def test_updated_and_aliases(tmp_path):
    document, _ = parse_one(tmp_path, {"news/a.md": article(
        updated="2026-11-21", aliases="[/2026/11/old-slug, /old/path/]")}, "news/a.md")
    assert document.updated == datetime(2026, 11, 21, tzinfo=ZoneInfo("UTC"))
    assert document.lastmod == document.updated
    assert document.aliases == ("/2026/11/old-slug/", "/old/path/")


def test_numeric_title_is_text(tmp_path):
    document, errors = parse_one(tmp_path, {"news/a.md": "---\ntitle: 1984\ndate: 2026-11-19\n---\nx\n"},
                                 "news/a.md")
    assert errors == [] and document.title == "1984"


def test_an_empty_author_line_means_no_author(tmp_path):
    # `ssg new` writes `author:` with nothing after it when the site names no authors.
    document, errors = parse_one(tmp_path, {"news/a.md": article(author="")}, "news/a.md")
    assert errors == [] and document.authors == ()


def test_image_resolves_relative_to_the_article_and_reads_its_size(tmp_path):
    document, errors = parse_one(tmp_path, {
        "news/storm/index.md": article(image='{src: lead.png, alt: "Flooded street", caption: "Main St", '
                                             'credit: "Reuters"}'),
        "news/storm/lead.png": png(64, 48),
    }, "news/storm/index.md")
    assert errors == []
    image = document.image
    assert image.url == "/news/storm/lead.png"
    assert (image.width, image.height) == (64, 48)
    assert (image.alt, image.caption, image.credit) == ("Flooded street", "Main St", "Reuters")
    assert ("news/storm/lead.png", "/news/storm/lead.png") in document.assets


def test_image_as_a_plain_file_name_beside_a_loose_article(tmp_path):
    document, errors = parse_one(tmp_path, {"news/a.md": article(image="pics/a.png"),
                                            "news/pics/a.png": png(10, 20)}, "news/a.md")
    assert errors == []
    assert document.image.url == "/news/pics/a.png"
    assert (document.image.width, document.image.height) == (10, 20)


def test_remote_image_is_kept_as_is(tmp_path):
    document, errors = parse_one(tmp_path, {"news/a.md": article(image="https://cdn.example/a.jpg")}, "news/a.md")
    assert errors == [] and document.image.url == "https://cdn.example/a.jpg"


def test_teaser_cut_only_in_metered_articles(tmp_path):
    body = "One.\n\nTwo.\n\nThree.\n"
    files = {"news/a.md": article(body=body), "news/b.md": article(body=body, metered="false")}
    metered, _ = parse_one(tmp_path, files, "news/a.md", teaser_paragraphs=2)
    free, _ = parse_one(tmp_path, files, "news/b.md", teaser_paragraphs=2)
    assert metered.body.index("data-meter-cut") > metered.body.index("Two.")
    assert metered.body.index("data-meter-cut") < metered.body.index("Three.")
    assert "data-meter-cut" not in free.body


# --- dates ----------------------------------------------------------------------------------------

def test_a_date_only_value_is_midnight_in_the_site_zone_never_the_day_before(tmp_path):
    document, _ = parse_one(tmp_path, {"news/a.md": article(date="2026-11-19")}, "news/a.md",
                            timezone="America/Los_Angeles")
    assert document.date.isoformat() == "2026-11-19T00:00:00-08:00"


def test_a_date_with_an_offset_is_shown_in_the_site_zone(tmp_path):
    document, _ = parse_one(tmp_path, {"news/a.md": article(date="2026-11-19T23:30:00Z")}, "news/a.md",
                            timezone="Asia/Seoul", permalink="/{year}/{month}/{day}/{slug}/")
    assert document.date.isoformat() == "2026-11-20T08:30:00+09:00"
    assert document.path == "/2026/11/20/a/"  # the day of the date in the site's zone


@pytest.mark.parametrize("value, expected", [
    (date(2026, 3, 29), "2026-03-29T00:00:00+00:00"),
    (datetime(2026, 7, 4, 10, 0), "2026-07-04T10:00:00+01:00"),          # naive: in the site zone (BST)
    (datetime(2026, 7, 4, 10, 0, tzinfo=timezone.utc), "2026-07-04T11:00:00+01:00"),
    ("2026-01-05 08:15", "2026-01-05T08:15:00+00:00"),
    ("2026-01-05T08:15:00+09:00", "2026-01-04T23:15:00+00:00"),
])
def test_parse_date(value, expected):
    assert parse_date(value, ZoneInfo("Europe/London")).isoformat() == expected


@pytest.mark.parametrize("value", ["4 May", "2026-02-30", 20261120, None, ["2026-11-20"],
                                   "9999-12-31T23:59:59-12:00",  # year 10000 once in the site's zone
                                   datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))])
def test_parse_date_rejects_what_is_not_a_date(value):
    assert parse_date(value, ZoneInfo("UTC")) is None


def test_front_matter_lines_are_found_however_keys_are_written(tmp_path):
    document, errors = parse_one(tmp_path, {"news/a.md": "---\n{title: A,\n 'date': soon}\n---\nx\n"}, "news/a.md")
    assert errors == ["content/news/a.md:3: 'date' must be a date like 2026-11-20 or 2026-11-20 09:30, got 'soon'"]


def test_split_front_matter_reports_where_the_body_starts():
    front, body, body_line = split_front_matter("---\ntitle: A\ndate: 2026-11-19\n---\nBody\n")
    assert front == "title: A\ndate: 2026-11-19"
    assert body == "Body\n"
    assert body_line == 4


# --- errors with file and line --------------------------------------------------------------------

def test_bad_yaml_names_the_line_in_the_file(tmp_path):
    errors = build_errors(tmp_path, {"content/news/a.md": "---\ntitle: A\nsummary: one: two\ndate: 2026-11-19\n---\nx\n"})
    assert len(errors) == 1
    # libyaml and the pure-Python parser word the problem differently ("... allowed here" / "in this context").
    assert errors[0].startswith("content/news/a.md:3: invalid YAML in front matter: mapping values are not allowed")


@pytest.mark.parametrize("source, expected", [
    ("---\ndate: 2026-11-19\n---\nx\n",
     "content/news/a.md:1: 'title' is required: add a line like 'title: \"Headline\"'"),
    ("---\ntitle: A\nauthor: Jane\n---\nx\n",
     "content/news/a.md:1: 'date' is required for articles: add a line like 'date: 2026-11-20 09:30' "
     "(or 'layout: page' for a standalone page)"),
    ("---\ntitle: A\n\ndate: 4 May\n---\nx\n",
     "content/news/a.md:4: 'date' must be a date like 2026-11-20 or 2026-11-20 09:30, got '4 May'"),
    ("---\ntitle: A\ndate: 2026-02-30\n---\nx\n",
     "content/news/a.md:3: 'date' must be a date like 2026-11-20 or 2026-11-20 09:30, got '2026-02-30'"),
    ("---\ntitle: A\ndate: 2026-11-19\nupdated: soon\n---\nx\n",
     "content/news/a.md:4: 'updated' must be a date like 2026-11-20 or 2026-11-20 09:30, got 'soon'"),
    ("---\ntitle: A\ndate: 2026-11-19\nsumary: x\n---\nx\n",
     "content/news/a.md:4: unknown front matter key 'sumary' (did you mean 'summary'?)"),
    ("---\ntitle: A\ndate: 2026-11-19\nmood: happy\n---\nx\n",
     "content/news/a.md:4: unknown front matter key 'mood'; put custom fields under 'params:'"),
    ("---\ntitle: A\ndate: 2026-11-19\nimage: missing.png\n---\nx\n",
     "content/news/a.md:4: image file 'missing.png' not found next to the article"),
    ("---\ntitle: A\ndate: 2026-11-19\nimage: [a.png]\n---\nx\n",
     "content/news/a.md:4: 'image' must be a file name or {src, alt, caption, credit}"),
    ("---\ntitle: A\ndate: 2026-11-19\nimage: {alt: No source}\n---\nx\n",
     "content/news/a.md:4: 'image.src' is required: the image file, relative to the article's folder"),
    ("---\ntitle: A\ndate: 2026-11-19\nslug: 2026/vote\n---\nx\n",
     "content/news/a.md:4: 'slug' must be one URL segment with no '/' or '..', got '2026/vote'"),
    ("---\ntitle: A\ndate: 2026-11-19\nslug: ..\n---\nx\n",
     "content/news/a.md:4: 'slug' must be one URL segment with no '/' or '..', got '..'"),
    ("---\ntitle: A\ndate: 2026-11-19\nlayout: gallery\n---\nx\n",
     "content/news/a.md:4: unknown layout 'gallery': the theme has no template gallery.html "
     "(available: article, page)"),
    ("---\ntitle: A\ndate: 2026-11-19\ndraft: maybe\n---\nx\n",
     "content/news/a.md:4: 'draft' must be true or false, got 'maybe'"),
    ("---\ntitle: A\ndate: 2026-11-19\ntags: {a: 1}\n---\nx\n",
     "content/news/a.md:4: 'tags' must be a list like [a, b], got {'a': 1}"),
    ("---\ntitle: A\ndate: 2026-11-19\naliases: [old-slug]\n---\nx\n",
     "content/news/a.md:4: alias 'old-slug' must be a path inside the site starting with '/', "
     "like /2026/11/old-slug/"),
    ("---\ntitle: A\ndate: 2026-11-19\naliases: [/../../etc/]\n---\nx\n",
     "content/news/a.md:4: alias '/../../etc/' must be a path inside the site starting with '/', "
     "like /2026/11/old-slug/"),
    ("title: A\ndate: 2026-11-19\n\nx\n",
     "content/news/a.md:1: missing front matter: start the file with a '---' line, then 'title: ...', "
     "then another '---' line"),
    ("---\n- a list\n---\nx\n", "content/news/a.md:2: front matter must be 'key: value' lines"),
    ("---\ntitle: A\ndate: 2026-11-19\nsection: \"!!!\"\n---\nx\n",
     "content/news/a.md:4: 'section' value '!!!' needs a letter or digit to make its page's URL"),
    ("---\ntitle: A\ndate: 2026-11-19\ntags: [ok, \"???\"]\n---\nx\n",
     "content/news/a.md:4: 'tags' value '???' needs a letter or digit to make its page's URL"),
    ("---\ntitle: A\ndate: 2026-11-19\nauthor: \"...\"\n---\nx\n",
     "content/news/a.md:4: 'author' value '...' needs a letter or digit to make its page's URL"),
])
def test_front_matter_errors_name_file_and_line(tmp_path, source, expected):
    assert build_errors(tmp_path, {"content/news/a.md": source}) == [expected]


def test_an_unknown_image_key(tmp_path):
    errors = build_errors(tmp_path, {"content/news/a/index.md": article(image="{src: lead.png, size: big}"),
                                     "content/news/a/lead.png": png(4, 4)})
    assert errors == ["content/news/a/index.md:4: unknown key 'image.size' (use src, alt, caption, credit)"]


def test_not_utf8(tmp_path):
    errors = build_errors(tmp_path, {"content/news/a.md": "---\ntitle: café\n---\n".encode("latin-1")})
    assert len(errors) == 1 and errors[0].startswith("content/news/a.md:1: not UTF-8 text")


def test_every_mistake_of_every_file_in_one_run(tmp_path):
    errors = build_errors(tmp_path, {
        "content/news/a.md": "---\ntitle: A\ndate: yesterday\nsumary: x\n---\nx\n",
        "content/news/b.md": "---\ndate: 2026-11-19\n---\nx\n",
        "content/news/good.md": article(),
    })
    assert sorted(errors) == [
        "content/news/a.md:3: 'date' must be a date like 2026-11-20 or 2026-11-20 09:30, got 'yesterday'",
        "content/news/a.md:4: unknown front matter key 'sumary' (did you mean 'summary'?)",
        "content/news/b.md:1: 'title' is required: add a line like 'title: \"Headline\"'",
    ]


def test_crlf_line_endings_keep_line_numbers(tmp_path):
    source = "---\r\ntitle: A\r\ndate: 2026-11-19\r\nsumary: x\r\n---\r\nx\r\n"
    errors = build_errors(tmp_path, {"content/news/a.md": source})
    assert errors == ["content/news/a.md:4: unknown front matter key 'sumary' (did you mean 'summary'?)"]
