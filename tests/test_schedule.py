"""Scheduled publishing and CI output: --as-of, the next change a build prints and writes, --format github."""
from __future__ import annotations

from datetime import datetime, timezone

from conftest import NOW, SITE_YAML, article, build_site, make_site
from ssg.cli import main
from ssg.pipeline import BuildOptions, build


def scheduled_site(tmp_path):
    return make_site(tmp_path, {
        "content/news/out-now.md": article("Out now", "2026-11-10 09:00"),
        "content/news/tomorrow.md": article("Tomorrow's story", "2026-11-21 06:30"),
        "content/news/later.md": article("Later story", "2026-12-24 18:00"),
        "content/news/future-draft.md": article("A draft", "2026-11-20 18:00", draft="true"),
    }, site_yaml=SITE_YAML.replace("timezone: UTC", "timezone: Europe/Berlin"))


def test_the_build_says_when_its_output_next_changes(tmp_path):
    site = scheduled_site(tmp_path)
    report = build(BuildOptions(site_dir=site, now=NOW))
    # The first future article that is not a draft, in the site's time zone.
    assert report.next_change == datetime(2026, 11, 21, 5, 30, tzinfo=timezone.utc)
    assert report.next_change.utcoffset().total_seconds() == 3600
    again = build(BuildOptions(site_dir=site, now=NOW))
    assert again.stopped_at is not None and again.next_change == report.next_change
    # Once it has passed, the article is out and the next change is the next one.
    later = build(BuildOptions(site_dir=site, now=report.next_change))
    assert (site / "_site/news/tomorrow/index.html").is_file()
    assert later.next_change == datetime(2026, 11, 23, 5, 30, tzinfo=timezone.utc)  # it leaves the news sitemap


def test_as_of_builds_tomorrows_site_and_a_normal_build_takes_it_back(tmp_path, capsys):
    site = scheduled_site(tmp_path)
    out = tmp_path / "preview"
    assert main(["build", "--site", str(site), "--out", str(out), "--as-of", "2026-11-20T12:00"]) == 0
    assert not (out / "news/tomorrow/index.html").exists()
    next_file = tmp_path / "next.txt"
    assert main(["build", "--site", str(site), "--out", str(out), "--as-of", "2026-11-21T07:00",
                 "--next-change", str(next_file)]) == 0  # 07:00 in Berlin: after 06:30
    assert (out / "news/tomorrow/index.html").is_file()
    assert 'href="/news/tomorrow/"' in (out / "index.html").read_text()  # on the front page
    assert next_file.read_text() == "2026-11-23T06:30:00+01:00\n"
    assert "next change on its own: 2026-11-23T06:30:00+01:00" in capsys.readouterr().out
    # A build as of an earlier time must not pass the later build's output off as its own.
    report = build(BuildOptions(site_dir=site, out_dir=out, now=NOW))
    assert report.stopped_at is None
    assert not (out / "news/tomorrow/index.html").exists()


def test_as_of_must_be_a_time(tmp_path, capsys):
    site = scheduled_site(tmp_path)
    assert main(["build", "--site", str(site), "--as-of", "tomorrow"]) == 1
    assert "--as-of: must be a time like 2026-12-01T06:00" in capsys.readouterr().err


def test_format_github_prints_annotations_on_the_files(tmp_path, capsys, monkeypatch):
    make_site(tmp_path, {"content/news/a.md": "---\ntitle: A\ndate: 4 May\n---\nx\n",
                                "content/news/b.md": article("B", summary='"50%, then: more"', colour="red")})
    monkeypatch.chdir(tmp_path)  # the repository root: annotations name files from there
    assert main(["build", "--site", "site", "--format", "github"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == ("::error file=site/content/news/a.md,line=3::'date' must be a date like 2026-11-20 "
                      "or 2026-11-20 09:30, got '4 May'")
    assert err[1] == "::error file=site/content/news/b.md,line=5::unknown front matter key 'colour'; put custom fields under 'params:'"
    assert err[-1].startswith("error: 2 problems found")


def test_format_github_escapes_what_the_runner_would_read_as_commands(tmp_path, capsys, monkeypatch):
    make_site(tmp_path, {"content/news/a%2C:b.md": article("A", tags='"50%"', colour="x")})
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--site", "site", "--format", "github"]) == 1
    first = capsys.readouterr().err.splitlines()[0]
    assert first.startswith("::error file=site/content/news/a%252C%3Ab.md,line=5::")


def test_an_unchanged_site_still_prints_its_next_change(tmp_path, capsys):
    site = scheduled_site(tmp_path)
    out = build_site(site)  # real clock: every article is in the past or the far future
    assert main(["build", "--site", str(site), "--out", str(out)]) == 0
    assert "next change on its own: " in capsys.readouterr().out
