"""`ssg import hugo`: a Hugo site becomes a site that builds, whose old URLs still reach every page."""
from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml

from conftest import parse_html, read
from import_harness import article_body, front_matter, import_and_build, import_site, redirect_target

FIXTURE = Path(__file__).parent / "fixtures" / "hugo"


def run_import(*args: str) -> tuple[int, str, str]:
    return import_site("hugo", *args)


def small_site(tmp_path: Path, config: str, files: dict[str, str]) -> Path:
    source = tmp_path / "src"
    source.mkdir()
    (source / "hugo.toml").write_text(config)
    for name, text in files.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(text)
    return source


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> tuple[Path, Path, list[str]]:
    return import_and_build("hugo", FIXTURE, tmp_path_factory.mktemp("imported") / "site")


# --- settings and front matter -----------------------------------------------------------------------

def test_new_site_settings_come_from_config(imported):
    site, _, _ = imported
    settings = yaml.safe_load(read(site, "site.yaml"))
    assert settings["title"] == "The Riverside Courier"
    assert settings["base_url"] == "https://courier.example.net/"
    assert settings["description"] == "Local news for Riverside and Hollins Bay."
    assert settings["language"] == "en-ie"
    assert settings["timezone"] == "Europe/Dublin"
    assert settings["permalink"] == "/{year}/{month}/{slug}/"   # [permalinks] posts = "/:year/:month/:slug/"
    assert settings["authors"]["Eilís Ward"] == {"bio": "Eilís reports on the harbour and the county council.",
                                                 "url": "https://courier.example.net/staff/eilis-ward/"}
    assert settings["authors"]["Jonah Brooks"] == {"bio": "Jonah covers transport and the islands."}


def test_toml_front_matter_is_mapped(imported):
    site, _, _ = imported
    post = front_matter(site, "politics/harbour-wall.md")
    assert post["title"] == "Harbour wall repairs to start after storm damage"
    assert post["date"] == "2024-06-03T08:00:00+01:00"         # no offset: Dublin's summer time
    assert post["updated"] == "2024-06-04T17:30:00+01:00"      # lastmod
    assert post["author"] == "Eilís Ward"                      # data/authors/eward.toml
    assert post["slug"] == "harbour-wall"
    # first category -> section; the other category, then the tags, once each whatever their case
    assert (post["section"], post["tags"]) == ("Politics", ["Harbour", "storms", "Council"])
    assert post["summary"] == "The county will spend €1.3m on the breach that opened in February."
    assert post["params"] == {"weight": 5}


def test_yaml_and_json_front_matter_are_mapped(imported):
    site, _, _ = imported
    ferry = front_matter(site, "posts/ferry-timetable/index.md")
    assert (ferry["section"], ferry["author"], ferry["image"]) == ("Posts", "Jonah Brooks", "cover.png")
    assert ferry["summary"].startswith("A 22:15 sailing")   # description
    regatta = front_matter(site, "events/summer-regatta.md")  # JSON front matter
    assert (regatta["title"], regatta["section"], regatta["author"]) == \
        ("Summer regatta moves to the outer harbour", "Events", "Jonah Brooks")


def test_publish_date_and_other_keys(imported):
    site, _, _ = imported
    mill = front_matter(site, "posts/old-mill-fire.md")
    assert mill["date"] == "2019-11-02T21:40:00+00:00"        # publishDate, no date
    assert mill["params"] == {"expiryDate": date(2030, 1, 1), "type": "breaking"}   # key case kept
    assert mill["image"] == "/images/mill.png"                # featured_image in static/
    assert mill["summary"] == ("Firefighters from three stations fought a blaze at the disused mill on "
                               "Quay Street on Saturday night.")   # the text before <!--more-->


def test_section_intros_are_not_articles(imported):
    site, _, report = imported
    titles = [front_matter(site, p.relative_to(site / "content").as_posix())["title"]
              for p in (site / "content").rglob("*.md")]
    assert "Posts" not in titles and "Events" not in titles and "The Riverside Courier" not in titles
    assert "left out: 3 section intros (_index)" in report
    assert f"{FIXTURE}/content/_index.md:4: the section's intro text is not imported" in "\n".join(report)


# --- old URLs ----------------------------------------------------------------------------------------

