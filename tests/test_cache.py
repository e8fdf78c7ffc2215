"""The build cache: entries kept one row each, in JSON; a cache that cannot be trusted is
replaced with a warning, and the output still equals a clean build's; one in use by another build is an error."""
from __future__ import annotations

import json
import os
import pickle
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from conftest import NOW, article, make_site, run_cli, tree_digest
from ssg import cache as cache_module
from ssg.cache import BuildCache, CachedDocument
from ssg.errors import SsgError
from ssg.model import Document, Image
from ssg.pipeline import BuildOptions, Session, build
from ssg.session import open_cache


def entry(n: int, title: str = "") -> CachedDocument:
    document = Document(
        source=f"content/news/s{n}.md", relative=f"news/s{n}.md", kind="article", layout="article",
        title=title or f"Story {n}", date=None, updated=None, authors=("Ann",), section="News", section_slug="news",
        tags=("a",), summary="", image=Image(f"/news/s{n}/lead.jpg", "Alt", width=10, height=5) if n % 2 else None,
        slug=f"s{n}", path=f"/news/s{n}/", aliases=(), draft=False, access="metered", body="", toc="", params={},
        assets=(), digest=f"d{n}")
    return CachedDocument(mtime_ns=n, size=100 + n, folder_digest="", digest=f"d{n}", stored_at=1.0, document=document)


