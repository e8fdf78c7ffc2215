"""The cache's contract: after any sequence of edits, an incremental build equals a clean build, byte for byte."""
from __future__ import annotations

import os
import random
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import tree_digest
from ssg.errors import BuildFailed
from ssg.pipeline import BuildOptions, Session, build

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
SECTIONS = ["News", "Business", "Culture", "Science"]
TAGS = ["council", "transport", "energy", "arts", "schools", "health", "river"]
AUTHORS = ["Maren Holt", "Tobias Achebe", "Ines Carvalho"]
WORDS = "the council said river bridge budget school energy market museum night rail plan vote".split()

SITE_YAML = """\
title: Differential Times
base_url: https://diff.example.org/
timezone: Europe/London
paginate: {paginate}
authors:
  Maren Holt:
    bio: City hall.
meter:
  limit: 3
  teaser_paragraphs: 2
"""

OVERRIDE = """\
{{% extends "default/article.html" %}}
{{% block kicker %}}<p class="kicker override-{n}">{{{{ article.section }}}}</p>{{% endblock %}}
"""


def article_text(rng: random.Random, title: str) -> str:
    day = rng.randint(1, 27)
    tags = rng.sample(TAGS, rng.randint(0, 3))
    paragraphs = "\n\n".join(" ".join(rng.choices(WORDS, k=rng.randint(8, 30))).capitalize() + "."
                             for _ in range(rng.randint(2, 6)))
    lines = [
        "---",
        f'title: "{title}"',
        f"date: 2026-{rng.choice(['10', '11'])}-{day:02d} {rng.randint(0, 23):02d}:{rng.choice(['00', '30'])}",
        f"author: {rng.choice(AUTHORS)}",
        f"section: {rng.choice(SECTIONS)}",
        f"tags: [{', '.join(tags)}]",
        f'summary: "{" ".join(rng.choices(WORDS, k=8))}"',
    ]
    if rng.random() < 0.1:
        lines.append("metered: false")
    return "\n".join(lines) + "\n---\n\n" + paragraphs + "\n"


def set_field(text: str, key: str, value: str) -> str:
    front, body = text.split("\n---\n", 1)
    lines = [line for line in front.splitlines() if not line.startswith(f"{key}:")]
    lines.append(f"{key}: {value}")
    return "\n".join(lines) + "\n---\n" + body


class Site:
    def __init__(self, root: Path, rng: random.Random):
        self.root, self.rng = root, rng
        self.content = root / "content"
        self.content.mkdir(parents=True)
        (root / "site.yaml").write_text(SITE_YAML.format(paginate=5))
        self.counter = 0
        self.clock = time.time() - 100_000  # see age()
        for _ in range(60):
            self.add()

    def age(self) -> None:
        """Move the files written since the last call far into the past, each step a second later than the
        one before: a build trusts their times at once (they are not racy), as it does on a real site where
        the next edit comes seconds later. Only then may a build take the touched documents' way."""
        self.clock += 1
        for path in self.root.rglob("*"):
            if path.is_file() and path.stat().st_mtime > self.clock + 50_000:
                os.utime(path, (self.clock, self.clock))

    def articles(self) -> list[Path]:
        return sorted(self.content.rglob("*.md"))

    def add(self) -> str:
        self.counter += 1
        folder = self.content / self.rng.choice(["news", "business", "culture"])
        folder.mkdir(exist_ok=True)
        path = folder / f"story-{self.counter}.md"
        path.write_text(article_text(self.rng, f"Story number {self.counter}"))
        return f"add {path.name}"

    def edit(self) -> str:
        rng = self.rng
        path = rng.choice(self.articles())
        text = path.read_text()
        kind = rng.choice(["body", "body", "body", "title", "date", "section", "tags", "draft", "delete", "rename",
                           "add", "newest", "oldest", "template", "site", "metered", "nothing", "same bytes"])
        if kind == "nothing":
            pass
        elif kind == "same bytes":
            path.write_text(text)
        elif kind == "body":
            path.write_text(text + f"\nAn added paragraph {rng.random()}.\n")
        elif kind in ("newest", "oldest"):  # every later item of every list it is in moves down a page, or up
            when = "2026-11-28 11:59" if kind == "newest" else "2026-09-01 00:01"
            path.write_text(set_field(text, "date", when))
        elif kind == "title":
            path.write_text(set_field(text, "title", f'"Retitled {rng.randint(0, 10**6)}"'))
        elif kind == "date":
            path.write_text(set_field(text, "date", f"2026-{rng.choice(['09', '10', '11'])}-{rng.randint(1, 28):02d} 08:15"))
        elif kind == "section":
            path.write_text(set_field(text, "section", rng.choice(SECTIONS + ["Opinion"])))
        elif kind == "tags":
            path.write_text(set_field(text, "tags", "[" + ", ".join(rng.sample(TAGS, rng.randint(0, 3))) + "]"))
        elif kind == "draft":
            path.write_text(set_field(text, "draft", rng.choice(["true", "false"])))
        elif kind == "metered":
            path.write_text(set_field(text, "metered", rng.choice(["true", "false"])))
        elif kind == "delete":
            path.unlink()
        elif kind == "rename":
            path.rename(path.with_name(f"renamed-{rng.randint(0, 10**6)}.md"))
        elif kind == "add":
            return self.add()
        elif kind == "template":
            override = self.root / "themes" / "default" / "templates" / "article.html"
            override.parent.mkdir(parents=True, exist_ok=True)
            if override.exists() and rng.random() < 0.3:
                override.unlink()
            else:
                override.write_text(OVERRIDE.format(n=rng.randint(0, 100)))
        elif kind == "site":
            (self.root / "site.yaml").write_text(SITE_YAML.format(paginate=rng.randint(3, 7)))
        return f"{kind} {path.name}"


