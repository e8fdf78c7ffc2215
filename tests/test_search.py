"""Site search (`search: true`): the search page and its Pagefind index, through builds, HTTP and Chromium.

The index must hold no more than a reader who has not paid may read: the full text of free articles and
pages, only the summary and teaser of metered articles, only the summary of articles for subscribers, and
nothing of drafts or future articles."""
from __future__ import annotations

import functools
import json
import gzip
import http.server
import threading
from pathlib import Path

import pytest

from conftest import METERED_SITE_YAML, NOW, article, build_site, make_site, parse_html
from meter_harness import chromium
from ssg.access import add_public_key, generate_key
from ssg.errors import BuildFailed, SsgError
from ssg.pipeline import BuildOptions, build

# teaser_paragraphs: 2; readers can sign in, so that an article may be for subscribers.
SEARCH_SITE_YAML = METERED_SITE_YAML + "access:\n  issuer: https://members.example.org\n  keys: keys.json\nsearch: true\n"

# The policy every page is served with, and the search page's (as the site's _headers grants it):
# Pagefind runs WebAssembly, nothing else is allowed.
CSP = "default-src 'self'"
SEARCH_CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'"

# Each phrase is in one place only, so finding it (or not) says which part of which document is indexed.
# Pagefind also matches words loosely (a word its index lacks may match another document by a prefix), so
# "not found" is asserted as "that document is not among the results".
FREE_LAST = "Closing words of the free story mention marmalade quokkas."
METERED_SUMMARY = "Zeppelin orchards bloom over the harbour"
METERED_TEASER = "The opening paragraph mentions lighthouse cartographers."
METERED_LAST = "Velvet tangerine aqueducts shimmer nightly."
MEMBERS_TEASER = "Copper kestrels hover silently."
MEMBERS_LAST = "Obsidian walruses yodel loudly."
MEMBERS_SUMMARY = "Subscribers summary about saffron lanterns"
DRAFT_TEXT = "Juniper trombones wobble."
FUTURE_TEXT = "Cobalt gondolas drift."
PAGE_TEXT = "The about page mentions silver meadowlarks."


def story(title: str, teaser: str, last: str, **fields: str) -> str:
    """Two teaser paragraphs (teaser_paragraphs: 2), then a heading, more text and a last paragraph."""
    body = (f"{teaser}\n\nThe second paragraph, still part of the teaser.\n\n## What happened next\n\n"
            f"A paragraph past the teaser. {'Lorem ipsum dolor sit amet. ' * 8}\n\n{last}\n")
    return article(title, body=body, **fields)


FILES = {
    "content/news/free-story.md": story("Free story", "A free story begins.", FREE_LAST, access="free",
                                        summary='"A story everyone may read"'),
    "content/news/metered-story.md": story("Metered story", METERED_TEASER, METERED_LAST,
                                           summary=f'"{METERED_SUMMARY}"'),
    "content/news/members-story.md": story("Members story", MEMBERS_TEASER, MEMBERS_LAST, access="subscribers",
                                           summary=f'"{MEMBERS_SUMMARY}"'),
    "content/news/draft-story.md": story("Draft story", DRAFT_TEXT, "The end.", draft="true"),
    "content/news/future-story.md": story("Future story", FUTURE_TEXT, "The end.", date="2026-11-25 09:00"),
    "content/pages/about.md": "---\ntitle: About us\n---\n\n" + PAGE_TEXT + "\n",
}


def search_site(tmp_path: Path, files: dict[str, str] = FILES, site_yaml: str = SEARCH_SITE_YAML) -> Path:
    folder = make_site(tmp_path, files, site_yaml)
    if not (folder / "keys.json").exists():
        add_public_key(folder / "keys.json", generate_key("k1")[1])
    return folder


def served_policy(path: str) -> str:
    return SEARCH_CSP if path.split("?")[0].endswith("/search/") else CSP


class Server:
    """A folder on 127.0.0.1, every response with the policy `policy(path)` gives (the parent of an output
    folder named `project` serves a site whose base_url ends in /project/)."""

    def __init__(self, folder: Path, policy=served_policy):
        class Handler(http.server.SimpleHTTPRequestHandler):
            def end_headers(self) -> None:
                self.send_header("Content-Security-Policy", policy(self.path))
                super().end_headers()

            def log_message(self, format, *args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     functools.partial(Handler, directory=str(folder)))
        self.httpd.daemon_threads = True
        self.root = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# Run first in every page: the policy violations a reader's browser would report.
CSP_RECORDER = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
    (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI));
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site built once, served; (site folder, output folder, server root)."""
    base = tmp_path_factory.mktemp("search")
    folder = search_site(base)
    out = build_site(folder)
    server = Server(out)
    yield folder, out, server.root
    server.close()


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser):
    """A fresh reader's tab that collects page errors, console errors and CSP violations."""
    context = browser.new_context()
    context.add_init_script(CSP_RECORDER)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    tab.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning")
           else None)
    yield tab
    violations = tab.evaluate("window.__csp") if not tab.is_closed() else []
    context.close()
    assert violations == [], "Content-Security-Policy violations"
    assert errors == [], "the page reported errors"