def rows(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT COUNT(*) FROM entries").fetchone()[0]


def test_entries_survive_one_row_each_and_are_read_by_path(tmp_path: Path) -> None:
    folder = tmp_path / ".ssg-cache"
    expected = {f"news/s{n}.md": entry(n) for n in range(300)}

    cache = BuildCache(folder, "print")
    cache.store_documents([(relative, e, "<p>body</p>") for relative, e in expected.items()])
    cache.save_entries()
    cache.close()
    assert rows(folder / "cache.sqlite") == 300

    cache = BuildCache(folder, "print")  # a build that touched two documents reads their rows only
    assert cache.entries_of(["news/s7.md", "news/s250.md", "news/missing.md"]) == {
        "news/s7.md": expected["news/s7.md"], "news/s250.md": expected["news/s250.md"]}
    expected["news/s7.md"] = entry(7, title="Retitled")
    cache.store_documents([("news/s7.md", expected["news/s7.md"], "<p>new</p>")])
    cache.save_entries()
    cache.close()

    cache = BuildCache(folder, "print")
    assert cache.documents() == expected
    del expected["news/s8.md"]
    cache.forget_documents(keep=set(expected))
    cache.save_entries()
    cache.close()
    assert rows(folder / "cache.sqlite") == 299

    cache = BuildCache(folder, "print")
    assert cache.documents() == expected
    assert cache.entries_of(["news/s7.md"]) == {"news/s7.md": expected["news/s7.md"]}
    cache.close()


def test_what_templates_refer_to_is_kept_for_the_next_build(tmp_path: Path) -> None:
    site = make_site(tmp_path, {"content/news/a.md": article("A story")})
    build(BuildOptions(site_dir=site, out_dir=tmp_path / "out"))
    cache = open_cache(site, use_cache=True)
    named = [set(names) for names in cache.template_references.values()]
    cache.close()
    assert {"base.html", "partials/card.html", "partials/lead-figure.html"} in named  # article.html's
    assert {"base.html", "partials/card.html", "partials/pagination.html"} in named  # list.html's


# --- a cache that cannot be trusted -------------------------------------------------------------------

STORIES = {f"content/news/{name}.md": article(f"Story {name}", date=f"2026-11-{10 + n} 09:00",
                                              body=f"Paragraph of {name}.\n")
           for n, name in enumerate(["a", "b", "c"])}


def aged(site: Path) -> Path:
    """Every file an hour old, so that the cache trusts their times."""
    an_hour_ago = time.time() - 3600
    for path in site.rglob("*"):
        os.utime(path, (an_hour_ago, an_hour_ago))
    return site


def database(site: Path) -> Path:
    return site / ".ssg-cache" / "cache.sqlite"


def execute(site: Path, statement: str, *values) -> None:
    with sqlite3.connect(database(site)) as db:
        db.execute(statement, values)
    db.close()


def stored_entry(site: Path, relative: str) -> list:
    with sqlite3.connect(database(site)) as db:
        row = db.execute("SELECT entry FROM entries WHERE relative=?", (relative,)).fetchone()
    db.close()
    return json.loads(row[0])


def garbage_file(site: Path, out: Path) -> None:
    for path in database(site).parent.glob("cache.sqlite*"):
        path.unlink()
    database(site).write_bytes(os.urandom(3000) + b"not a database at all" * 100)


def checkpointed(site: Path) -> Path:
    """The database with everything in its file, its write-ahead log and shared memory gone: as copied."""
    path = database(site)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    for companion in path.parent.glob("cache.sqlite-*"):
        companion.unlink()
    return path


def truncated_file(site: Path, out: Path) -> None:
    path = checkpointed(site)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


def cache_folder_is_a_file(site: Path, out: Path) -> None:
    shutil.rmtree(site / ".ssg-cache")
    (site / ".ssg-cache").write_text("left here by mistake\n")


def entry_does_not_decode(site: Path, out: Path) -> None:
    execute(site, "UPDATE entries SET entry=? WHERE relative='news/b.md'", '[1700000000, 12, "abc')


def entry_of_the_wrong_shape(site: Path, out: Path) -> None:
    wrong = stored_entry(site, "news/b.md")
    wrong[wrong.index("Story b")] = {"title": ["not", "text"]}
    execute(site, "UPDATE entries SET entry=? WHERE relative='news/b.md'", json.dumps(wrong))


def body_missing(site: Path, out: Path) -> None:
    execute(site, "DELETE FROM documents WHERE relative='news/b.md'")


def output_outside_the_folder(site: Path, out: Path) -> None:
    """A planted row naming a file outside the output. A build of one body edit reads the rows of its pages
    only and removes nothing; a full build (a new article here) reads every row, and finds it."""
    (out.parent / "victim.txt").write_text("not the generator's\n")
    execute(site, "INSERT INTO outputs VALUES (?, '../victim.txt', 'key', 'hash')", str(out.resolve()))
    (site / "content/news/d.md").write_text(article("Story d", date="2026-11-14 09:00", body="Paragraph of d.\n"))


@pytest.mark.parametrize("damage", [garbage_file, truncated_file, cache_folder_is_a_file, entry_does_not_decode,
                                    entry_of_the_wrong_shape, body_missing, output_outside_the_folder])
def test_a_damaged_cache_is_replaced_and_the_output_equals_a_clean_build(tmp_path: Path, damage) -> None:
    site = aged(make_site(tmp_path, STORIES))
    out, clean = tmp_path / "out", tmp_path / "clean"
    build(BuildOptions(site_dir=site, out_dir=out, now=NOW))
    damage(site, out)
    with (site / "content/news/a.md").open("a") as file:  # one edit: the build reads the cache and renders
        file.write("\nA new paragraph.\n")

    report = build(BuildOptions(site_dir=site, out_dir=out, now=NOW))
    build(BuildOptions(site_dir=site, out_dir=clean, now=NOW, use_cache=False))
    assert tree_digest(out) == tree_digest(clean)
    if damage is output_outside_the_folder:
        assert (tmp_path / "victim.txt").read_text() == "not the generator's\n"
    assert len(report.warnings) == 1, report.warnings
    assert report.warnings[0].startswith(f"ssg: the build cache at {site / '.ssg-cache'} could not be used (")
    assert report.warnings[0].endswith("); building without it and starting a new one")

    again = build(BuildOptions(site_dir=site, out_dir=out, now=NOW))  # the new cache serves the next build
    assert again.warnings == [] and again.stopped_at in ("stat", "content")


def test_a_damaged_cache_under_a_preview_session_is_replaced(tmp_path: Path) -> None:
    site = aged(make_site(tmp_path, STORIES))
    options = BuildOptions(site_dir=site, out_dir=tmp_path / "out", now=NOW)
    build(options)
    garbage_file(site, options.output)
    session = Session()
    try:
        report = build(options, session=session)
        assert len(report.warnings) == 1 and "could not be used" in report.warnings[0]
        (site / "content/news/c.md").write_text(article("Story c, again", date="2026-11-12 09:00"))
        report = build(options, session=session)
        assert report.warnings == [] and report.parsed == 1 and report.cache_hits == 2
    finally:
        session.close()


class _Planted:
    """What a crafted pickle does when it is loaded: here, only create a file."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return open, (str(self.marker), "w")


def test_a_pickle_planted_in_the_cache_never_runs(tmp_path: Path) -> None:
    site = aged(make_site(tmp_path, STORIES))
    build(BuildOptions(site_dir=site, out_dir=tmp_path / "out", now=NOW))
    marker = tmp_path / "ran"
    planted = pickle.dumps(_Planted(marker))
    execute(site, "UPDATE entries SET entry=?", planted)
    execute(site, "UPDATE recipes SET recipe=?", planted)

    try:
        report = build(BuildOptions(site_dir=site, out_dir=tmp_path / "elsewhere", now=NOW))  # reads every entry
    finally:
        assert not marker.exists()
    assert len(report.warnings) == 1 and "does not read back" in report.warnings[0]
    build(BuildOptions(site_dir=site, out_dir=tmp_path / "clean", now=NOW, use_cache=False))
    assert tree_digest(tmp_path / "elsewhere") == tree_digest(tmp_path / "clean")


PARAMS = """
params:
  rank: 3
  ratio: 0.25
  big: 123456789012345678901234567890
  flags: [true, false, null, .inf, -0.0]
  day: 2026-01-02
  when: 2026-01-02 09:30:00+01:00
  naive: 2026-01-02 09:30:00
  nested: {list: [1, [2, 3], {deep: [2026-03-04]}], "$tuple": a key like a tag, 7: an int key, 2026-05-06: a date key}
  ordered: !!omap [{b: 1}, {a: [x, y]}]
  blob: !!binary aGVsbG8=
"""
SHOWN = """{% extends "default/article.html" %}
{% block kicker %}<pre class="params">{{ article.params }}</pre>
<p class="when">{{ article.date.isoformat() }} {{ article.date.tzinfo }} {{ article.date.fold }}
{{ article.updated.isoformat() if article.updated }}</p>{% endblock %}
"""


def test_front_matter_values_come_back_from_the_cache_with_their_types(tmp_path: Path) -> None:
    site = aged(make_site(tmp_path, {
        "content/news/typed.md": "---\ntitle: Typed\ndate: 2026-07-01 09:00\n" + PARAMS + "---\n\nText.\n",
        # 01:30 comes twice in London that night; 'updated' is the second one (GMT), which only the fold tells
        "content/news/autumn.md": article("Autumn", date="2026-10-25 01:30", updated="2026-10-25 01:30:00+00:00"),
        "content/news/spring.md": article("Spring", date="2026-03-29 01:30"),  # a time London skips
        "themes/default/templates/article.html": SHOWN,
    }, site_yaml="title: T\nbase_url: https://t.example.org/\ntimezone: Europe/London\nmeter: false\n"))
    build(BuildOptions(site_dir=site, out_dir=tmp_path / "first", now=NOW))
    report = build(BuildOptions(site_dir=site, out_dir=tmp_path / "cached", now=NOW))
    build(BuildOptions(site_dir=site, out_dir=tmp_path / "clean", now=NOW, use_cache=False))

    with sqlite3.connect(database(site)) as db:  # kept as JSON text, never as a pickle
        stored = db.execute("SELECT entry FROM entries").fetchall()
    db.close()
    assert len(stored) == 3 and all(isinstance(json.loads(text), list) for text, in stored)
    assert report.warnings == [] and report.cache_hits == 3 and report.parsed == 0
    assert tree_digest(tmp_path / "cached") == tree_digest(tmp_path / "clean")
    page = (tmp_path / "cached/news/typed/index.html").read_text()
    for shown in ("datetime.date(2026, 1, 2)", "Europe/London", "b&#39;hello&#39;", "(&#39;b&#39;, 1)",
                  "datetime.datetime(2026, 1, 2, 9, 30)", "7: &#39;an int key&#39;", "123456789012345678901234567890"):
        assert shown in page
    autumn = (tmp_path / "cached/news/autumn/index.html").read_text()
    assert "2026-10-25T01:30:00+01:00 Europe/London 0\n2026-10-25T01:30:00+00:00" in autumn


def test_a_site_folder_named_with_hash_and_question_mark_builds(tmp_path: Path) -> None:
    site = aged(make_site(tmp_path, STORIES).rename(tmp_path / "a#b?c"))
    first = build(BuildOptions(site_dir=site, now=NOW))
    with (site / "content/news/a.md").open("a") as file:
        file.write("\nA new paragraph.\n")
    second = build(BuildOptions(site_dir=site, now=NOW))

    assert first.warnings == second.warnings == [] and second.parsed == 1 and second.cache_hits == 2
    assert "A new paragraph." in (site / "_site/news/a/index.html").read_text()
    assert sorted(os.listdir(tmp_path)) == ["a#b?c"]  # no stray database beside the site


def test_a_cache_in_use_by_another_build_is_an_error_and_is_kept(tmp_path: Path, monkeypatch) -> None:
    site = aged(make_site(tmp_path, STORIES))
    options = BuildOptions(site_dir=site, out_dir=tmp_path / "out", now=NOW)
    build(options)
    monkeypatch.setattr(cache_module, "LOCK_TIMEOUT", 0.2, raising=False)
    other_build = sqlite3.connect(database(site))
    other_build.execute("BEGIN IMMEDIATE")  # holds the write lock, as a build storing its pages does
    try:
        with pytest.raises(SsgError, match="in use by another build"):
            build(options)
    finally:
        other_build.rollback()
        other_build.close()
    with sqlite3.connect(database(site)) as db:
        assert db.execute("SELECT COUNT(*) FROM documents").fetchone()[0] == 3
    db.close()
    assert build(options).stopped_at == "stat"


def test_a_bad_body_met_in_a_worker_process_replaces_the_cache(tmp_path: Path) -> None:
    """Rendering runs in forked workers on a large site: the cache's error comes back through pickling."""
    stories = {f"content/news/s{n:02d}.md": article(f"Story {n}", date=f"2026-10-{1 + n // 3:02d} {n % 3 + 9:02d}:00")
               for n in range(60)}
    site = aged(make_site(tmp_path, stories))
    build(BuildOptions(site_dir=site, out_dir=tmp_path / "out", now=NOW, jobs=2))
    # The oldest story: in no feed, so only its own page (rendered in a worker) reads its body.
    execute(site, "UPDATE documents SET body=CAST(body AS BLOB) WHERE relative='news/s00.md'")

    report = build(BuildOptions(site_dir=site, out_dir=tmp_path / "elsewhere", now=NOW, jobs=2))
    build(BuildOptions(site_dir=site, out_dir=tmp_path / "clean", now=NOW, use_cache=False))
    assert tree_digest(tmp_path / "elsewhere") == tree_digest(tmp_path / "clean")
    assert len(report.warnings) == 1 and "the stored body of content/news/s00.md is not text" in report.warnings[0]


@pytest.mark.parametrize("read_only", ["file", "folder"])
def test_a_read_only_cache_is_built_without(tmp_path: Path, read_only: str) -> None:
    probe = tmp_path / "probe"
    probe.touch(mode=0o444)
    if os.access(probe, os.W_OK):
        pytest.skip("this user writes read-only files (root)")
    site = aged(make_site(tmp_path, STORIES))
    options = BuildOptions(site_dir=site, out_dir=tmp_path / "out", now=NOW)
    # In another process: SQLite hands a new connection the writable descriptor an old one of this process
    # left open, and the file's mode would not count.
    assert run_cli("build", "--site", str(site), "--out", str(options.output)).returncode == 0
    locked = checkpointed(site) if read_only == "file" else checkpointed(site).parent
    locked.chmod(0o444 if read_only == "file" else 0o555)
    try:
        with (site / "content/news/a.md").open("a") as file:
            file.write("\nA new paragraph.\n")
        report = build(options)
    finally:
        locked.chmod(0o644 if read_only == "file" else 0o755)
    build(BuildOptions(site_dir=site, out_dir=tmp_path / "clean", now=NOW, use_cache=False))
    assert tree_digest(tmp_path / "out") == tree_digest(tmp_path / "clean")
    assert len(report.warnings) == 1 and "could not be used" in report.warnings[0]
    # A read-only file is replaced; in a read-only folder nothing can be, and the build goes without a cache.
    assert report.warnings[0].endswith("building without it and starting a new one" if read_only == "file"
                                       else "building without it")


def test_a_cache_restored_onto_another_checkout_spares_all_unchanged_work(tmp_path: Path) -> None:
    # CI restores .ssg-cache (and here the output too) onto a fresh checkout: another path, every file's time
    # new. Only content digests decide: nothing is parsed, nothing written, and the site equals a clean build.
    from conftest import png

    files = {f"content/news/s{n}.md": article(f"Story {n}", f"2026-11-{n + 1:02d} 09:00") for n in range(6)}
    files |= {"content/news/lead/index.md": article("Lead", image="lead.png", body="![Map](map.png)\n"),
              "content/news/lead/lead.png": png(40, 30), "content/news/lead/map.png": png(20, 10),
              "static/ads.txt": "example.com, pub-1, DIRECT\n"}
    first = make_site(tmp_path / "checkout-1", files)
    build(BuildOptions(site_dir=first, now=NOW))
    moved = tmp_path / "runner" / "checkout-2"
    shutil.copytree(first, moved, symlinks=True)
    later = time.time() + 86400
    for folder, _, names in os.walk(moved):
        for name in names:
            os.utime(os.path.join(folder, name), (later, later))
    report = build(BuildOptions(site_dir=moved, now=NOW))
    assert report.parsed == 0 and report.written == [] and report.removed == []
    assert report.cache_hits == 7
    clean = tmp_path / "clean"
    build(BuildOptions(site_dir=moved, out_dir=clean, now=NOW, use_cache=False))
    manifest = ".ssg-manifest.json"  # names the site that wrote the folder: here another one
    assert {k: v for k, v in tree_digest(moved / "_site").items() if k != manifest} == \
           {k: v for k, v in tree_digest(clean).items() if k != manifest}
    # A changed image still changes its page after the move (its size is in the HTML).
    (moved / "content/news/lead/map.png").write_bytes(png(24, 12))
    report = build(BuildOptions(site_dir=moved, now=NOW))
    assert report.parsed == 1 and 'width="24"' in (moved / "_site/news/lead/index.html").read_text()


def test_a_settings_change_reaches_cached_documents_whose_files_are_old(tmp_path: Path) -> None:
    # Cached documents are trusted on their file's size and time; the settings they were parsed with
    # (permalink, time zone, meter) must be part of that trust, or a new permalink leaves old URLs.
    from conftest import SITE_YAML

    site = make_site(tmp_path, {f"content/news/s{n}.md": article(f"Story {n}", f"2026-11-0{n + 1} 09:00")
                                for n in range(3)})
    hour_ago = time.time() - 3600
    for path in (site / "content").rglob("*"):
        os.utime(path, (hour_ago, hour_ago))
    build(BuildOptions(site_dir=site, now=NOW))
    (site / "site.yaml").write_text(SITE_YAML + "permalink: /{year}/{month}/{slug}/\n", encoding="utf-8")
    report = build(BuildOptions(site_dir=site, now=NOW))
    assert report.parsed == 3
    assert (site / "_site/2026/11/s0/index.html").is_file() and not (site / "_site/news/s0").exists()
