"""`ssg import wordpress`: a WordPress export (WXR) becomes a site that builds, keeps its old URLs and files,
and reports what needs a human as `path:line: message`. Checked through the command and the built pages."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest
import yaml

from conftest import build_site, parse_html, run_cli
from import_harness import front_matter
from ssg.cli import main
from ssg.importers.html_markdown import autop

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "wordpress"
EXPORT = FIXTURE / "export.xml"
UPLOADS = FIXTURE / "uploads"
BODY = '//div[contains(@class, "article-body")]'

# Every public post and page of the fixture: its <link> path on the old site, and its title.
OLD_URLS = {
    "/2019/05/06/river-wend-breaks-banks/": "River Wend breaks its banks at Mill Lane",
    "/2019/08/14/council-approves-bus-depot/": "Council approves £4m bus depot for Station Road",
    "/2019/07/21/carnival-in-pictures/": "Photos: Harwick carnival in pictures",
    "/2019/09/02/caf%c3%a9-wins-award-%e2%80%93-again/": "Café on High Street wins award – again",
    "/2019/06/01/road-closures/": "Road closures this weekend",
    "/2019/08/10/road-closures/": "Road closures this weekend",
    "/2019/09/20/morning-fog-over-the-wend/": "Morning fog over the wend",
    "/about/": "About the Courier",
    "/about/contact/": "Contact the newsroom",
}


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> tuple[Path, Path, str]:
    """The fixture export imported by the command a user runs, then built: (site, output, report)."""
    site = tmp_path_factory.mktemp("wordpress") / "site"
    result = run_cli("import", "wordpress", str(EXPORT), "--site", str(site), "--uploads", str(UPLOADS))
    assert result.returncode == 0, result.stderr
    return site, build_site(site), result.stdout


def line_of(text: str) -> int:
    """The line of the fixture export where `text` first appears."""
    return next(n for n, line in enumerate(EXPORT.read_text(encoding="utf-8").splitlines(), 1) if text in line)


def page_path(out: Path, url: str) -> Path:
    return out / unquote(url).lstrip("/") / "index.html"


def body(out: Path, url: str):
    return parse_html(page_path(out, url).parent, "index.html").xpath(BODY)[0]


# --- the report and the settings --------------------------------------------------------------------------

def test_report_counts_what_was_imported_and_left_out(imported):
    report = imported[2]
    assert "imported 8 articles, 1 aliases, 3 drafts, 3 pages, 5 files" in report
    left_out = next(line for line in report.splitlines() if line.startswith("left out:"))
    for part in ("3 comments", "1 trashed posts", "1 menu items", "1 reusable blocks", "1 'event' items"):
        assert part in left_out


def test_report_names_each_point_needing_a_human_by_line(imported):
    lines = imported[2].splitlines()
    where = f"{EXPORT}:"
    assert f"{where}{line_of('[contact-form-7')}: unknown shortcode [contact-form-7] left as text: " \
           "replace it with what it showed" in lines
    assert any(line.startswith(f"{where}{line_of('wp:latest-posts')}: block wp:latest-posts") for line in lines)
    untitled = line_of("<title><![CDATA[]]></title>")
    assert any(line.startswith(f"{where}{untitled}: a post without a title") for line in lines)
    pending, private = line_of("[pending]"), line_of("[private]")
    assert f"{where}{pending}: 'Letters: the bypass, the bins and the bells' was pending review: " \
           "imported as a draft" in lines
    assert f"{where}{private}: 'Newsroom rota for the election' was private: imported as a draft" in lines


def test_report_lists_remote_files(imported):
    report = imported[2]
    assert "2 remote files are linked, not copied:" in report
    assert "  https://images.photodesk.example/carnival/crowd.jpg" in report.splitlines()
    # An upload the --uploads folder does not have stays on the old host, and is listed.
    assert "  https://courier.example.org/wp-content/uploads/2019/07/confetti.jpg" in report.splitlines()


def test_new_site_settings_come_from_the_channel(imported):
    settings = yaml.safe_load((imported[0] / "site.yaml").read_text(encoding="utf-8"))
    assert settings["title"] == "The Harwick Courier"
    assert settings["base_url"] == "https://courier.example.org/"
    assert settings["description"] == "News from Harwick & the Wend valley"
    assert settings["language"] == "en-GB"
    assert settings["timezone"] == "Etc/GMT-2"          # every post at UTC+2 (POSIX names count backwards)
    assert settings["permalink"] == "/{year}/{month}/{day}/{slug}/"   # /%year%/%monthnum%/%day%/%postname%/
    assert settings["authors"] == {"Dana Drummond": {}, "Kofi Mensah": {}}


# --- front matter -----------------------------------------------------------------------------------------

def test_front_matter_of_a_classic_post(imported):
    meta = front_matter(imported[0], "news/river-wend-breaks-banks.md")
    assert meta["title"] == "River Wend breaks its banks at Mill Lane"
    assert meta["date"] == "2019-05-06T08:30:00+02:00"
    assert meta["updated"] == "2019-05-07T10:00:00+02:00"
    assert meta["author"] == "Dana Drummond"             # the login "dana" by its display name
    assert meta["section"] == "News"                     # the first category that is not Uncategorized
    assert meta["tags"] == ["Council", "flooding", "Mill Lane"]   # "Flooding" was the same tag
    assert meta["summary"] == ("The River Wend burst its banks at Mill Lane shortly before dawn on Monday, flooding "
                               "six houses and the car park behind the Feathers. Residents were woken by neighbours "
                               "knocking on doors.")     # the text before <!--more-->
    assert meta["image"] == {"src": "/wp-content/uploads/2019/05/mill-lane-flood.jpg",
                             "alt": "Brown water up to the doors on Mill Lane",
                             "caption": "Floodwater on Mill Lane, Monday morning"}
    assert meta["params"] == {"print_page": "A1", "wordpress_id": 101, "guid": "https://courier.example.org/?p=101",
                              "sticky": True, "comment_status": "open"}
    assert "aliases" not in meta and "draft" not in meta


def test_front_matter_decodes_entities_and_escaped_slugs(imported):
    meta = front_matter(imported[0], "news/café-wins-award-–-again.md")
    assert meta["title"] == "Café on High Street wins award – again"
    assert meta["slug"] == "café-wins-award-–-again"
    council = front_matter(imported[0], "council/council-approves-bus-depot.md")
    assert council["title"] == "Council approves £4m bus depot for Station Road"
    assert council["author"] == "Kofi Mensah"
    assert council["summary"] == "A 9-4 vote clears the way for the depot."   # the excerpt, as text
    assert council["tags"] == ["transport", "Budget"]


def test_a_post_without_title_or_category(imported):
    meta = front_matter(imported[0], "news/morning-fog-over-the-wend.md")
    assert meta["title"] == "Morning fog over the wend"
    assert meta["section"] == "News"


def test_drafts_pending_and_private_posts_are_drafts_and_not_published(imported):
    site, out, _ = imported
    for relative in ("news/questions-over-the-school-budget.md", "community/letters-bypass-bins-bells.md",
                     "news/newsroom-rota.md"):
        assert front_matter(site, relative)["draft"] is True
    # A draft has no GMT date: its local date is taken in the site's timezone.
    assert front_matter(site, "news/questions-over-the-school-budget.md")["date"] == "2019-10-03T11:20:00+02:00"
    built = {p.relative_to(out).as_posix() for p in out.rglob("index.html")}
    assert not any(name in page for page in built for name in ("school-budget", "letters", "newsroom-rota"))


def test_trashed_posts_are_left_out(imported):
    site, out, _ = imported
    assert not list(site.rglob("*mayor*"))
    assert "Mayor to resign" not in "".join(p.read_text(encoding="utf-8") for p in out.rglob("*.html"))


def test_a_scheduled_post_appears_once_its_time_has_come(imported, tmp_path):
    site, out, _ = imported
    meta = front_matter(site, "news/harwick-votes-live-results.md")
    assert meta["date"] == "2032-05-06T22:00:00+02:00" and "draft" not in meta
    assert not page_path(out, "/2032/05/06/harwick-votes-live-results/").exists()
    later = build_site(site, tmp_path / "future", future=True)
    assert page_path(later, "/2032/05/06/harwick-votes-live-results/").is_file()


# --- old URLs ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("old, title", OLD_URLS.items())
def test_every_old_url_still_leads_to_its_page(imported, old, title):
    out = imported[1]
    page = parse_html(page_path(out, old).parent, "index.html")
    refresh = page.xpath('//meta[@http-equiv="refresh"]/@content')
    if refresh:  # a redirect page: it must point at the page with that title
        target = refresh[0].split("url=", 1)[1]
        page = parse_html(page_path(out, target).parent, "index.html")
        assert target != old
    assert page.xpath("//h1/text()") == [title]


def test_posts_sharing_a_slug_both_survive(imported):
    site, out, _ = imported
    assert front_matter(site, "news/road-closures.md")["slug"] == "road-closures"
    # Their dates tell their URLs apart, so both keep their old URL exactly; only the files need two names.
    second = front_matter(site, "news/road-closures-2.md")
    assert second["slug"] == "road-closures" and "aliases" not in second
    assert "farmers' market" in body(out, "/2019/08/10/road-closures/").text_content().replace("\u2019", "'")


def test_pages_are_standalone_and_a_child_page_keeps_its_old_url(imported):
    site, out, _ = imported
    about = front_matter(site, "pages/about.md")
    assert about["layout"] == "page" and "section" not in about and "aliases" not in about
    assert front_matter(site, "pages/contact.md")["aliases"] == ["/about/contact/"]
    assert parse_html(out / "contact", "index.html").xpath("//h1/text()") == ["Contact the newsroom"]


def test_a_page_with_a_sections_url_moves_aside(imported):
    site, out, report = imported
    assert front_matter(site, "pages/news-2.md")["title"] == "News"
    item_line = line_of("<title><![CDATA[News]]></title>") - 1
    assert f"{EXPORT}:{item_line}: /news/ is already the URL of the list of News: this one gets the slug news-2" in report
    assert parse_html(out / "news", "index.html").xpath('//a[@href="/2019/05/06/river-wend-breaks-banks/"]')


# --- bodies -----------------------------------------------------------------------------------------------

def test_classic_body_gets_paragraphs_breaks_captions_lists_and_quotes(imported):
    article = body(imported[1], "/2019/05/06/river-wend-breaks-banks/")
    paragraphs = article.xpath("./p")
    assert paragraphs[0].xpath("count(br)") == 1          # a single newline was a line break
    assert paragraphs[0].text_content().startswith("The River Wend burst its banks")
    figure = article.xpath("./figure")[0]
    assert figure.xpath("img/@src") == ["/wp-content/uploads/2019/05/mill-lane-flood-300x200.jpg"]
    assert figure.xpath("img/@alt") == ["Water across Mill Lane"]
    assert figure.xpath("figcaption/text()") == ["Mill Lane at 7am on Monday"]
    assert article.xpath("./ul/li/text()") == ["until 8pm today", "from 7am tomorrow"]
    assert article.xpath("./blockquote/p/text()")[0].startswith("We have lived here thirty years")
    assert article.xpath("./h2/text()") == ["What happens next"]
    assert article.xpath('.//a[text()="this weekend\u2019s road closures"]/@href') == ["/2019/06/01/road-closures/"]
    assert "[caption" not in article.text_content() and "more" not in article.text_content().split()


def test_preformatted_text_and_markdown_lookalikes_survive(imported):
    article = body(imported[1], "/2019/06/01/road-closures/")
    assert "DIV-7  Bridge St -> Tanner's Row\n\nDIV-8  back to the square" in article.xpath("string(.//pre)")
    assert article.xpath("./p[last()]/text()")[0].startswith("# signs mark the route; 1. obey them.")
    assert not article.xpath(".//h1|.//ol")


def test_gutenberg_body_keeps_its_structure(imported):
    article = body(imported[1], "/2019/08/14/council-approves-bus-depot/")
    assert article.xpath("./p[1]/strong/text()") == ["new bus depot"]
    assert article.xpath("./figure[1]/img/@src") == ["/wp-content/uploads/2019/08/depot-plan.png"]
    assert article.xpath("./figure[1]/figcaption/text()") == ["The plan shows space for 40 buses"]
    assert article.xpath("./h2/text()") == ["How the money is split"]
    assert article.xpath("./table/thead/tr/th/text()") == ["Source", "Amount"]
    assert article.xpath("./table/tbody/tr[1]/td/text()") == ["Government grant", "£2.5m"]
    assert article.xpath("./ol/li/text()") == ["Demolition starts in spring.", "The depot opens in 2021."]
    assert article.xpath("./blockquote/p/text()") == ["It will take diesel buses off the high street at night.",
                                                      "— Cllr Ruth Amadi"]
    assert "depot_cost" in article.xpath("string(.//pre/code)")
    assert article.xpath(".//*[contains(@class, 'highlight')]")   # fenced with its language: highlighted
    assert article.xpath(".//a/@href")[-1] == "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    # A gallery block: one image per paragraph; links to the images' attachment pages are gone with them.
    gallery = article.xpath("./figure[img/@src='/wp-content/uploads/2019/05/mill-lane-flood.jpg']")
    assert gallery and gallery[0].xpath("string(figcaption)") == "Station Road flooded in May"
    assert article.xpath("./p/img/@src") == ["/wp-content/uploads/2019/07/carnival-band.png"]
    assert not article.xpath(".//li//img") and not article.xpath(".//a[contains(@href, 'carnival-band/')]")
    assert article.xpath("./p/text()").count("Station Road this year") == 1
    assert "morning briefing in your inbox" in article.text_content()   # the reusable block, inlined
    assert not article.xpath(".//iframe|.//script") and "wp:" not in article.text_content()


def test_gallery_embed_and_unknown_shortcode(imported):
    article = body(imported[1], "/2019/07/21/carnival-in-pictures/")
    figures = article.xpath("./figure")
    assert [f.xpath("string(img/@src)") for f in figures] == ["/wp-content/uploads/2019/07/carnival-float.png"]
    assert figures[0].xpath("string(figcaption)").replace("\u2019", "'") == "The Rotary Club's float won the prize"
    assert article.xpath('./p/img/@src')[0] == "/wp-content/uploads/2019/07/carnival-band.png"   # no caption
    assert article.xpath('.//a[@href="https://vimeo.com/76979871"]')
    assert article.xpath('.//a[@href="https://media.example.net/harwick-silver-band.mp3"]')
    assert article.xpath('.//img[@src="https://images.photodesk.example/carnival/crowd.jpg"]')
    text = re.sub("[\u201c\u201d]", '"', article.text_content())   # the typographic quotes of the engine
    assert '[contact-form-7 id="9" title="Send us your photos"]' in text   # left as text, and noted
    assert "[gallery] is how we make these pages" in text   # [[gallery]] is WordPress's way to write it


def test_uploads_are_copied_to_their_old_urls(imported):
    out = imported[1]
    for name in ("2019/05/mill-lane-flood.jpg", "2019/05/mill-lane-flood-300x200.jpg",
                 "2019/07/carnival-float.png", "2019/07/carnival-band.png", "2019/08/depot-plan.png"):
        assert (out / "wp-content/uploads" / name).read_bytes() == (UPLOADS / name).read_bytes()
    assert not (out / "wp-content/uploads/2019/07/confetti.jpg").exists()
    # The resized copy the body used was not kept: the body shows the original instead.
    assert not (out / "wp-content/uploads/2019/07/carnival-band-150x150.png").exists()


def test_the_imported_site_has_no_broken_links(imported, capsys):
    assert main(["check", "--site", str(imported[0])]) == 0


# --- writing into an existing site ------------------------------------------------------------------------

def test_an_existing_file_is_kept_unless_forced(tmp_path):
    site = tmp_path / "site"
    first = run_cli("import", "wordpress", str(EXPORT), "--site", str(site))   # no --uploads: files stay remote
    assert f"{EXPORT}: 7 uploaded files the posts use stay on the old site: run again with --uploads DIR" \
        in first.stdout
    article = site / "content/news/road-closures.md"
    article.write_text("edited by hand\n", encoding="utf-8")
    again = run_cli("import", "wordpress", str(EXPORT), "--site", str(site))
    assert again.returncode == 1
    assert f"{article}: already exists" in again.stderr and "--force" in again.stderr
    assert article.read_text(encoding="utf-8") == "edited by hand\n"
    forced = run_cli("import", "wordpress", str(EXPORT), "--site", str(site), "--force")
    assert forced.returncode == 0, forced.stderr
    assert article.read_text(encoding="utf-8").startswith("---\ntitle: Road closures this weekend\n")


# --- exports that are not what they should be -------------------------------------------------------------

def test_a_malformed_export_is_an_error_at_its_line(tmp_path):
    broken = tmp_path / "broken.xml"
    lines = EXPORT.read_text(encoding="utf-8").splitlines()
    bad = line_of("<wp:post_id>103</wp:post_id>")
    lines[bad - 1] = lines[bad - 1].replace("</wp:post_id>", "</wp:postid>")   # a mismatched tag
    broken.write_text("\n".join(lines), encoding="utf-8")
    result = run_cli("import", "wordpress", str(broken), "--site", str(tmp_path / "site"))
    assert result.returncode == 1
    assert result.stderr.startswith(f"{broken}:{bad}: not a valid WordPress export: mismatched tag")
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "site").exists()


def test_entity_declarations_are_refused(tmp_path):
    bomb = tmp_path / "bomb.xml"
    bomb.write_text('<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY lol "lol">\n'
                    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n]>\n'
                    '<rss><channel><title>&lol2;</title></channel></rss>\n', encoding="utf-8")
    result = run_cli("import", "wordpress", str(bomb), "--site", str(tmp_path / "site"))
    assert result.returncode == 1
    assert result.stderr.startswith(f"{bomb}:3: declares the entity 'lol'")


def test_a_file_that_is_not_an_export(tmp_path):
    feed = tmp_path / "feed.xml"
    feed.write_text('<?xml version="1.0"?>\n<rss><channel><title>A feed</title></channel></rss>\n', encoding="utf-8")
    result = run_cli("import", "wordpress", str(feed), "--site", str(tmp_path / "site"))
    assert result.returncode == 1 and "not a WordPress export" in result.stderr


# --- small exports for the other shapes of WordPress sites -------------------------------------------------

def wxr(link: str, items: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
  xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
<title>Valley Gazette</title><link>{link}</link><description></description><language>en</language>
<wp:wxr_version>1.2</wp:wxr_version>
{items}
</channel>
</rss>
"""