def search(page, root: str, query: str) -> list[tuple[str, str]]:
    """Open the search page with ?q=query; the results' (title, link) once the status says it is done."""
    page.goto(f"{root}/search/?q={query}")
    return results(page)


def results(page) -> list[tuple[str, str]]:
    page.wait_for_function("() => { const s = document.querySelector('[data-search-status]').textContent;"
                           " return s !== '' && !s.startsWith('Searching'); }")
    links = page.locator("[data-search-results] .card-title a")
    return [(links.nth(i).text_content(), links.nth(i).get_attribute("href")) for i in range(links.count())]


def titles(found: list[tuple[str, str]]) -> list[str]:
    return [title for title, _ in found]


def index_records(out: Path) -> dict[str, str]:
    """The text of every record the index holds, by URL, decompressed: what anyone can download from /pagefind/."""
    fragments = sorted((out / "pagefind" / "fragment").glob("*.pf_fragment"))
    assert fragments, "the index has no records"
    records = [json.loads(gzip.decompress(f.read_bytes()).removeprefix(b"pagefind_dcd")) for f in fragments]
    return {record["url"]: record["content"] for record in records}


# ---------------------------------------------------------------------------------------------- the index


def test_free_article_is_found_by_its_last_sentence(site, page):
    _, _, root = site
    assert search(page, root, FREE_LAST) == [("Free story", "/news/free-story/")]
    assert page.locator("[data-search-status]").text_content() == f"1 result for \u201c{FREE_LAST}\u201d."


def test_metered_article_is_found_by_its_teaser_and_summary_only(site, page):
    _, _, root = site
    assert titles(search(page, root, METERED_TEASER))[:1] == ["Metered story"]
    assert titles(search(page, root, METERED_SUMMARY))[:1] == ["Metered story"]
    assert "Metered story" not in titles(search(page, root, METERED_LAST))
    assert search(page, root, "tangerine") == []
    assert page.locator("[data-search-status]").text_content() == "No results for \u201ctangerine\u201d."


def test_subscribers_article_is_found_by_its_summary_only(site, page):
    _, _, root = site
    assert titles(search(page, root, MEMBERS_SUMMARY))[:1] == ["Members story"]
    assert "Members story" not in titles(search(page, root, MEMBERS_LAST))
    assert search(page, root, "walruses") == []
    # Not even its teaser leaves the page (meter.public_html: nothing past the summary).
    assert "Members story" not in titles(search(page, root, MEMBERS_TEASER))


def test_drafts_and_future_articles_are_not_found_pages_are(site, page):
    _, _, root = site
    assert "Draft story" not in titles(search(page, root, DRAFT_TEXT))
    assert "Future story" not in titles(search(page, root, FUTURE_TEXT))
    assert titles(search(page, root, PAGE_TEXT))[:1] == ["About us"]


def test_index_files_hold_nothing_past_the_public_part(site):
    _, out, _ = site
    records = index_records(out)
    assert sorted(records) == ["/about/", "/news/free-story/", "/news/members-story/", "/news/metered-story/"]
    assert FREE_LAST in records["/news/free-story/"] and "Lorem ipsum" in records["/news/free-story/"]
    metered = records["/news/metered-story/"]
    assert METERED_TEASER in metered and METERED_SUMMARY in metered and "second paragraph" in metered
    assert "happened next" not in metered and "Lorem" not in metered and "tangerine" not in metered
    assert records["/news/members-story/"] == f"Members story. {MEMBERS_SUMMARY}."
    assert not any(word in text for text in records.values() for word in ("tangerine", "walruses", "kestrels"))
    # The search page is for readers only: not in the sitemap, not indexed by search engines.
    assert "/search/" not in (out / "sitemap.xml").read_text(encoding="utf-8")
    assert parse_html(out, "search/index.html").xpath('//meta[@name="robots"]/@content') == ["noindex"]


# ---------------------------------------------------------------------------------------- the search page


def test_search_page_passes_axe_with_results_shown_under_a_strict_csp(site, page):
    from axe_playwright_python.sync_playwright import Axe

    _, _, root = site
    page.goto(f"{root}/")
    page.get_by_role("link", name="Search").click()  # reachable from every page's header
    page.get_by_label("Search articles and pages").fill("story")
    page.get_by_label("Search articles and pages").press("Enter")
    found = titles(results(page))
    assert set(found) >= {"Free story", "Metered story", "Members story"}
    assert "Draft story" not in found and "Future story" not in found
    assert page.url.endswith("/search/?q=story")
    assert page.locator('nav a[aria-current="page"]').text_content() == "Search"
    violations = Axe().run(page).response["violations"]
    assert [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations] == []