OLD_URLS = [
    ("/2024/06/harbour-wall/", "/2024/06/harbour-wall/"),
    ("/news/harbour-wall/", "/2024/06/harbour-wall/"),                  # aliases, from the root
    ("/posts/harbour-wall-old/", "/2024/06/harbour-wall/"),             # aliases, beside the file
    # :slug falls back to the title in Hugo; the new slug is the bundle's folder name
    ("/2024/06/summer-ferry-timetable-adds-a-late-sailing/", "/2024/06/ferry-timetable/"),
    ("/2019/old-mill-fire.html", "/2019/11/old-mill-fire/"),            # url:
    ("/events/summer-regatta/", "/2024/07/summer-regatta/"),            # no permalink for events: /section/file/
    ("/2024/05/quay-bridge-closure/", "/2024/05/quay-bridge-closure/"),
    ("/about/", "/about/"),
]


@pytest.mark.parametrize("old, new", OLD_URLS)
def test_every_old_url_reaches_the_new_page(imported, old, new):
    _, out, _ = imported
    assert (out / new.lstrip("/") / "index.html").is_file()
    if old != new:
        assert redirect_target(out, old) == new


@pytest.mark.parametrize("config, old", [
    ("", "/posts/local-news/my-story/"),
    ("uglyURLs = true\n", "/posts/local-news/my-story.html"),
    ("disablePathToLower = true\n", "/posts/Local-News/My-Story/"),
])
def test_default_urls_follow_hugos_path_rules(tmp_path, config, old):
    source = small_site(tmp_path, 'baseURL = "https://x.example.org/"\ntitle = "X"\n' + config, {
        "content/posts/Local News/My Story.md": "---\ntitle: Story\ndate: 2024-01-02\n---\n\nText.\n"})
    assert run_import(str(source), "--site", str(tmp_path / "site"))[0] == 0
    assert front_matter(tmp_path / "site", "posts/my-story.md")["aliases"] == [old]


# --- bodies ------------------------------------------------------------------------------------------

def test_shortcodes_are_converted(imported):
    _, out, _ = imported
    body = article_body(out, "/2024/06/harbour-wall/")
    figure = body.xpath(".//figure")[0]
    assert figure.xpath("./img/@src") == ["/images/harbour.png"]
    assert figure.xpath("./img/@alt") == ["The breach in the harbour wall"]
    assert figure.xpath("string(./figcaption)") == "The breach, photographed in February"
    assert "https://www.youtube.com/watch?v=dQw4w9WgXcQ" in body.xpath(".//p/a/@href")
    assert not body.xpath(".//iframe")
    links = body.xpath(".//a/@href")
    assert "/2024/06/ferry-timetable/" in links          # ref to a page bundle
    assert "/2019/11/old-mill-fire/" in links             # relref by file name
    code = body.xpath('.//div[contains(@class, "highlight")]//code')[0].text_content()
    assert "func tideHeight(hour int) float64" in code
    assert "highlight" not in body.xpath("string(.//p[last()])")


def test_shortcodes_in_code_are_left_as_written(imported):
    _, out, _ = imported
    code = [c.text_content() for c in article_body(out, "/2024/06/harbour-wall/").xpath(".//code")]
    assert "{{< youtube abc >}}" in code
    assert any('{{< figure src="x.png" >}}' in c for c in code)


def test_page_bundle_files_travel_with_it(imported):
    site, out, _ = imported
    for name in ("cover.png", "map.png"):
        original = (FIXTURE / "content" / "posts" / "ferry-timetable" / name).read_bytes()
        assert (site / "content" / "posts" / "ferry-timetable" / name).read_bytes() == original
        assert (out / "2024" / "06" / "ferry-timetable" / name).read_bytes() == original
    body = article_body(out, "/2024/06/ferry-timetable/")
    # Both figures show the bundle's map.png (as a resized copy under /assets/images/, made from its bytes).
    sources = body.xpath(".//figure//img/@src")
    assert len(sources) == 2 and len(set(sources)) == 1 and sources[0].startswith("/assets/images/")
    assert (out / sources[0].lstrip("/")).is_file()
    assert body.xpath(".//figure[2]/figcaption/text()") == ["Sailings from the north pier"]