def item(post_id: int, title: str, link: str, local: str, gmt: str, content: str = "Text.", kind: str = "post",
         name: str = "") -> str:
    return f"""<item><title>{title}</title><link>{link}</link><dc:creator>ed</dc:creator>
<content:encoded><![CDATA[{content}]]></content:encoded><excerpt:encoded><![CDATA[]]></excerpt:encoded>
<wp:post_id>{post_id}</wp:post_id><wp:post_date>{local}</wp:post_date><wp:post_date_gmt>{gmt}</wp:post_date_gmt>
<wp:post_name>{name}</wp:post_name><wp:status>publish</wp:status><wp:post_type>{kind}</wp:post_type>
<category domain="category" nicename="local"><![CDATA[Local]]></category></item>"""


def test_plain_permalinks_become_query_aliases_and_changing_offsets_give_utc(tmp_path):
    export = tmp_path / "gazette.xml"
    export.write_text(wxr("https://gazette.example.net", "\n".join([
        item(12, "Winter fair", "https://gazette.example.net/?p=12", "2020-01-05 10:00:00", "2020-01-05 09:00:00",
             name="winter-fair"),
        item(14, "Summer fair", "https://gazette.example.net/?p=14", "2020-07-05 10:00:00", "2020-07-05 08:00:00",
             name="summer-fair"),
        item(5, "Imprint", "https://gazette.example.net/?page_id=5", "2020-01-01 10:00:00", "2020-01-01 09:00:00",
             kind="page", name="imprint"),
    ])), encoding="utf-8")
    site = tmp_path / "site"
    result = run_cli("import", "wordpress", str(export), "--site", str(site))
    assert result.returncode == 0, result.stderr
    settings = yaml.safe_load((site / "site.yaml").read_text(encoding="utf-8"))
    assert settings["permalink"] == "/{section}/{slug}/" and settings["timezone"] == "UTC"
    assert f"{export}: posts were written at several offsets (UTC+01:00, UTC+02:00" in result.stdout
    winter = front_matter(site, "local/winter-fair.md")
    assert winter["aliases"] == ["/?p=12"] and winter["date"] == "2020-01-05T10:00:00+01:00"
    assert front_matter(site, "local/summer-fair.md")["date"] == "2020-07-05T10:00:00+02:00"
    assert front_matter(site, "pages/imprint.md")["aliases"] == ["/?page_id=5"]
    out = build_site(site)
    assert parse_html(out / "local/winter-fair", "index.html").xpath("//h1/text()") == ["Winter fair"]