@pytest.mark.parametrize("seed, aged", [(1, False), (2, False), (3, False), (4, True), (5, True), (6, True)])
def test_incremental_build_equals_clean_build(tmp_path: Path, seed: int, aged: bool) -> None:
    """Fresh files (not aged) are never trusted by their times: every build reads them. Aged ones let a build
    find the touched documents by their stats, and build a body edit's pages alone."""
    rng = random.Random(seed)
    site = Site(tmp_path / "site", rng)
    touched = []
    incremental, preview = tmp_path / "incremental", tmp_path / "preview"
    # The preview server's way: one process, the site kept in memory between builds, and the pages of the
    # edited documents swapped in ahead of the rest.
    first: list[list[str]] = []
    session = Session(on_edited=first.append)
    history = []
    try:
        for step in range(14):
            history.append(site.edit() if step else "initial build")
            if rng.random() < 0.3:  # several edits land in one build, as a git pull brings them
                history.append(site.edit())
            if aged:
                site.age()
            report = build(BuildOptions(site_dir=site.root, out_dir=incremental, now=NOW, jobs=2))
            touched.append(report.touched)
            report = build(BuildOptions(site_dir=site.root, out_dir=preview, now=NOW, jobs=2), session=session)
            touched.append(report.touched)
            session.save()
            clean = tmp_path / f"clean-{step}"
            build(BuildOptions(site_dir=site.root, out_dir=clean, now=NOW, use_cache=False, jobs=1))
            expected = tree_digest(clean)
            for name, folder in (("incremental", incremental), ("preview", preview)):
                actual = tree_digest(folder)
                differing = sorted(n for n in expected.keys() | actual.keys() if expected.get(n) != actual.get(n))
                assert not differing, f"after {history}: {name} output differs in {differing[:10]}"
    finally:
        session.close()
    assert any(first), "no build swapped an edited page in first"
    if aged:
        assert any(touched), f"no build of the touched documents only after {history}"


def test_unchanged_rebuild_renders_nothing(tmp_path: Path) -> None:
    site = Site(tmp_path / "site", random.Random(7))
    out = tmp_path / "out"
    build(BuildOptions(site_dir=site.root, out_dir=out, now=NOW))
    report = build(BuildOptions(site_dir=site.root, out_dir=out, now=NOW))
    assert report.parsed == 0 and report.cache_hits == len(site.articles())
    assert report.written == [] and report.removed == []
    assert report.rendered == 0


def test_one_edit_touches_only_its_page_lists_and_feeds(tmp_path: Path) -> None:
    site = Site(tmp_path / "site", random.Random(8))
    out = tmp_path / "out"
    build(BuildOptions(site_dir=site.root, out_dir=out, now=NOW))
    target = [p for p in site.articles() if "metered: false" not in p.read_text()][10]  # feeds carry only its teaser
    target.write_text(target.read_text() + "\nOne more paragraph that only this page shows.\n")
    report = build(BuildOptions(site_dir=site.root, out_dir=out, now=NOW))
    assert report.parsed == 1
    assert len(report.written) == 1 and report.written[0].endswith(f"/{target.stem}/index.html")
    assert report.rendered < report.pages / 4
    assert report.changed_urls() == [f"https://diff.example.org/{report.written[0][:-len('index.html')]}"]


