"""ssg.watch: what kind of input a changed path is, and one batch of changes per burst of saves."""
from __future__ import annotations

import threading
import time

from ssg.watch import BUILT_IN_THEMES, Change, ChangeKind, ChangeQueue, SiteWatcher, classify

CONTENT, CONFIG, THEME, STATIC = ChangeKind.CONTENT, ChangeKind.CONFIG, ChangeKind.THEME, ChangeKind.STATIC


def test_each_input_of_the_build_has_its_kind(tmp_path):
    site = tmp_path / "site"
    kinds = {
        "site.yaml": CONFIG,
        "content": CONTENT,
        "content/news/vote.md": CONTENT,
        "content/news/vote/photo.jpg": CONTENT,              # a file that travels with an article is content
        "content/static/logo.png": CONTENT,                  # a content folder named static is still content
        "themes": THEME,
        "themes/default": THEME,
        "themes/default/templates/article.html": THEME,
        "themes/default/static": STATIC,
        "themes/default/static/css/site.css": STATIC,
        "themes/static/templates/base.html": THEME,          # a theme named static is not a static folder
    }
    for name, kind in kinds.items():
        assert classify(site / name, site) is kind, name


def test_the_built_in_themes_are_theme_and_static_changes(tmp_path):
    site = tmp_path / "site"
    assert classify(BUILT_IN_THEMES / "default" / "templates" / "base.html", site) is THEME
    assert classify(BUILT_IN_THEMES / "default" / "static" / "js" / "meter.js", site) is STATIC
    assert classify(BUILT_IN_THEMES / "default", site) is THEME


def test_what_the_build_never_reads_is_no_change(tmp_path):
    site = tmp_path / "site"
    for name in ("", "site.yaml~", ".site.yaml.swp", "site.yml", "README.md", "notes/site.yaml", "contents/a.md",
                 "_site/index.html", ".ssg-cache/state.db", "content/news/.vote.md.swp", "content/news/vote.md~",
                 "content/news/#vote.md#", "content/.git/HEAD", "content/_site/index.html",
                 "themes/default/templates/.article.html.swp", "themes/default/static/css/site.css.tmp"):
        assert classify(site / name, site) is None, name
    assert classify(tmp_path / "elsewhere" / "content" / "a.md", site) is None
    assert classify(BUILT_IN_THEMES / "default" / "templates" / ".base.html.swp", site) is None


def test_the_site_folder_inside_a_built_in_theme_checkout_is_still_classified(tmp_path):
    # A site at the root of this repository holds the built-in themes under ssg/themes/: they count as theme.
    assert classify(BUILT_IN_THEMES / "default" / "static" / "css" / "site.css", BUILT_IN_THEMES.parents[1]) is STATIC
    assert classify(BUILT_IN_THEMES.parents[1] / "site.yaml", BUILT_IN_THEMES.parents[1]) is CONFIG


def test_change_queue_gives_one_batch_per_burst(tmp_path):
    queue = ChangeQueue(quiet=0.05, cap=2)
    file = tmp_path / "a.md"
    file.write_text("x")
    edited = Change("content/a.md", CONTENT)

    def burst():
        for _ in range(30):
            queue.add(edited, file)
            time.sleep(0.005)
        # A temporary file, gone by the end of the burst.
        queue.add(Change("content/sedXYZ", CONTENT), tmp_path / "sedXYZ", created=True)

    threading.Thread(target=burst).start()
    started = time.monotonic()
    assert queue.take_burst(timeout=5) == {edited}
    assert 0.15 < time.monotonic() - started < 1.5
    assert queue.take_burst(timeout=0.2) == set()
    later = Change("content/b.md", CONTENT)
    queue.add(later, tmp_path / "b.md")  # arrives while the caller rebuilds: kept for the next burst
    assert queue.take_burst(timeout=1) == {later}


def collect(queue: ChangeQueue, wanted: set[Change], timeout: float = 5) -> set[Change]:
    """Changes from the queue until all of `wanted` came, then whatever follows in a short quiet moment."""
    seen: set[Change] = set()
    deadline = time.monotonic() + timeout
    while not wanted <= seen and time.monotonic() < deadline:
        seen |= queue.take_burst(timeout=0.2)
    return seen | queue.take_burst(timeout=0.3)


def test_the_watcher_reports_each_saved_input_with_its_kind(tmp_path):
    site = tmp_path / "site"
    (site / "content" / "news").mkdir(parents=True)
    (site / "site.yaml").write_text("title: Before\n")
    queue = ChangeQueue()
    watcher = SiteWatcher(site, queue, ignore=tmp_path / "out")
    watcher.start(())
    try:
        (site / "content" / "news" / "vote.md").write_text("---\ntitle: Vote\n---\n")
        (site / "content" / "news" / ".vote.md.swp").write_text("swap")
        (site / "site.yaml").write_text("title: After\n")
        (site / "notes.txt").write_text("not an input")
        wanted = {Change("content/news/vote.md", CONTENT), Change("site.yaml", CONFIG)}
        assert collect(queue, wanted) == wanted

        # themes/ appears after the start: the preview refreshes the watches after each burst.
        css = site / "themes" / "default" / "static" / "css"
        css.mkdir(parents=True)
        assert Change("themes", THEME) in collect(queue, {Change("themes", THEME)})
        watcher.refresh(())
        (css / "site.css").write_text("body { color: teal }\n")
        wanted = {Change("themes/default/static/css/site.css", STATIC)}
        assert wanted <= collect(queue, wanted)
    finally:
        watcher.stop()