def test_a_site_in_a_subfolder_keeps_its_paths_and_files(tmp_path):
    uploads = tmp_path / "uploads"
    (uploads / "2020/01").mkdir(parents=True)
    (uploads / "2020/01/bridge.png").write_bytes((UPLOADS / "2019/08/depot-plan.png").read_bytes())
    export = tmp_path / "blog.xml"
    export.write_text(wxr("https://example.org/blog", item(
        7, "Bridge reopens", "https://example.org/blog/news/bridge-reopens/", "2020-01-05 10:00:00",
        "2020-01-05 10:00:00", name="bridge-reopens",
        content='The bridge is open.\n\n<img src="https://example.org/blog/wp-content/uploads/2020/01/bridge.png" '
                'alt="The bridge" />\n\nSee <a href="https://example.org/blog/about/">about us</a>.')),
        encoding="utf-8")
    site = tmp_path / "site"
    assert run_cli("import", "wordpress", str(export), "--site", str(site), "--uploads", str(uploads)).returncode == 0
    settings = yaml.safe_load((site / "site.yaml").read_text(encoding="utf-8"))
    assert settings["base_url"] == "https://example.org/blog/" and settings["timezone"] == "UTC"
    assert settings["permalink"] == "/news/{slug}/"            # WordPress's /news/%postname%/, under /blog
    assert "aliases" not in front_matter(site, "local/bridge-reopens.md")
    out = build_site(site)
    article = body(out, "/news/bridge-reopens/")
    assert article.xpath(".//img/@src") == ["/blog/wp-content/uploads/2020/01/bridge.png"]
    assert article.xpath(".//a/@href") == ["/blog/about/"]
    assert (out / "wp-content/uploads/2020/01/bridge.png").is_file()


# --- wpautop ----------------------------------------------------------------------------------------------

def test_autop_wraps_text_blocks_and_breaks_lines():
    text = "First line\nsecond line\n\n<h2>Head</h2>\nAfter the head.\n<ul>\n<li>one</li>\n</ul>\n" \
           "<blockquote>Quoted</blockquote>\n<pre>a\n\nb</pre>\n<strong>Bold</strong> start"
    html = autop(text)
    assert "<p>First line<br />\nsecond line</p>" in html
    assert "<h2>Head</h2>" in html and "<p>After the head.</p>" in html
    assert "<li>one</li>" in html and "<p><li>" not in html and "<p><ul>" not in html
    assert "<blockquote><p>Quoted</p></blockquote>" in html
    assert "<pre>a\n\nb</pre>" in html              # preformatted text is left as it is
    assert "<p><strong>Bold</strong> start</p>" in html
    assert re.search(r"<p>\s*</p>", html) is None