def test_search_page_without_webassembly_says_so(site, browser):
    """Served without 'wasm-unsafe-eval' (a host that ignores _headers), the page says search is unavailable
    instead of showing nothing."""
    _, out, _ = site
    server = Server(out, policy=lambda path: CSP)
    context = browser.new_context()
    try:
        tab = context.new_page()
        search(tab, server.root, "story")
        assert "not available" in tab.locator("[data-search-status]").text_content()
    finally:
        context.close()
        server.close()


# ------------------------------------------------------------------------------------ incremental builds


def index_mtimes(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns for p in sorted(folder.rglob("*")) if p.is_file()}


def test_index_is_remade_after_an_edit_and_only_then(tmp_path, browser):
    site_yaml = SEARCH_SITE_YAML.replace("https://news.example.org/", "https://news.example.org/project/")
    folder = search_site(tmp_path, site_yaml=site_yaml)
    out = tmp_path / "serve" / "project"
    options = BuildOptions(site_dir=folder, out_dir=out, now=NOW)
    build(options)
    cache_indexes = folder / ".ssg-cache" / "search"
    first = index_mtimes(cache_indexes)
    output_first = index_mtimes(out / "pagefind")

    # Nothing changed: the build stops before loading the site (files this fresh are compared by content).
    assert build(options).stopped_at in ("stat", "content")

    # A change every page shows but the index does not hold: pages are rendered again, the index is not.
    (folder / "site.yaml").write_text(site_yaml + "description: A new tagline\n", encoding="utf-8")
    report = build(options)
    assert report.stopped_at is None and report.rendered > 0
    assert not [name for name in report.written if name.startswith("pagefind/")]
    assert index_mtimes(cache_indexes) == first and index_mtimes(out / "pagefind") == output_first

    # An edit past a metered article's teaser changes nothing the index holds.
    edited = FILES["content/news/metered-story.md"].replace(METERED_LAST, "A rewritten ending nobody may search.")
    (folder / "content/news/metered-story.md").write_text(edited, encoding="utf-8")
    report = build(options)
    assert report.written and not [name for name in report.written if name.startswith("pagefind/")]
    assert index_mtimes(cache_indexes) == first

    # An edit to a free article: the index is made again and finds the new words.
    edited = FILES["content/news/free-story.md"].replace(FREE_LAST, "Now the story ends with amber zeppelins.")
    (folder / "content/news/free-story.md").write_text(edited, encoding="utf-8")
    report = build(options)
    assert [name for name in report.written if name.startswith("pagefind/")]
    assert len(list(cache_indexes.iterdir())) == 1, "the earlier index is not kept"
    text = index_records(out)["/news/free-story/"]
    assert "amber zeppelins" in text and "marmalade" not in text

    server = Server(tmp_path / "serve")
    context = browser.new_context()
    try:
        tab = context.new_page()
        assert search(tab, server.root + "/project", "amber zeppelins") == [("Free story", "/project/news/free-story/")]
        assert search(tab, server.root + "/project", "marmalade quokkas") == []
    finally:
        context.close()
        server.close()


# ----------------------------------------------------------------------------------------- the setting


@pytest.mark.parametrize("setting", ["", "search: false\n"])
def test_search_off_makes_no_page_no_index_no_link(tmp_path, setting):
    folder = search_site(tmp_path, site_yaml=SEARCH_SITE_YAML.replace("search: true\n", setting))
    out = build_site(folder)
    assert not (out / "search").exists()
    assert not (out / "pagefind").exists()
    assert parse_html(out, "index.html").xpath('//header//a[text()="Search"]') == []
    assert not (folder / ".ssg-cache" / "search").exists()


def test_search_on_links_the_page_from_the_header(site):
    _, out, _ = site
    assert parse_html(out, "index.html").xpath('//header//nav//a[text()="Search"]/@href') == ["/search/"]
    page = parse_html(out, "search/index.html")
    assert page.xpath("//script[not(@src)]") == [] and page.xpath("//style | //*[@style]") == []


def test_a_wrong_search_setting_names_its_line(tmp_path):
    folder = make_site(tmp_path, {}, METERED_SITE_YAML + "search: 3\n")
    with pytest.raises(SsgError) as caught:
        build_site(folder)
    line = (METERED_SITE_YAML + "search: 3\n").splitlines().index("search: 3") + 1
    assert [str(e).split(str(folder) + "/")[-1] for e in caught.value.errors] == [
        f"site.yaml:{line}: 'search' must be true or false, got 3"]


def test_a_content_file_in_the_index_folder_is_a_collision(tmp_path):
    folder = search_site(tmp_path, {**FILES, "content/pagefind/notes.txt": "mine\n"})
    with pytest.raises(BuildFailed) as caught:
        build_site(folder)
    assert any(e.path == "content/pagefind/notes.txt" and "/pagefind/" in e.message for e in caught.value.errors), \
        caught.value.errors
    # Without search, the folder is the site's own.
    search_site(tmp_path, site_yaml=SEARCH_SITE_YAML.replace("search: true", "search: false"))
    assert (build_site(folder) / "pagefind" / "notes.txt").is_file()