def test_report_lists_shortcodes_left_as_they_are(imported):
    _, _, report = imported
    assert report[0] == "imported 1 pages, 5 aliases, 5 articles, 1 drafts, 5 files"
    text = "\n".join(report)
    assert (f"{FIXTURE}/content/posts/harbour-wall-repairs.md:29: "
            '{{< tweet user="RiversideCoCo" id="1798000000000000000" >}} left as it is') in text
    assert f"{FIXTURE}/content/events/summer-regatta.md:10: {{{{< notice warning >}}}} left as it is" in text
    assert "/notice" not in text     # a closing tag is not noted twice
    assert report[-3:-1] == ["1 remote files are linked, not copied:",
                           "  https://cdn.example.net/courier/regatta-2023.jpg"]


def test_unknown_shortcode_stays_in_the_text(imported):
    _, out, _ = imported
    assert "{{< notice warning >}}" in article_body(out, "/2024/07/summer-regatta/").text_content()


# --- drafts, pages, files --------------------------------------------------------------------------

def test_draft_is_kept_as_a_draft_and_not_built(imported):
    site, out, _ = imported
    draft = front_matter(site, "posts/festival-draft.md")
    assert draft["draft"] is True and "aliases" not in draft
    assert not any("Seafood festival" in p.read_text(encoding="utf-8") for p in out.rglob("*.html"))


def test_top_level_content_is_a_page(imported):
    site, out, _ = imported
    about = front_matter(site, "pages/about.md")
    assert about["layout"] == "page" and about["summary"] == "Who we are and how to reach the newsroom."
    assert "owned by a trust" in parse_html(out, "about/index.html").text_content()


def test_static_folder_is_copied_to_the_root(imported):
    site, out, _ = imported
    for name in ("images/harbour.png", "images/mill.png", "robots-note.txt"):
        assert (site / "static" / name).read_bytes() == (FIXTURE / "static" / name).read_bytes()
        assert (out / name).is_file()


# --- refusals ----------------------------------------------------------------------------------------

def test_nothing_is_overwritten_without_force(tmp_path):
    site = tmp_path / "site"
    assert run_import(str(FIXTURE), "--site", str(site))[0] == 0
    code, _, stderr = run_import(str(FIXTURE), "--site", str(site))
    assert code == 1 and "already exists" in stderr and "--force" in stderr
    assert run_import(str(FIXTURE), "--site", str(site), "--force")[0] == 0


def test_bad_front_matter_is_one_error_naming_every_bad_file(tmp_path):
    source = tmp_path / "hugo"
    shutil.copytree(FIXTURE, source)
    (source / "content" / "posts" / "quay-bridge-closure.md").write_text('+++\ntitle = "Bridge"\ndate = \n+++\n\nx\n')
    (source / "content" / "events" / "summer-regatta.md").write_text('{\n  "title": "Regatta",\n  "date": \n}\n\nx\n')
    code, _, stderr = run_import(str(source), "--site", str(tmp_path / "site"))
    assert code == 1
    assert f"{source}/content/posts/quay-bridge-closure.md:3: invalid TOML" in stderr
    assert f"{source}/content/events/summer-regatta.md:4: invalid JSON" in stderr
    assert not (tmp_path / "site").exists()


def test_a_folder_without_config_is_refused(tmp_path):
    (tmp_path / "src" / "content").mkdir(parents=True)
    code, _, stderr = run_import(str(tmp_path / "src"), "--site", str(tmp_path / "site"))
    assert code == 1 and f"{tmp_path / 'src' / 'hugo.toml'}: not found" in stderr


def test_cascades_from_section_intros_reach_their_pages(tmp_path):
    source = small_site(tmp_path, 'baseURL = "https://x.example.org/"\ntitle = "X"\n', {
        "content/news/_index.md": "---\ntitle: News\ncascade:\n  comments: false\n---\n",
        "content/news/a.md": "---\ntitle: A\ndate: 2024-01-02\n---\n\nText.\n",
        "content/snippets/_index.md": "---\ntitle: Snippets\ncascade:\n  build:\n    render: never\n---\n",
        "content/snippets/s.md": "---\ntitle: S\n---\n\nReused text.\n",
    })
    code, stdout, _ = run_import(str(source), "--site", str(tmp_path / "site"))
    assert code == 0
    assert front_matter(tmp_path / "site", "news/a.md")["params"] == {"comments": False}
    assert not (tmp_path / "site" / "content" / "snippets").exists()
    assert "1 headless pages (never rendered)" in stdout.splitlines()[1]