def test_a_body_edit_builds_only_the_pages_that_carry_its_body(tmp_path: Path) -> None:
    """The reverse index at work: a body edit of a free article (feeds carry all of it) renders its page and
    its feeds, found without assembling the site, and writes exactly the files a clean build changes."""
    site = Site(tmp_path / "site", random.Random(13))
    site.age()
    out, before = tmp_path / "out", tmp_path / "before"
    build(BuildOptions(site_dir=site.root, out_dir=out, now=NOW))
    build(BuildOptions(site_dir=site.root, out_dir=before, now=NOW, use_cache=False))
    feed = (out / "feed.xml").read_text()
    target = next(p for p in site.articles() if "metered: false" in p.read_text()
                  and f"/{p.stem}/" in feed and "draft" not in p.read_text())
    target.write_text(target.read_text() + "\nA paragraph only its page and its feeds carry.\n")
    site.age()
    report = build(BuildOptions(site_dir=site.root, out_dir=out, now=NOW))
    after = tmp_path / "after"
    build(BuildOptions(site_dir=site.root, out_dir=after, now=NOW, use_cache=False))

    old, new = tree_digest(before), tree_digest(after)
    changed = sorted(name for name in old.keys() | new.keys() if old.get(name) != new.get(name))
    assert report.touched and report.parsed == 1 and report.cache_hits == len(site.articles()) - 1
    assert sorted(report.written) == changed
    assert f"{target.stem}/index.html" in " ".join(changed) and "feed.xml" in changed and "feed.json" in changed
    feeds = [name for name in changed if name.endswith(("feed.xml", "feed.json"))]
    assert report.rendered == 1 + len(feeds)  # its page and the feeds it is in: no list, no neighbour
    assert tree_digest(out) == new


