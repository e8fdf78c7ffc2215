"""The `ssg` command: exit codes, `path:line: message` errors without tracebacks, new, init, clean, --help."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
import yaml

from conftest import SITE_YAML, article, make_site, parse_html, run_cli
from ssg.cli import main

SUBCOMMANDS = ["build", "serve", "new", "init", "check", "clean"]


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_help_of_each_subcommand(command, capsys):
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: ssg {command}")


def test_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert all(command in out for command in SUBCOMMANDS)


def test_build_options_reach_the_build(tmp_path, capsys):
    site = make_site(tmp_path, {
        "content/news/a.md": article("A", "2026-01-01 09:00"),
        "content/news/d.md": article("D", "2026-01-01 10:00", draft="true"),
        "content/news/f.md": article("F", "2999-01-01 10:00"),
    })
    out = tmp_path / "public"
    assert main(["build", "--site", str(site), "--out", str(out), "--drafts", "--future",
                 "--base-url", "https://staging.example.org/x/"]) == 0
    assert re.match(r"\d+ pages", capsys.readouterr().out)
    assert (out / "news/d/index.html").is_file() and (out / "news/f/index.html").is_file()
    assert parse_html(out, "news/a/index.html").xpath('//link[@rel="canonical"]/@href') == [
        "https://staging.example.org/x/news/a/"]


def test_build_defaults_to_site_underscore_site(tmp_path, monkeypatch):
    site = make_site(tmp_path, {"content/news/a.md": article("A", "2026-01-01 09:00")})
    monkeypatch.chdir(site)
    assert main(["build"]) == 0
    assert (site / "_site/news/a/index.html").is_file()


def test_all_content_errors_in_one_run_exit_1_without_traceback(tmp_path):
    site = make_site(tmp_path, {
        "content/news/good.md": article("Good", "2026-01-01 09:00"),
        "content/news/bad-yaml.md": "---\ntitle: A\nsummary: one: two\n---\nx\n",
        "content/news/no-title.md": "---\ndate: 2026-01-01\n---\nx\n",
        "content/news/no-date.md": "---\ntitle: No date\n---\nx\n",
        "content/news/bad-date.md": "---\ntitle: Bad\ndate: 2026-13-45\n---\nx\n",
        "content/news/unknown.md": "---\ntitle: U\ndate: 2026-01-01\nsumary: x\n---\nx\n",
        "content/news/image.md": "---\ntitle: I\ndate: 2026-01-01\nimage: nowhere.png\n---\nx\n",
        "content/news/slug.md": "---\ntitle: S\ndate: 2026-01-01\nslug: ../../etc\n---\nx\n",
        "content/news/layout.md": "---\ntitle: L\ndate: 2026-01-01\nlayout: gallery\n---\nx\n",
    })
    result = run_cli("build", "--site", str(site), "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines[-1] == "error: 8 problems found; nothing was written"
    located = sorted(line.split(": ", 1)[0] for line in lines[:-1])
    assert located == ["content/news/bad-date.md:3", "content/news/bad-yaml.md:3", "content/news/image.md:4",
                       "content/news/layout.md:4", "content/news/no-date.md:1", "content/news/no-title.md:1",
                       "content/news/slug.md:4", "content/news/unknown.md:4"]
    assert "content/news/unknown.md:4: unknown front matter key 'sumary' (did you mean 'summary'?)" in lines
    assert not (tmp_path / "out").exists()


def test_site_yaml_errors_exit_1_with_their_lines(tmp_path):
    site = make_site(tmp_path, {}, site_yaml="title: T\nbase_url: https://x.org/\npaginte: 3\nmeter:\n  limit: -1\n")
    result = run_cli("build", "--site", str(site))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"{site}/site.yaml:3: unknown key 'paginte' (did you mean 'paginate'?)" in result.stderr.splitlines()
    assert f"{site}/site.yaml:5: 'meter.limit' must be a whole number >= 0, got -1" in result.stderr.splitlines()


def test_duplicate_url_exits_1(tmp_path, capsys):
    site = make_site(tmp_path, {"content/news/a.md": article("A"), "content/news/b.md": article("B", slug="a")})
    assert main(["build", "--site", str(site)]) == 1
    err = capsys.readouterr().err
    assert "content/news/b.md:4: URL /news/a/ is also produced by content/news/a.md" in err


def test_missing_site_and_unknown_theme(tmp_path, capsys):
    assert main(["build", "--site", str(tmp_path / "nowhere")]) == 1
    assert "no site.yaml here" in capsys.readouterr().err
    site = make_site(tmp_path, {}, site_yaml=SITE_YAML + "theme: glossy\n")
    assert main(["build", "--site", str(site)]) == 1
    assert "theme 'glossy' not found" in capsys.readouterr().err


def test_unknown_option_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["build", "--no-such-option"])
    assert exited.value.code == 2


# --- ssg new --------------------------------------------------------------------------------------

def test_new_writes_a_skeleton_article_that_builds(tmp_path, capsys):
    site = make_site(tmp_path, {}, site_yaml=SITE_YAML + "authors:\n  Jane Doe:\n    bio: x\n")
    before = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    assert main(["new", 'Élection à Séoul: "live"', "--section", "World News", "--site", str(site)]) == 0
    path = site / "content/world-news/election-a-seoul-live.md"
    assert f"wrote {path}" in capsys.readouterr().out
    front = yaml.safe_load(path.read_text(encoding="utf-8").split("---")[1])
    assert front["title"] == 'Élection à Séoul: "live"'
    assert front["section"] == "World News"
    assert front["author"] == "Jane Doe"
    assert front["draft"] is True
    written = datetime.strptime(str(front["date"]), "%Y-%m-%d %H:%M").replace(tzinfo=timezone.utc)
    assert before <= written <= datetime.now(timezone.utc)   # dated now, in the site's zone (UTC here)
    out = tmp_path / "out"
    assert main(["build", "--site", str(site), "--out", str(out)]) == 0
    assert not (out / "world-news").exists()                  # a draft until the writer says otherwise
    assert main(["build", "--site", str(site), "--out", str(out), "--drafts"]) == 0
    page = parse_html(out, "world-news/election-a-seoul-live/index.html")
    assert page.xpath("//h1/text()") == ['Élection à Séoul: "live"']


def test_new_uses_the_site_time_zone(tmp_path):
    site = make_site(tmp_path, {}, site_yaml=SITE_YAML.replace("UTC", "Pacific/Kiritimati"))  # UTC+14
    assert main(["new", "Late", "--site", str(site)]) == 0
    text = (site / "content/news/late.md").read_text(encoding="utf-8")
    local = datetime.now(timezone.utc).astimezone(__import__("zoneinfo").ZoneInfo("Pacific/Kiritimati"))
    assert f"date: {local:%Y-%m-%d}" in text


def test_new_never_overwrites(tmp_path, capsys):
    site = make_site(tmp_path, {"content/news/vote.md": "mine"})
    assert main(["new", "Vote", "--site", str(site)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert (site / "content/news/vote.md").read_text() == "mine"


# --- ssg init -------------------------------------------------------------------------------------

def test_init_writes_a_site_that_builds_as_it_is(tmp_path, capsys):
    target = tmp_path / "evening-post"
    assert main(["init", str(target)]) == 0
    capsys.readouterr()
    assert main(["build", "--site", str(target)]) == 0
    out = target / "_site"
    for name in ("index.html", "news/welcome/index.html", "about/index.html", "subscribe/index.html",
                 "signin/index.html", "feed.xml", "sitemap.xml", "robots.txt", "404.html"):
        assert (out / name).is_file(), name
    assert parse_html(out, "index.html").xpath('//a[contains(@class, "brand")]/text()') == ["Evening Post"]
    assert main(["check", "--site", str(target)]) == 0
    assert "no problems found" in capsys.readouterr().out


def test_init_refuses_an_existing_site(tmp_path, capsys):
    site = make_site(tmp_path, {})
    before = (site / "site.yaml").read_text()
    assert main(["init", str(site)]) == 1
    assert "a site already exists here" in capsys.readouterr().err
    assert (site / "site.yaml").read_text() == before


# --- ssg clean ------------------------------------------------------------------------------------

def test_clean_removes_the_output(tmp_path):
    site = make_site(tmp_path, {"content/news/a.md": article("A", "2026-01-01")})
    assert main(["build", "--site", str(site)]) == 0
    assert main(["clean", "--site", str(site)]) == 0
    assert not (site / "_site").exists() and (site / "content/news/a.md").is_file()


def test_build_py_builds_the_root_site_like_ssg_build():
    import subprocess
    import sys

    from conftest import REPO

    result = subprocess.run([sys.executable, "build.py", "--help"], cwd=REPO, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and result.stdout.startswith("usage: ssg build")
