"""Nothing outside the site folder reaches the output; a file that cannot be read is an error, not a hang,
a traceback or a silent gap; `ssg check` refuses what `ssg build` refuses."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import NOW, REPO, article, build_site, make_site, run_cli
from ssg.check import check_site
from ssg.errors import BuildFailed
from ssg.pipeline import BuildOptions


def secret(tmp_path: Path) -> Path:
    """A file outside the site, standing for /etc/passwd or /proc/self/environ."""
    path = tmp_path / "secret.txt"
    path.write_text("TOKEN=do-not-publish\n", encoding="utf-8")
    return path


def refused(site: Path, tmp_path: Path) -> list[str]:
    with pytest.raises(BuildFailed) as caught:
        build_site(site, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    return [str(error) for error in caught.value.errors]


@pytest.mark.parametrize("link", ["content/leak.txt", "content/news/a/leak.txt", "content/news/leak.md",
                                  "content/linked-folder", "themes/default/static/leak.css",
                                  "themes/default/templates/partials/leak.html"])
def test_a_link_to_a_file_outside_the_site_is_refused(tmp_path: Path, link: str) -> None:
    site = make_site(tmp_path, {"content/news/a/index.md": article("A"),
                                "themes/default/templates/.keep": ""})
    target = secret(tmp_path) if link != "content/linked-folder" else tmp_path
    (site / link).parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, site / link)
    errors = refused(site, tmp_path)
    assert errors == [f"{link}: is a symbolic link to something outside the site folder; "
                      "only links inside it are followed"]


def test_proc_files_are_never_read(tmp_path: Path) -> None:
    site = make_site(tmp_path, {"content/news/a.md": article("A")})
    os.symlink("/proc/self/environ", site / "content" / "environ.txt")
    assert "content/environ.txt: is a symbolic link to something outside" in refused(site, tmp_path)[0]


def test_links_inside_the_site_are_followed(tmp_path: Path) -> None:
    site = make_site(tmp_path, {"content/news/a.md": article("A"), "shared/logo.svg": "<svg/>"})
    os.symlink(site / "shared" / "logo.svg", site / "content" / "logo.svg")
    out = build_site(site, tmp_path / "out")
    assert (out / "logo.svg").read_text() == "<svg/>"


def test_a_fifo_is_refused_not_read(tmp_path: Path) -> None:
    site = make_site(tmp_path, {"content/news/a.md": article("A")})
    os.mkfifo(site / "content" / "news" / "pipe.md")  # reading it would block the build for ever
    assert refused(site, tmp_path) == ["content/news/pipe.md: is not a regular file (a FIFO, device or socket); "
                                       "only files are read"]


def test_site_yaml_that_links_outside_is_refused(tmp_path: Path) -> None:
    site = make_site(tmp_path, {"content/news/a.md": article("A")})
    (site / "site.yaml").unlink()
    os.symlink(secret(tmp_path), site / "site.yaml")
    assert refused(site, tmp_path)[0].startswith("site.yaml: is a symbolic link to something outside")


def test_every_refused_file_is_named_in_one_run(tmp_path: Path) -> None:
    site = make_site(tmp_path, {"content/news/a.md": article("A")})
    os.symlink(secret(tmp_path), site / "content" / "one.txt")
    os.symlink(secret(tmp_path), site / "content" / "news" / "two.txt")
    assert [e.split(":")[0] for e in refused(site, tmp_path)] == ["content/news/two.txt", "content/one.txt"]


def test_check_refuses_what_build_refuses(tmp_path: Path) -> None:
    site = make_site(tmp_path, {"content/news/a.md": article("A"),
                                "content/index.html": "<p>a hand-made home page</p>",
                                "content/news/long.md": article("Long", slug="x" * 300)})
    os.symlink(secret(tmp_path), site / "content" / "leak.txt")
    with pytest.raises(BuildFailed) as by_check:
        check_site(BuildOptions(site_dir=site, now=NOW))
    assert [str(e) for e in by_check.value.errors] == refused(site, tmp_path)
    (site / "content" / "leak.txt").unlink()
    with pytest.raises(BuildFailed) as by_check:
        check_site(BuildOptions(site_dir=site, now=NOW))
    errors = [str(e) for e in by_check.value.errors]
    assert errors == refused(site, tmp_path)
    assert any(e.startswith("content/index.html: URL / is reserved for a page the generator makes")
               for e in errors)
    assert any(e.startswith("content/news/long.md:4: ") for e in errors)  # a name too long to write


def test_a_page_where_a_generated_file_is_names_both(tmp_path: Path) -> None:
    site = make_site(tmp_path, {"content/news/a.md": article("A", aliases="[/feed.xml/]")})
    errors = refused(site, tmp_path)
    assert errors == ["content/news/a.md:2: URL /feed.xml is reserved for a page the generator makes; "
                      "choose another 'slug' or alias"]


def test_a_page_named_tags_is_not_reserved(tmp_path: Path) -> None:
    site = make_site(tmp_path, {"content/news/a.md": article("A"), "content/pages/tags.md": "---\ntitle: Tags\n---\n"})
    out = build_site(site, tmp_path / "out")
    assert (out / "tags" / "index.html").is_file()


def test_port_out_of_range_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("serve", "--site", str(tmp_path), "--port", "70000")
    assert result.returncode == 2 and "70000 is not a port number" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_generator_bug_is_an_internal_error_not_a_template_error(tmp_path: Path) -> None:
    """Errors raised outside template code are the generator's: exit 2, named as a bug, never blamed on a
    template line (here a document body missing from the cache while its entry remains)."""
    import sqlite3

    site = make_site(tmp_path, {"content/news/a.md": article("A")})
    assert run_cli("build", "--site", str(site)).returncode == 0
    with sqlite3.connect(site / ".ssg-cache" / "cache.sqlite") as db:
        db.execute("DELETE FROM documents")
    (site / "site.yaml").write_text((site / "site.yaml").read_text() + "description: Changed\n")  # re-render all
    result = run_cli("build", "--site", str(site))
    assert "article.html" not in result.stderr and "Traceback" not in result.stderr
    # Either the build noticed the cache was unusable and rebuilt without it, or it says it found a bug.
    assert result.returncode == 0 or (result.returncode == 2 and "internal error" in result.stderr)


def run_without_root_powers(*args: str) -> subprocess.CompletedProcess:
    """`ssg ARGS` with the file permission overrides of root dropped, so unreadable means unreadable."""
    if os.geteuid() != 0:
        command = [sys.executable, "-m", "ssg.cli", *args]
    elif shutil.which("setpriv"):
        command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", sys.executable, "-m", "ssg.cli", *args]
    else:
        pytest.skip("running as root without setpriv: every file is readable")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("locked, expected", [
    ("content/news/locked", "content/news/locked: cannot be read (Permission denied); its files would be left out"),
    ("content/news/secret.md", "content/news/secret.md: cannot be read (Permission denied)"),
])
def test_an_unreadable_folder_or_file_is_an_error_not_a_gap(tmp_path: Path, locked: str, expected: str) -> None:
    site = make_site(tmp_path, {"content/news/a.md": article("A"), "content/news/locked/b.md": article("B"),
                                "content/news/secret.md": article("C")})
    (site / locked).chmod(0)
    try:
        result = run_without_root_powers("build", "--site", str(site), "--out", str(tmp_path / "out"))
    finally:
        (site / locked).chmod(0o755)
    assert result.returncode == 1 and expected in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()

