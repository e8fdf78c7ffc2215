"""`ssg import jekyll`: a Jekyll site becomes a site that builds, whose old URLs still reach every post."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from conftest import build_site, parse_html, read
from import_harness import front_matter, import_and_build, import_site, redirect_target

FIXTURE = Path(__file__).parent / "fixtures" / "jekyll"


def run_import(*args: str) -> tuple[int, str, str]:
    return import_site("jekyll", *args)


def copy_fixture(tmp_path: Path) -> Path:
    source = tmp_path / "jekyll"
    shutil.copytree(FIXTURE, source)
    return source


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> tuple[Path, Path, list[str]]:
    """The fixture site imported into a new site and built: (site, output, report lines)."""
    return import_and_build("jekyll", FIXTURE, tmp_path_factory.mktemp("imported") / "site")


# --- settings and front matter -----------------------------------------------------------------------

def test_new_site_settings_come_from_config(imported):
    site, _, _ = imported
    settings = yaml.safe_load(read(site, "site.yaml"))
    assert settings["title"] == "The Wendbury Ledger"
    assert settings["base_url"] == "https://ledger.example.org/"
    assert settings["description"] == "News from Wendbury and the Wend valley."
    assert settings["language"] == "en-GB"
    assert settings["timezone"] == "Europe/London"
    # /:categories/:year/:month/:day/:title/ said in this generator's words
    assert settings["permalink"] == "/{section}/{year}/{month}/{day}/{slug}/"
    assert settings["authors"]["Maria Hale"] == {"bio": "Maria covers transport and the town council.",
                                                 "url": "https://ledger.example.org/team/maria-hale/"}
    assert settings["authors"]["Tunde Okafor"] == {"bio": "Tunde writes about business on the high street."}


def test_post_front_matter_is_mapped(imported):
    site, _, _ = imported
    post = front_matter(site, "news/bus-lane-trial.md")
    assert post["title"] == "Bus lane trial on Station Road begins Monday"
    assert post["date"] == "2024-03-05T07:30:00+00:00"
    assert post["author"] == "Maria Hale"              # the key in _data/authors.yml, as its display name
    assert post["section"] == "News"
    assert post["slug"] == "bus-lane-trial"
    assert post["tags"] == ["transport", "Council"]
    assert post["summary"] == "A six-month trial gives buses their own lane between the station and the market square."
    assert post["image"] == "/assets/images/weir.png"
    assert post["params"] == {"comments": True}        # from `defaults:`; Jekyll's `layout` is not carried over
    assert "draft" not in post


def test_dates_come_from_the_file_name_in_the_sites_time_zone(imported):
    site, _, _ = imported
    assert front_matter(site, "business/cafe-reopens-on-mill-street.md")["date"] == "2024-03-12T00:00:00+00:00"
    assert front_matter(site, "news/library-hours.md")["date"] == "2024-05-10T00:00:00+01:00"  # summer time
    flood = front_matter(site, "news/flood-defences-approved.md")
    assert flood["date"] == "2024-04-02T18:45:00+01:00"     # front matter's date and offset win
    assert flood["updated"] == "2024-04-03T09:15:00+01:00"  # last_modified_at


def test_percent_escaped_file_name_gives_a_decoded_slug(imported):
    site, _, _ = imported
    cafe = front_matter(site, "business/cafe-reopens-on-mill-street.md")
    assert cafe["slug"] == "cafe-reopens-on-mill-street"
    assert cafe["title"] == "Café reopens on Mill Street after the winter floods"


def test_first_category_is_the_section_and_the_rest_are_tags(imported):
    site, _, _ = imported
    flood = front_matter(site, "news/flood-defences-approved.md")  # categories: "news local"
    assert (flood["section"], flood["tags"]) == ("News", ["local"])
    assert flood["authors"] == ["Maria Hale", "Tunde Okafor"]
    cafe = front_matter(site, "business/cafe-reopens-on-mill-street.md")  # category: Business, tags: "food high-street"
    assert (cafe["section"], cafe["tags"]) == ("Business", ["food", "high-street"])
    budget = front_matter(site, "council-watch/council-budget.md")  # categories: [Council Watch]
    assert budget["section"] == "Council Watch"
    library = front_matter(site, "news/library-hours.md")  # no category; tags Library and library
    assert (library["section"], library["tags"]) == ("News", ["Library", "community"])


def test_summary_is_the_text_before_the_more_marker(imported):
    site, _, _ = imported
    assert front_matter(site, "news/library-hours.md")["summary"] == \
        "Wendbury library will open until 5pm on Saturdays from June."
    assert front_matter(site, "news/flood-defences-approved.md")["summary"].startswith("Planning committee backs")


def test_posts_without_an_author_get_the_sites_author(imported):
    site, out, _ = imported
    assert front_matter(site, "news/library-hours.md")["author"] == "Ledger Newsdesk"
    assert (out / "authors" / "ledger-newsdesk" / "index.html").is_file()


# --- old URLs ----------------------------------------------------------------------------------------

# (old URL on the Jekyll site, URL in the new site)
OLD_URLS = [
    ("/news/2024/03/05/bus-lane-trial/", "/news/2024/03/05/bus-lane-trial/"),
    ("/bus-lane/", "/news/2024/03/05/bus-lane-trial/"),                          # redirect_from
    # :title keeps case and turns % into a hyphen (Jekyll's "pretty" slugify); :categories is lower-cased
    ("/business/2024/03/12/caf-C3-A9-reopens-on-mill-street/", "/business/2024/03/12/cafe-reopens-on-mill-street/"),
    ("/news/local/2024/04/02/flood-defences-approved/", "/news/2024/04/02/flood-defences-approved/"),
    ("/budget-2024/", "/council-watch/2024/04/20/council-budget/"),             # the post's own permalink
    ("/2024/05/10/library-hours/", "/news/2024/05/10/library-hours/"),           # no category, no segment
    ("/about/", "/about/"),
    ("/info/contact/", "/contact/"),
]


@pytest.mark.parametrize("old, new", OLD_URLS)
def test_every_old_url_reaches_the_new_page(imported, old, new):
    _, out, _ = imported
    assert (out / new.lstrip("/") / "index.html").is_file()
    if old != new:
        assert redirect_target(out, old) == new


def test_a_url_that_did_not_change_is_no_alias(imported):
    site, _, _ = imported
    assert front_matter(site, "news/bus-lane-trial.md")["aliases"] == ["/bus-lane/"]


def test_base_url_path_joins_the_address_and_old_urls_stay_relative_to_it(tmp_path):
    # baseurl /news and a category news: the old /news/news/local/... must not lose both segments
    source = copy_fixture(tmp_path)
    config = source / "_config.yml"
    config.write_text(config.read_text().replace('baseurl: ""', "baseurl: /news"))
    code, _, stderr = run_import(str(source), "--site", str(tmp_path / "site"))
    assert code == 0, stderr
    assert yaml.safe_load(read(tmp_path / "site", "site.yaml"))["base_url"] == "https://ledger.example.org/news/"
    assert front_matter(tmp_path / "site", "news/bus-lane-trial.md")["aliases"] == ["/bus-lane/"]
    assert front_matter(tmp_path / "site", "news/flood-defences-approved.md")["aliases"] == \
        ["/news/local/2024/04/02/flood-defences-approved/"]
    out = build_site(tmp_path / "site")
    assert redirect_target(out, "/bus-lane/") == "/news/news/2024/03/05/bus-lane-trial/"


def test_an_existing_site_under_another_path_keeps_the_old_base_in_its_aliases(tmp_path):
    source = copy_fixture(tmp_path)
    config = source / "_config.yml"
    config.write_text(config.read_text().replace('baseurl: ""', "baseurl: /ledger"))
    site = tmp_path / "site"
    site.mkdir()
    (site / "site.yaml").write_text("title: New home\nbase_url: https://www.example.org/\n"
                                    "permalink: /{section}/{year}/{month}/{day}/{slug}/\ntimezone: Europe/London\n")
    assert run_import(str(source), "--site", str(site))[0] == 0
    assert front_matter(site, "news/bus-lane-trial.md")["aliases"] == \
        ["/ledger/news/2024/03/05/bus-lane-trial/", "/ledger/bus-lane/"]


@pytest.mark.parametrize("permalink, old", [
    ("date", "/local news/2024/03/05/Bus-Lane.html"),
    ("pretty", "/local news/2024/03/05/Bus-Lane/"),
    ("none", "/local news/Bus-Lane.html"),
    ("ordinal", "/local news/2024/065/Bus-Lane.html"),
    ("/:year/:i_month/:i_day/:short_year/:slug/", "/2024/3/5/24/bus-lane/"),
    ("/:slugified_categories/:title:output_ext", "/local-news/Bus-Lane.html"),
    ("/:month_:day/:title/", "/03_05/Bus-Lane/"),
])
def test_permalink_styles_give_the_old_urls_jekyll_gave(tmp_path, permalink, old):
    source = tmp_path / "src"
    (source / "_posts").mkdir(parents=True)
    (source / "_config.yml").write_text(f"title: T\nurl: https://t.example.org\npermalink: {permalink!r}\n")
    (source / "_posts" / "2024-03-05-Bus-Lane.md").write_text(
        "---\ntitle: Bus lane\ndate: 2024-03-05 22:30:00 -0800\ncategories: [Local News]\n---\n\nText.\n")
    code, _, stderr = run_import(str(source), "--site", str(tmp_path / "site"))
    assert code == 0, stderr
    # 22:30 at -08:00 is already the 6th in UTC, the site's zone: the URL keeps the date as written.
    assert front_matter(tmp_path / "site", "local-news/bus-lane.md")["aliases"] == [old]


def test_permalink_jekyll_cannot_say_in_our_words_falls_back_to_the_default(tmp_path):
    source = tmp_path / "src"
    (source / "_posts").mkdir(parents=True)
    (source / "_config.yml").write_text("title: T\nurl: https://t.example.org\npermalink: /:year/:y_day/:title/\n")
    (source / "_posts" / "2024-03-05-bus-lane.md").write_text("---\ntitle: Bus lane\n---\n\nText.\n")
    assert run_import(str(source), "--site", str(tmp_path / "site"))[0] == 0
    assert yaml.safe_load(read(tmp_path / "site", "site.yaml"))["permalink"] == "/{section}/{slug}/"
    assert front_matter(tmp_path / "site", "news/bus-lane.md")["aliases"] == ["/2024/065/bus-lane/"]


# --- bodies ------------------------------------------------------------------------------------------

def test_liquid_is_converted_where_it_is_mechanical(imported):
    _, out, _ = imported
    page = parse_html(out, "news/2024/03/05/bus-lane-trial/index.html")
    body = page.xpath('//div[contains(@class, "article-body")]')[0]
    links = body.xpath(".//a/@href")
    assert "/assets/docs/route-map.txt" in links                      # {{ site.baseurl }} removed
    assert "/news/2024/04/02/flood-defences-approved/" in links       # {% post_url %}
    assert "/about/" in links                                         # {% link about.md %}
    assert body.xpath(".//img/@src") == ["/assets/images/weir.png"]
    text = body.text_content()
    assert "Next bus: {{ departure.time }}" in text                   # {% raw %} unwrapped, its text kept
    assert "{% raw %}" not in text and "{% endraw %}" not in text
    highlighted = body.xpath('.//div[contains(@class, "highlight")]//code')[0].text_content()
    assert 'GREEN_SECONDS = {"station_road": 42' in highlighted        # {% highlight %} became fenced code
    assert "{% highlight" not in text


def test_liquid_inside_code_is_left_as_written(imported):
    _, out, _ = imported
    body = parse_html(out, "news/2024/03/05/bus-lane-trial/index.html")
    code = [c.text_content() for c in body.xpath('//div[contains(@class, "article-body")]//code')]
    assert "{{ site.baseurl }}" in code
    assert "{{ site.url }}/feed.xml" in code   # after the last fence too
    assert any("{% post_url 2024-04-02-flood-defences-approved %}" in c for c in code)


def test_html_post_keeps_its_html(imported):
    _, out, _ = imported
    body = parse_html(out, "council-watch/2024/04/20/council-budget/index.html")
    article = body.xpath('//div[contains(@class, "article-body")]')[0]
    assert article.xpath(".//p[contains(., 'An indented paragraph stays HTML')]")
    # A blank line inside the factbox and an indented line after it stay HTML too, and the <pre> keeps
    # its blank line.
    assert article.xpath(".//div[@class='factbox']/p[contains(., 'band D home')]")
    assert article.xpath("string(.//pre)") == "band  rise\n\nD     84"
    assert not article.xpath(".//code")
    assert article.xpath(".//a/@href") == ["/assets/docs/route-map.txt"]


def test_html_post_is_cut_after_its_first_blocks_for_a_paywalled_reader(imported, tmp_path):
    # The meter's teaser counts an HTML post's top-level elements, as it counts Markdown paragraphs.
    site = tmp_path / "metered"
    shutil.copytree(imported[0], site)
    with open(site / "site.yaml", "a", encoding="utf-8") as settings:
        settings.write("meter:\n  limit: 3\n  teaser_paragraphs: 2\n")
    for page in ("signin", "subscribe"):
        (site / f"content/pages/{page}.md").write_text(f"---\ntitle: {page}\n---\nx\n", encoding="utf-8")
    out = build_site(site)
    article = parse_html(out, "council-watch/2024/04/20/council-budget/index.html").xpath(
        '//div[contains(@class, "article-body")]')[0]
    blocks = [child for child in article if child.tag != "div" or child.get("data-meter-cut") is None]
    cut = [index for index, child in enumerate(article) if child.get("data-meter-cut") is not None]
    assert cut == [2] and len(blocks) == 5
    assert "indented paragraph" in article[1].text_content()


def test_report_counts_and_points_at_what_needs_a_human(imported):
    _, _, report = imported
    assert report[0] == "imported 5 articles, 6 aliases, 2 drafts, 2 pages, 2 files"
    post = f"{FIXTURE}/_posts/2024-04-02-flood-defences-approved.md"
    assert any(line.startswith(f"{post}:13: {{% include newsletter.html %}} left as it is") for line in report)
    assert any(line.startswith(f"{post}:15: {{{{ page.title }}}} left as it is") for line in report)
    assert any(line.startswith(f"{FIXTURE}/archive.html:1: a list of posts") for line in report)
    assert "1 listing pages" in report[1]
    assert report[-3:-1] == ["1 remote files are linked, not copied:",
                           "  https://images.example.com/ledger/cafe-counter.jpg"]


# --- drafts, pages, files --------------------------------------------------------------------------

def test_drafts_and_unpublished_posts_are_drafts_and_never_built(imported):
    site, out, _ = imported
    for relative in ("news/market-hall-plans.md", "news/school-run-survey.md"):
        draft = front_matter(site, relative)
        assert draft["draft"] is True
        assert "aliases" not in draft           # never published: no old URL
    built = "".join(p.read_text(encoding="utf-8") for p in out.rglob("*.html"))
    assert "Market hall plans" not in built and "School run survey" not in built


def test_pages_become_standalone_pages(imported):
    site, out, _ = imported
    about = front_matter(site, "pages/about.md")
    assert about["layout"] == "page" and about["title"] == "About the Ledger"
    assert "independent newsroom" in parse_html(out, "about/index.html").text_content()
    written = sorted(p.relative_to(site / "content").as_posix() for p in (site / "content").rglob("*.md"))
    assert "pages/archive.md" not in written and "pages/index.md" not in written and "pages/feed.md" not in written


def test_static_files_are_copied_to_the_same_path(imported):
    site, out, _ = imported
    original = (FIXTURE / "assets" / "images" / "weir.png").read_bytes()
    assert (site / "static" / "assets" / "images" / "weir.png").read_bytes() == original
    assert (out / "assets" / "images" / "weir.png").read_bytes() == original
    assert (out / "assets" / "docs" / "route-map.txt").is_file()
    copied = sorted(p.relative_to(site / "static").as_posix() for p in (site / "static").rglob("*") if p.is_file())
    assert copied == ["assets/docs/route-map.txt", "assets/images/weir.png"]  # no README, Gemfile, Sass, scripts


# --- refusals ----------------------------------------------------------------------------------------

def test_nothing_is_overwritten_without_force(tmp_path):
    site = tmp_path / "site"
    assert run_import(str(FIXTURE), "--site", str(site))[0] == 0
    page = site / "content" / "pages" / "about.md"
    page.write_text("---\ntitle: Edited\nlayout: page\n---\n\nMine.\n")
    code, _, stderr = run_import(str(FIXTURE), "--site", str(site))
    assert code == 1
    assert f"{page}: already exists" in stderr
    assert "Mine." in page.read_text()
    assert run_import(str(FIXTURE), "--site", str(site), "--force")[0] == 0
    assert "independent newsroom" in page.read_text()


def test_bad_front_matter_is_one_error_naming_every_bad_file(tmp_path):
    source = copy_fixture(tmp_path)
    (source / "_posts" / "2024-05-10-library-hours.md").write_text("---\ntitle: Library\ntags: [a, b\n---\n\nx\n")
    (source / "about.md").write_text("---\ntitle: About\n  bad: indentation: here\n---\n\nx\n")
    code, _, stderr = run_import(str(source), "--site", str(tmp_path / "site"))
    assert code == 1
    assert f"{source}/_posts/2024-05-10-library-hours.md:" in stderr
    assert f"{source}/about.md:3: invalid YAML" in stderr
    assert "Traceback" not in stderr
    assert not (tmp_path / "site").exists()


def test_a_folder_without_config_is_refused(tmp_path):
    (tmp_path / "src" / "_posts").mkdir(parents=True)
    code, _, stderr = run_import(str(tmp_path / "src"), "--site", str(tmp_path / "site"))
    assert code == 1
    assert f"{tmp_path / 'src' / '_config.yml'}: not found" in stderr


def test_a_bad_time_zone_is_named_at_its_line(tmp_path):
    source = copy_fixture(tmp_path)
    config = source / "_config.yml"
    config.write_text(config.read_text().replace("timezone: Europe/London", "timezone: Europe/Wendbury"))
    code, _, stderr = run_import(str(source), "--site", str(tmp_path / "site"))
    assert code == 1
    assert f"{config}:7: unknown time zone 'Europe/Wendbury'" in stderr


def test_category_folders_symbolic_links_and_a_missing_url(tmp_path):
    source = tmp_path / "src"
    (source / "sport" / "_posts").mkdir(parents=True)
    (source / "assets").mkdir()
    (source / "_config.yml").write_text("title: T\npermalink: pretty\n")
    (source / "sport" / "_posts" / "2024-01-06-derby-day.md").write_text("---\ntitle: Derby day\n---\n\nA draw.\n")
    (source / "assets" / "logo.txt").write_text("logo")
    outside = tmp_path / "secret.txt"
    outside.write_text("do not publish")
    (source / "assets" / "secret.txt").symlink_to(outside)
    code, stdout, stderr = run_import(str(source), "--site", str(tmp_path / "site"))
    assert code == 0, stderr
    site = tmp_path / "site"
    post = front_matter(site, "sport/derby-day.md")
    assert post["section"] == "Sport" and "aliases" not in post    # /sport/2024/01/06/derby-day/ as before
    assert sorted(p.name for p in (site / "static" / "assets").iterdir()) == ["logo.txt"]
    assert f"{source / 'assets' / 'secret.txt'}: is a symbolic link to something outside the site folder" in stdout
    assert yaml.safe_load(read(site, "site.yaml"))["base_url"] == "https://example.org/"
    assert f"{source / '_config.yml'}: no 'url' here" in stdout
    build_site(site)


def test_lead_images_under_theme_names(tmp_path):
    source = tmp_path / "src"
    (source / "_posts").mkdir(parents=True)
    (source / "assets").mkdir()
    (source / "assets" / "lead.png").write_bytes((FIXTURE / "assets" / "images" / "weir.png").read_bytes())
    (source / "_config.yml").write_text("title: T\nurl: https://t.example.org\n")
    (source / "_posts" / "2024-01-01-a.md").write_text(
        "---\ntitle: A\nheader:\n  image: assets/lead.png\n  overlay_color: '#333'\n---\n\nx\n")
    (source / "_posts" / "2024-01-02-b.md").write_text(
        "---\ntitle: B\nimage: {path: 'https://cdn.example.com/b.jpg', alt: 'A bridge'}\n---\n\nx\n")
    (source / "_posts" / "2024-01-03-c.md").write_text("---\ntitle: C\nfeature_image: /assets/missing.png\n---\n\nx\n")
    code, stdout, _ = run_import(str(source), "--site", str(tmp_path / "site"))
    assert code == 0
    assert front_matter(tmp_path / "site", "news/a.md")["image"] == "/assets/lead.png"
    assert front_matter(tmp_path / "site", "news/b.md")["image"] == {"src": "https://cdn.example.com/b.jpg",
                                                                      "alt": "A bridge"}
    assert "image" not in front_matter(tmp_path / "site", "news/c.md")
    assert "image '/assets/missing.png' is not a file of the site" in stdout
    assert "  https://cdn.example.com/b.jpg" in stdout.splitlines()
    build_site(tmp_path / "site")


def test_home_and_404_pages_kept_in_a_folder_are_left_to_the_generator(tmp_path):
    source = tmp_path / "src"
    (source / "pages").mkdir(parents=True)
    (source / "_posts").mkdir()
    (source / "_config.yml").write_text("title: T\nurl: https://t.example.org\n")
    (source / "pages" / "home.html").write_text("---\npermalink: /\ntitle: Home\n---\n<p>Welcome</p>\n")
    (source / "pages" / "404.html").write_text("---\npermalink: /404.html\ntitle: Lost\n---\n<p>Not here</p>\n")
    (source / "pages" / "news.md").write_text("---\ntitle: Newsroom\n---\n\nWho edits the news.\n")
    (source / "_posts" / "2024-01-01-a.md").write_text("---\ntitle: A\ncategories: news\n---\n\nx\n")
    code, stdout, _ = run_import(str(source), "--site", str(tmp_path / "site"))
    assert code == 0
    assert "2 home and 404 pages" in stdout.splitlines()[1]
    # a page named like a section gets another slug: /news/ stays the section's list
    page = front_matter(tmp_path / "site", "pages/news-2.md")
    assert page["slug"] == "news-2" and page["aliases"] == ["/pages/news.html"]
    assert "/news/ is already the URL of the list of News" in stdout
    build_site(tmp_path / "site")


def test_into_an_existing_site_links_between_imported_posts_follow_its_permalink(tmp_path):
    # The existing site keeps its own permalink, not the old site's: a {% post_url %} link must lead to the
    # URL the post has in this site, and the old URL still redirects there.
    site = tmp_path / "site"
    (site / "content").mkdir(parents=True)
    (site / "site.yaml").write_text("title: Existing\nbase_url: https://existing.example/\n", encoding="utf-8")
    code, _, err = run_import(str(FIXTURE), "--site", str(site))
    assert code == 0, err
    assert (site / "site.yaml").read_text() == "title: Existing\nbase_url: https://existing.example/\n"
    out = build_site(site)
    body = parse_html(out, "news/bus-lane-trial/index.html").xpath('//div[contains(@class, "article-body")]')[0]
    assert "/news/flood-defences-approved/" in body.xpath(".//a/@href")
    assert (out / "news/flood-defences-approved/index.html").is_file()
    assert redirect_target(out, "/news/local/2024/04/02/flood-defences-approved/") == "/news/flood-defences-approved/"