def test_after_a_template_edit_the_open_pages_are_written_first(tmp_path: Path) -> None:
    """The preview's way: the pages open in the author's browser go in, and are announced, before the full
    build of every other page that uses the template; the output still equals a clean build."""
    site = Site(tmp_path / "site", random.Random(14))
    site.age()
    out = tmp_path / "preview"
    announced: list[list[str]] = []
    session = Session(on_edited=announced.append)
    try:
        build(BuildOptions(site_dir=site.root, out_dir=out, now=NOW), session=session)
        pages = sorted(p.relative_to(out).as_posix() for p in out.rglob("index.html") if "/story-" in p.as_posix())
        opened = pages[len(pages) // 2]
        session.open_pages = ("/" + opened.removesuffix("index.html"), "/no/such/page/")
        override = site.root / "themes" / "default" / "templates" / "article.html"
        override.parent.mkdir(parents=True)
        override.write_text(OVERRIDE.format(n=5))
        site.age()
        report = build(BuildOptions(site_dir=site.root, out_dir=out, now=NOW), session=session)
    finally:
        session.close()
    assert announced[-1] == [opened]  # alone, ahead of the rest
    assert report.edited == [opened] and sorted(report.written) == pages
    clean = tmp_path / "clean"
    build(BuildOptions(site_dir=site.root, out_dir=clean, now=NOW, use_cache=False))
    assert tree_digest(out) == tree_digest(clean)


def test_a_preview_build_of_saved_files_still_refuses_a_template_linking_outside(tmp_path: Path) -> None:
    """The preview reads only what the watcher saw saved (documents, templates), with the same checks."""
    site = Site(tmp_path / "site", random.Random(15))
    templates = site.root / "themes" / "default" / "templates"
    templates.mkdir(parents=True)
    (templates / "article.html").write_text(OVERRIDE.format(n=1))
    out = tmp_path / "preview"
    session = Session()
    try:
        build(BuildOptions(site_dir=site.root, out_dir=out, now=NOW), session=session)
        (tmp_path / "secret.html").write_text("not the site's")
        (templates / "stolen.html").symlink_to(tmp_path / "secret.html")
        session.edited = ()  # the watcher saw a template saved, nothing else
        with pytest.raises(BuildFailed) as failed:
            build(BuildOptions(site_dir=site.root, out_dir=out, now=NOW), session=session)
    finally:
        session.close()
    assert "themes/default/templates/stolen.html" in str(failed.value)
    assert "outside the site folder" in str(failed.value)


def test_files_saved_again_unchanged_rebuild_nothing(tmp_path: Path) -> None:
    site = Site(tmp_path / "site", random.Random(12))
    out = tmp_path / "out"
    build(BuildOptions(site_dir=site.root, out_dir=out, now=NOW))
    a_while_ago = time.time() - 60
    for file in (*site.articles(), site.root / "site.yaml"):  # saved again, same bytes, new times
        os.utime(file, (a_while_ago, a_while_ago))
    report = build(BuildOptions(site_dir=site.root, out_dir=out, now=NOW))  # reads them, finds the same content
    assert report.stopped_at == "content" and report.written == [] and report.parsed == 0
    report = build(BuildOptions(site_dir=site.root, out_dir=out, now=NOW))  # the new times were noted: no reading
    assert report.stopped_at == "stat" and report.written == [] and report.unchanged > 0
    (out / "index.html").unlink()
    report = build(BuildOptions(site_dir=site.root, out_dir=out, now=NOW))  # a missing output is made again
    assert report.stopped_at is None and report.written == ["index.html"]


def test_a_failed_build_keeps_what_it_parsed(tmp_path: Path) -> None:
    site = Site(tmp_path / "site", random.Random(11))
    out = tmp_path / "out"
    broken = site.content / "news" / "broken.md"
    broken.write_text('---\ntitle: "Unclosed\ndate: 2026-11-01\n---\n\nText.\n')
    with pytest.raises(BuildFailed):
        build(BuildOptions(site_dir=site.root, out_dir=out, now=NOW))
    broken.write_text('---\ntitle: "Closed"\ndate: 2026-11-01\nsection: News\n---\n\nText.\n')
    report = build(BuildOptions(site_dir=site.root, out_dir=out, now=NOW))
    assert report.parsed == 1 and report.cache_hits == len(site.articles()) - 1


def test_a_template_edit_renders_only_the_pages_that_use_it(tmp_path: Path) -> None:
    site = Site(tmp_path / "site", random.Random(10))
    out = tmp_path / "out"
    build(BuildOptions(site_dir=site.root, out_dir=out, now=NOW))
    html = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html"))
    article_pages = [name for name in html if "/story-" in name]
    list_pages = [name for name in html if name not in article_pages and name != "404.html"]
    assert len(article_pages) == len(site.articles()) and len(list_pages) > 10

    partial = site.root / "themes" / "default" / "templates" / "partials" / "pagination.html"
    partial.parent.mkdir(parents=True)
    partial.write_text('{% include "default/partials/pagination.html" %}<p class="probe">paged</p>\n')
    report = build(BuildOptions(site_dir=site.root, out_dir=out, now=NOW))  # list.html includes it; nothing else does
    assert sorted(report.written) == list_pages and report.rendered == len(list_pages)
    assert all('<p class="probe">paged</p>' in (out / name).read_text() for name in list_pages)

    (site.root / "themes" / "default" / "templates" / "article.html").write_text(OVERRIDE.format(n=1))
    report = build(BuildOptions(site_dir=site.root, out_dir=out, now=NOW))
    assert sorted(report.written) == article_pages and report.rendered == len(article_pages)
    assert all('class="kicker override-1"' in (out / name).read_text() for name in article_pages)


def test_the_passing_of_time_alone_updates_the_site(tmp_path: Path) -> None:
    """With no file edited, a future article comes out and the news sitemap moves on when their time comes."""
    site = Site(tmp_path / "site", random.Random(9))
    (site.content / "news" / "later.md").write_text(
        '---\ntitle: "Published later"\ndate: 2026-11-28 15:00\nsection: News\n---\n\nText.\n')
    out = tmp_path / "out"
    for now in (NOW, NOW.replace(hour=16), NOW.replace(day=30)):
        build(BuildOptions(site_dir=site.root, out_dir=out, now=now))
        clean = tmp_path / f"clean-{now:%d%H}"
        build(BuildOptions(site_dir=site.root, out_dir=clean, now=now, use_cache=False))
        assert tree_digest(out) == tree_digest(clean), f"at {now}"
    assert "Published later" in (out / "index.html").read_text()
    report = build(BuildOptions(site_dir=site.root, out_dir=out, now=NOW.replace(day=30)))
    assert report.rendered == 0 and report.parsed == 0 and report.written == []
