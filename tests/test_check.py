"""`ssg check`: content errors and links to pages or files the site does not have, without writing output."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import NOW, SITE_YAML, article, make_site, png
from ssg.check import check_site
from ssg.cli import main
from ssg.errors import BuildFailed
from ssg.pipeline import BuildOptions

GOOD_LINKS = """\
See [the other story](/news/other/), [the section](/news/), [a tag](/tags/vote/),
[the feed](/feed.xml), [the logo](/images/logo.png), [a heading](#part), [outside](https://example.org/x),
[mail](mailto:desk@example.org), [relative](../other/) and [home](/).

![Local chart](chart.png)

## Part
"""


def check(site: Path, **options) -> list[str]:
    return [str(e) for e in check_site(BuildOptions(site_dir=site, now=NOW, **options))]


@pytest.fixture
def site(tmp_path) -> Path:
    return make_site(tmp_path, {
        "content/news/story/index.md": article("Story", "2026-11-19 09:00", GOOD_LINKS, tags="[vote]"),
        "content/news/story/chart.png": png(4, 4),
        "content/news/other.md": article("Other", "2026-11-18 09:00"),
        "content/images/logo.png": png(4, 4),
    })


def test_a_site_with_good_links_has_no_problems(site):
    assert check(site) == []


def test_broken_internal_links_and_missing_images(site):
    (site / "content/news/broken.md").write_text(article("Broken", "2026-11-17 09:00", (
        "Intro.\n\n"
        "A [dead link](/news/gone/) here.\n\n"
        "![Missing photo](photos/missing.jpg)\n\n"
        "[Relative dead](../nowhere/) and [a file](/files/report.pdf).\n")), encoding="utf-8")
    assert check(site) == [
        "content/news/broken.md:8: links to missing page /news/gone/",
        "content/news/broken.md:10: links to missing image photos/missing.jpg",
        "content/news/broken.md:12: links to missing page ../nowhere/",
        "content/news/broken.md:12: links to missing page /files/report.pdf",
    ]


def test_a_link_to_a_draft_is_broken_unless_drafts_are_built(site):
    (site / "content/news/draft.md").write_text(article("Draft", draft="true"), encoding="utf-8")
    (site / "content/news/other.md").write_text(article("Other", body="[Soon](/news/draft/)\n"), encoding="utf-8")
    assert check(site) == ["content/news/other.md:6: links to missing page /news/draft/"]
    assert check(site, drafts=True) == []


def test_check_writes_nothing(site):
    before = sorted(p.relative_to(site.parent).as_posix() for p in site.parent.rglob("*"))
    check(site)
    assert sorted(p.relative_to(site.parent).as_posix() for p in site.parent.rglob("*")) == before


def test_content_errors_are_reported_too(site):
    (site / "content/news/bad.md").write_text("---\ntitle: Bad\ndate: soon\n---\n", encoding="utf-8")
    with pytest.raises(BuildFailed) as caught:
        check(site)
    assert [str(e) for e in caught.value.errors] == [
        "content/news/bad.md:3: 'date' must be a date like 2026-11-20 or 2026-11-20 09:30, got 'soon'"]


def test_cli_check_exit_codes(site, capsys):
    assert main(["check", "--site", str(site)]) == 0
    assert "no problems found" in capsys.readouterr().out
    (site / "content/news/other.md").write_text(article("Other", body="[x](/missing/)\n"), encoding="utf-8")
    assert main(["check", "--site", str(site)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "content/news/other.md:6: links to missing page /missing/"
    assert err[-1].startswith("error: 1 problem found")
    assert not (site / "_site").exists()


def test_missing_meter_pages_are_reported_once_against_site_yaml(tmp_path):
    # A metered site must have the sign-in and subscribe pages its paywall links to; every article links
    # there, but the mistake is one line of site.yaml, so it is reported once, there.
    files = {f"content/news/a{n}.md": article(f"A{n}", body="One.\n\nTwo.\n\nThree.\n") for n in range(3)}
    site = make_site(tmp_path, files, site_yaml=SITE_YAML.replace(
        "meter: false", "meter:\n  limit: 2\n  subscribe_url: /join/"))
    problems = check(site)
    meter_line = SITE_YAML.splitlines().index("meter: false") + 1
    assert problems == [
        f"site.yaml:{meter_line}: meter.signin_url links to missing page /signin/; "
        "the paywall of every metered article leads there",
        f"site.yaml:{meter_line + 2}: meter.subscribe_url links to missing page /join/; "
        "the paywall of every metered article leads there"]
    (site / "content/pages/join.md").parent.mkdir(parents=True)
    (site / "content/pages/join.md").write_text("---\ntitle: Join\n---\nJoin us.\n", encoding="utf-8")
    assert [p for p in check(site) if "/join/" in p] == []


def test_template_syntax_left_in_markdown_is_flagged_outside_code(tmp_path):
    body = ("Intro {{ site.baseurl }}/x.\n\n"
            "{% include signup.html %}\n\n"
            "{{< youtube abc123 >}}\n\n"
            "Shown as code: `{% raw %}` and `{{ page.title }}`.\n\n"
            "```liquid\n{% for post in site.posts %}\n```\n\n"
            "    {{ indented code }}\n\n"
            "After the fence {{% note %}}.\n")
    site = make_site(tmp_path, {"content/news/a.md": article("A", body=body)})
    problems = [p for p in check(site) if "template syntax" in p]
    first = article("A", body="").count("\n") + 1  # the line the body starts on
    assert [p.split(": template")[0] for p in problems] == [
        f"content/news/a.md:{first}", f"content/news/a.md:{first + 2}", f"content/news/a.md:{first + 4}",
        f"content/news/a.md:{first + 14}"]
    assert "{% include signup.html %}" in problems[1]
    assert "{{< youtube abc123 >}}" in problems[2]


def test_under_a_base_path_the_theme_links_check_clean(tmp_path):
    site = make_site(tmp_path, {"content/news/a.md": article("A", tags="[t]", author="Jane"),
                                "content/pages/about.md": "---\ntitle: About\n---\nx\n"},
                     site_yaml=SITE_YAML.replace("https://news.example.org/", "https://host.example/project/"))
    assert check(site) == []


def test_under_a_base_path_body_images_check_clean(tmp_path):
    site = make_site(tmp_path, {"content/news/a/index.md": article("A", body="![Chart](chart.png)\n"),
                                "content/news/a/chart.png": png(4, 4)},
                     site_yaml=SITE_YAML.replace("https://news.example.org/", "https://host.example/project/"))
    assert check(site) == []
