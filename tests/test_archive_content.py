"""Content as archives bring it: percent-escaped names, other generators' keys, files to ignore, a static/
folder, and old URLs with a query. Each checked through a build and, where a reader is involved, a server."""
from __future__ import annotations

import functools
import http.server
import json
import threading
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import sync_playwright

from conftest import NOW, SITE_YAML, article, build_site, make_site, png
from meter_harness import LAUNCH_ARGS, chromium_path
from ssg.errors import BuildFailed, SsgError
from ssg.pipeline import BuildOptions, build


def build_errors(site: Path) -> list[str]:
    with pytest.raises(BuildFailed) as failed:
        build(BuildOptions(site_dir=site, now=NOW))
    return [str(error) for error in failed.value.errors]


class StaticHost(http.server.SimpleHTTPRequestHandler):
    """What a static host does: files as they are, 404.html for a path it has no file for."""

    def send_error(self, code, message=None, explain=None):
        page = Path(self.directory) / "404.html"
        if code != 404 or not page.is_file():
            return super().send_error(code, message, explain)
        data = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        pass


@pytest.fixture
def host():
    servers = []

    def serve(folder: Path) -> str:
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(StaticHost, directory=str(folder)))
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        return f"http://127.0.0.1:{httpd.server_address[1]}"

    yield serve
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


# --- percent-escapes ------------------------------------------------------------------------------

def test_percent_escaped_file_names_and_slugs_are_decoded_once(tmp_path, host):
    site = make_site(tmp_path, {
        # A WordPress slug with an en dash, as Jekyll archives keep it in the file name.
        "content/news/vote-%e2%80%93-results.md": article("Vote results"),
        "content/news/dash.md": article("Dash", slug='"budget-%e2%80%93-2027"'),
        "content/news/caf%c3%a9-opens/index.md": article("Café opens", body="![Sign](sign.png)\n"),
        "content/news/caf%c3%a9-opens/sign.png": png(8, 6),
    })
    out = build_site(site)
    root = host(out)
    for url in ("/news/vote-results/", "/news/budget-\u2013-2027/", "/news/cafe-opens/", "/news/cafe-opens/sign.png"):
        with urllib.request.urlopen(root + quote(url)) as response:  # a browser sends the escaped form
            assert response.status == 200, url
    assert not list(out.rglob("*%*"))


# --- other generators' front matter ---------------------------------------------------------------

@pytest.mark.parametrize("key, value, says", [
    ("description", '"A dek"', "here it is 'summary'"),
    ("excerpt", '"A dek"', "here it is 'summary'"),
    ("categories", "[news, local]", "here it is 'tags' (and 'section' for the first)"),
    ("lastmod", "2026-11-20", "here it is 'updated'"),
    ("published", "false", "here it is 'draft: true' (for 'published: false')"),
    ("redirect_from", "[/old/]", "here it is 'aliases'"),
    ("permalink", "/x/", "here it is 'slug'"),
    ("url", "/x/", "here it is 'slug'"),
])
def test_keys_of_other_generators_name_ours_and_the_importer(tmp_path, key, value, says):
    site = make_site(tmp_path, {"content/news/a.md": article("A", **{key: value})})
    [error] = build_errors(site)
    assert error.startswith(f"content/news/a.md:4: unknown front matter key '{key}': {says}")
    assert error.endswith("run `ssg import`")
    assert "did you mean" not in error


@pytest.mark.parametrize("key, hint", [("titel", "title"), ("sumary", "summary"), ("tag", None), ("colour", None)])
def test_the_edit_distance_hint_is_given_only_where_it_is_close(tmp_path, key, hint):
    site = make_site(tmp_path, {"content/news/a.md": article("A", **{key: "x"})})
    [error] = build_errors(site)
    if hint:
        assert error == f"content/news/a.md:4: unknown front matter key '{key}' (did you mean '{hint}'?)"
    else:
        assert "did you mean" not in error


# --- ignore: and static/ --------------------------------------------------------------------------

def test_ignore_leaves_content_files_out(tmp_path):
    site = make_site(tmp_path, {
        "content/news/a.md": article("A"),
        "content/news/analysis.Rmd": "---\ntitle: R source\n---\n```{r}\nplot(x)\n```\n",
        "content/news/analysis.knit.md": "no front matter: a knitr leftover\n",
        "content/drafts/b.md": "not even front matter",
        "content/news/drafts-note.md": article("Kept: the folder pattern matches folders only"),
    }, site_yaml=SITE_YAML + "ignore: ['*.Rmd', '*.knit.md', 'drafts/']\n")
    out = build_site(site)
    assert (out / "news/a/index.html").is_file()
    assert (out / "news/drafts-note/index.html").is_file()
    assert not list(out.rglob("*.Rmd")) and not (out / "drafts").exists()


