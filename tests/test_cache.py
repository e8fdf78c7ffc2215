"""The build cache keeps its document entries in one blob plus rows for the few changed since."""
from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

from conftest import article, make_site
from ssg.cache import BuildCache, CachedDocument
from ssg.model import Document, Image
from ssg.pipeline import BuildOptions, build
from ssg.session import open_cache


def entry(n: int, title: str = "") -> CachedDocument:
    document = Document(
        source=f"content/news/s{n}.md", relative=f"news/s{n}.md", kind="article", layout="article",
        title=title or f"Story {n}", date=None, updated=None, authors=("Ann",), section="News", section_slug="news",
        tags=("a",), summary="", image=Image(f"/news/s{n}/lead.jpg", "Alt", width=10, height=5) if n % 2 else None,
        slug=f"s{n}", path=f"/news/s{n}/", aliases=(), draft=False, metered=True, body="", toc="", params={},
        assets=(), digest=f"d{n}")
    return CachedDocument(mtime_ns=n, size=100 + n, folder_digest="", digest=f"d{n}", stored_at=1.0, document=document)


def rows(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT COUNT(*) FROM entry_changes").fetchone()[0]


def test_entries_survive_as_a_blob_plus_changed_rows(tmp_path: Path) -> None:
    folder = tmp_path / ".ssg-cache"
    expected = {f"news/s{n}.md": entry(n) for n in range(300)}

    cache = BuildCache(folder, "print")
    cache.store_documents([(relative, e, "<p>body</p>") for relative, e in expected.items()])
    cache.save_entries()  # 300 new entries: written as one blob
    cache.close()
    assert rows(folder / "cache.sqlite") == 0

    cache = BuildCache(folder, "print")
    assert cache.documents() == expected
    expected["news/s7.md"] = entry(7, "Retitled")
    cache.store_documents([("news/s7.md", expected["news/s7.md"], "<p>new</p>")])
    del expected["news/s8.md"]
    cache.forget_documents(keep=set(expected))
    cache.save_entries()  # two changes: two small rows, the blob untouched
    cache.close()
    assert rows(folder / "cache.sqlite") == 2

    cache = BuildCache(folder, "print")
    assert cache.documents() == expected
    changed = {relative: dataclasses.replace(e, size=e.size + 1) for relative, e in list(expected.items())[:280]}
    cache.store_documents([(relative, e, None) for relative, e in changed.items()])
    expected |= changed
    cache.save_entries()  # many changes: a new blob, and the rows are folded into it
    cache.close()
    assert rows(folder / "cache.sqlite") == 0

    cache = BuildCache(folder, "print")
    assert cache.documents() == expected
    cache.close()
    assert BuildCache(folder, "other settings").documents() == {}  # another fingerprint starts over


def test_what_templates_refer_to_is_kept_for_the_next_build(tmp_path: Path) -> None:
    site = make_site(tmp_path, {"content/news/a.md": article("A story")})
    build(BuildOptions(site_dir=site, out_dir=tmp_path / "out"))
    cache = open_cache(site, use_cache=True)
    named = [set(names) for names in cache.template_references.values()]
    cache.close()
    assert {"base.html", "partials/card.html", "partials/lead-figure.html"} in named  # article.html's
    assert {"base.html", "partials/card.html", "partials/pagination.html"} in named  # list.html's