def test_ignore_must_be_a_list_of_patterns(tmp_path):
    site = make_site(tmp_path, {"content/news/a.md": article("A")}, site_yaml=SITE_YAML + "ignore: 3\n")
    with pytest.raises(SsgError) as failed:
        build(BuildOptions(site_dir=site, now=NOW))
    [error] = [str(e) for e in failed.value.errors]
    assert error == (f"{site}/site.yaml:{SITE_YAML.count(chr(10)) + 1}: 'ignore' must be a list of file patterns under "
                     "content/, like ['*.Rmd', 'drafts/']")


def test_static_folder_is_copied_to_the_output_root_and_kept_fresh(tmp_path):
    site = make_site(tmp_path, {
        "content/news/a.md": article("A", body="![Old upload](/wp-content/uploads/2019/05/a.png)\n"),
        "static/wp-content/uploads/2019/05/a.png": png(4, 4),
        "static/ads.txt": "example.com, pub-0000, DIRECT\n",
    })
    out = build_site(site)
    assert (out / "wp-content/uploads/2019/05/a.png").read_bytes() == (site / "static/wp-content/uploads/2019/05/a.png").read_bytes()
    assert (out / "ads.txt").read_text() == "example.com, pub-0000, DIRECT\n"
    (site / "static/ads.txt").write_text("example.com, pub-1111, DIRECT\n")
    (site / "static/wp-content/uploads/2019/05/a.png").unlink()
    build_site(site)
    assert (out / "ads.txt").read_text() == "example.com, pub-1111, DIRECT\n"
    assert not (out / "wp-content/uploads/2019/05/a.png").exists()


def test_a_static_file_that_claims_a_page_url_is_an_error(tmp_path):
    site = make_site(tmp_path, {"content/news/a.md": article("A"), "static/news/a/index.html": "<p>old</p>\n"})
    errors = build_errors(site)
    assert any("content/news/a.md" in e and "static/news/a/index.html" in e for e in errors), errors


def test_a_link_in_static_to_outside_the_site_is_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("token")
    site = make_site(tmp_path, {"content/news/a.md": article("A")})
    (site / "static").mkdir()
    (site / "static/leak.txt").symlink_to(secret)
    [error] = build_errors(site)
    assert error.startswith("static/leak.txt: is a symbolic link to something outside the site folder")


# --- old URLs with a query ------------------------------------------------------------------------

def test_query_aliases_lead_readers_from_old_wordpress_links(tmp_path, host):
    site = make_site(tmp_path, {
        "content/news/vote.md": article("Vote", aliases='["/?p=12", "/index.php?p=12", "/2019/05/vote/"]'),
        "content/pages/about.md": "---\ntitle: About\naliases: ['/?page_id=7']\n---\nAbout us.\n",
    })
    out = build_site(site)
    assert json.loads((out / "query-aliases.json").read_text()) == {
        "/?p=12": "/news/vote/", "/index.php?p=12": "/news/vote/", "/?page_id=7": "/about/"}
    assert (out / "2019/05/vote/index.html").is_file()  # a plain alias is still a redirect page
    root = host(out)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), headless=True, args=LAUNCH_ARGS)
        page = browser.new_page()
        for old, new in (("/?p=12", "/news/vote/"), ("/index.php?p=12", "/news/vote/"), ("/?page_id=7", "/about/")):
            page.goto(root + old)
            page.wait_for_url(root + new, timeout=5000)
        page.goto(root + "/?p=999")  # not an old article: the home page stays
        page.wait_for_load_state("networkidle")
        assert page.url == root + "/?p=999"
        browser.close()


def test_a_site_without_query_aliases_loads_no_script(tmp_path):
    out = build_site(make_site(tmp_path, {"content/news/vote.md": article("Vote", aliases="[/old/]")}))
    assert not (out / "query-aliases.json").exists()
    assert "aliases." not in (out / "index.html").read_text() + (out / "404.html").read_text()


def test_a_query_alias_must_be_one_name_and_value(tmp_path):
    site = make_site(tmp_path, {"content/news/vote.md": article("Vote", aliases='["/?p=1&x=2"]')})
    [error] = build_errors(site)
    assert error.startswith("content/news/vote.md:4: alias '/?p=1&x=2' has a query a static host cannot tell apart")
