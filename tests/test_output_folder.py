"""The output folder: a build or `ssg clean` removes only what builds of this site wrote there, and a
build's commit into the folder is all or nothing, even when the process is killed in the middle of it.

Faults are injected from outside the code: the build runs in a subprocess whose `sitecustomize.py` wraps
os.replace/os.link/os.unlink/os.rmdir (the calls that touch the output) to raise, or to kill the process,
at the N-th call."""
from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, article, build_site, make_site, png, tree_digest
from ssg.cli import main
from ssg.errors import BuildFailed, SsgError
from ssg.output import check_output_folder

FAULTS = '''
import os, signal
_plan = os.environ.get("SSG_FAULT")  # kind:calls:match:at  (kind: count, raise, kill, stop)
if _plan:
    _kind, _calls, _match, _at = _plan.split(":", 3)
    _count = 0

    def _wrap(name):
        real = getattr(os, name)

        def wrapped(*args, **kwargs):
            global _count
            if any(_match in str(arg) for arg in args):
                _count += 1
                if _kind == "count":
                    with open(_at, "w") as f:
                        f.write(str(_count))
                elif _count == int(_at):
                    if _kind == "raise":
                        raise OSError(5, "injected fault", str(args[0]))
                    os.kill(os.getpid(), signal.SIGKILL if _kind == "kill" else signal.SIGSTOP)
            return real(*args, **kwargs)

        setattr(os, name, wrapped)

    for _name in _calls.split(","):
        _wrap(_name)
'''

COMMIT_CALLS = "replace,rename,link,unlink,rmdir"
OUT = "pubout"  # a name no other path of a test holds: the faults fire only on calls that touch the output


def ssg(*args: str, home: Path | None = None, fault: str | None = None, tmp: Path | None = None,
        wait: bool = True):
    """`python -m ssg.cli ARGS` in a fresh interpreter; `home` becomes $HOME, `fault` is SSG_FAULT."""
    paths = [str(REPO), os.environ.get("PYTHONPATH", "")]
    if fault:
        inject = tmp / "inject"
        inject.mkdir(exist_ok=True)
        (inject / "sitecustomize.py").write_text(FAULTS)
        paths.insert(0, str(inject))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths))
    env.pop("SSG_FAULT", None)
    if home is not None:
        env["HOME"] = str(home)
    if fault:
        env["SSG_FAULT"] = fault
    command = [sys.executable, "-m", "ssg.cli", *args]
    if not wait:
        return subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def stagings(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.staging"))


# --- whose folder it is ---------------------------------------------------------------------------

def users_folder(tmp_path: Path) -> Path:
    out = tmp_path / "public"
    (out / "photos").mkdir(parents=True)
    (out / "notes.txt").write_text("mine")
    (out / "photos/cat.jpg").write_bytes(b"\xff\xd8 cat")
    return out


def test_a_build_refuses_a_non_empty_folder_it_did_not_write(tmp_path, capsys):
    site = make_site(tmp_path, {"content/news/a.md": article("A")})
    out = users_folder(tmp_path)
    before = tree_digest(out)
    assert main(["build", "--site", str(site), "--out", str(out)]) == 1
    assert f"{out}: is not empty and was not written by ssg; use --force to build into it anyway" in capsys.readouterr().err
    assert tree_digest(out) == before


def test_with_force_it_builds_but_never_deletes_what_it_did_not_write(tmp_path, capsys):
    site = make_site(tmp_path, {"content/news/a.md": article("A"), "content/news/b.md": article("B")})
    out = users_folder(tmp_path)
    assert main(["build", "--site", str(site), "--out", str(out), "--force"]) == 0
    assert "0 removed" in capsys.readouterr().out
    assert (out / "news/a/index.html").is_file()
    assert (out / "notes.txt").read_text() == "mine" and (out / "photos/cat.jpg").is_file()
    # The folder is now this site's: the next build needs no --force, and removes only its own pages.
    (site / "content/news/b.md").unlink()
    assert main(["build", "--site", str(site), "--out", str(out)]) == 0
    assert not (out / "news/b").exists() and (out / "news/a/index.html").is_file()
    assert (out / "notes.txt").read_text() == "mine" and (out / "photos/cat.jpg").is_file()


def test_a_folder_another_site_wrote_is_refused(tmp_path):
    one = make_site(tmp_path / "one", {"content/news/a.md": article("A")})
    other = make_site(tmp_path / "other", {"content/news/b.md": article("B")})
    out = build_site(one, tmp_path / "public")
    before = tree_digest(out)
    with pytest.raises(SsgError, match="written by ssg for another site; use --force"):
        build_site(other, out)
    assert tree_digest(out) == before


def test_hidden_files_in_the_output_are_never_removed(tmp_path):
    site = make_site(tmp_path, {"content/news/a.md": article("A"), "content/news/b.md": article("B")})
    out = build_site(site)
    (out / ".nojekyll").write_text("")
    (out / ".git").mkdir()
    (out / ".git/HEAD").write_text("ref: refs/heads/gh-pages\n")
    (out / "news/b/.keep").write_text("")
    (site / "content/news/b.md").unlink()
    build_site(site, out)
    assert not (out / "news/b/index.html").exists()
    assert (out / ".nojekyll").is_file() and (out / ".git/HEAD").is_file() and (out / "news/b/.keep").is_file()


def test_the_user_files_of_a_folder_this_site_wrote_are_kept(tmp_path):
    site = make_site(tmp_path, {"content/news/a.md": article("A")})
    out = build_site(site)
    (out / "googleabc.html").write_text("verification")
    (out / "news/extra.txt").write_text("mine")
    (site / "content/news/a.md").write_text(article("A again"))
    build_site(site, out)
    assert (out / "googleabc.html").read_text() == "verification" and (out / "news/extra.txt").is_file()


# --- ssg clean ------------------------------------------------------------------------------------

@pytest.mark.parametrize("target", ["site", "content", "themes", "parent", "dot"])
def test_clean_refuses_the_site_and_its_sources(tmp_path, target, capsys, monkeypatch):
    site = make_site(tmp_path / "work", {"content/news/a.md": article("A"), "themes/mine/templates/x.html": "x"})
    out = {"site": site, "content": site / "content", "themes": site / "themes", "parent": tmp_path / "work",
           "dot": Path(".")}[target]
    before = tree_digest(tmp_path)
    monkeypatch.chdir(site)
    assert main(["clean", "--site", str(site), "--out", str(out)]) == 1
    assert "output folder must not" in capsys.readouterr().err
    assert tree_digest(tmp_path) == before


def test_clean_and_build_refuse_the_home_folder(tmp_path):
    home = tmp_path / "home"
    (home / "documents").mkdir(parents=True)
    (home / "documents/thesis.txt").write_text("years of work")
    site = make_site(tmp_path, {"content/news/a.md": article("A")})
    for command in ("clean", "build"):
        result = ssg(command, "--site", str(site), "--out", str(home), home=home)
        assert result.returncode == 1 and "home folder" in result.stderr, result.stderr
    assert (home / "documents/thesis.txt").read_text() == "years of work"


def test_the_root_folder_is_refused_by_the_check_that_comes_before_anything(tmp_path):
    site = make_site(tmp_path / "deep", {})
    with pytest.raises(SsgError, match="output folder must not"):  # the same rule on a folder of our own
        check_output_folder(site, tmp_path)
    with pytest.raises(SsgError, match="output folder must not"):
        check_output_folder(site, Path(tmp_path.anchor))


def test_clean_removes_only_what_builds_of_the_site_wrote(tmp_path):
    site = make_site(tmp_path, {"content/news/a.md": article("A")})
    out = users_folder(tmp_path)
    (out / ".git").mkdir()
    (out / ".git/HEAD").write_text("ref: refs/heads/gh-pages\n")
    assert main(["build", "--site", str(site), "--out", str(out), "--force"]) == 0
    assert main(["clean", "--site", str(site), "--out", str(out)]) == 0
    assert sorted(tree_digest(out)) == [".git/HEAD", "notes.txt", "photos/cat.jpg"]
    assert not (site / ".ssg-cache").exists()


def test_clean_removes_an_output_folder_it_wrote_entirely(tmp_path):
    site = make_site(tmp_path, {"content/news/a.md": article("A")})
    assert main(["build", "--site", str(site)]) == 0
    assert main(["clean", "--site", str(site)]) == 0
    assert sorted(p.name for p in site.iterdir()) == ["content", "site.yaml"]


def test_clean_refuses_a_folder_it_did_not_write(tmp_path, capsys):
    site = make_site(tmp_path, {"content/news/a.md": article("A")})
    out = users_folder(tmp_path)
    before = tree_digest(tmp_path)
    assert main(["clean", "--site", str(site), "--out", str(out)]) == 1
    assert "was not written by ssg" in capsys.readouterr().err
    assert tree_digest(tmp_path) == before


# --- the commit is all or nothing -----------------------------------------------------------------

# The builds of these tests run at the wall clock's time, like the `ssg build` subprocesses; their
# articles are years old, so that only the year in the footer depends on that time.
WALL_TIME = None


def two_versions(tmp_path: Path) -> tuple[Path, Path]:
    """A site built once into tmp_path/pubout, then edited: pages change, go, appear; an image changes; a file
    becomes a folder and a folder a file."""
    site = make_site(tmp_path, {
        "content/news/a.md": article("A", "2020-03-19 09:00", tags="[alpha]"),
        "content/news/b.md": article("B", "2020-03-19 08:00", tags="[beta]"),
        "content/culture/c.md": article("C", "2020-03-19 07:00"),
        "content/media/logo.png": png(4, 4),
        "content/files/report": "a file that becomes a folder",
        "content/files/data/2019.csv": "a folder that becomes a file",
    })
    out = build_site(site, tmp_path / OUT, now=WALL_TIME)
    (site / "content/news/a.md").write_text(article("A, updated", "2020-03-19 09:00", tags="[alpha]",
                                                    body="New text.\n"))
    (site / "content/news/b.md").unlink()
    (site / "content/news/d.md").write_text(article("D", "2020-03-19 10:00", tags="[delta]"))
    (site / "content/media/logo.png").write_bytes(png(5, 5, "blue"))
    (site / "content/files/report").unlink()
    (site / "content/files/report/2020.csv").parent.mkdir()
    (site / "content/files/report/2020.csv").write_text("year,count\n2020,1\n")
    shutil.rmtree(site / "content/files/data")
    (site / "content/files/data").write_text("now a file")
    return site, out


def test_a_file_where_a_page_folder_must_go_fails_before_touching_the_output(tmp_path, capsys):
    site, out = two_versions(tmp_path)
    (out / "news/d").write_text("a file of the user's where the new page's folder goes")
    before = tree_digest(out)
    assert main(["build", "--site", str(site), "--out", str(out)]) == 1
    assert f"{out / 'news/d'}: is a file where a folder must go (for news/d/index.html)" in capsys.readouterr().err
    assert tree_digest(out) == before
    assert stagings(out) == []


def test_a_folder_where_a_file_must_go_fails_before_touching_the_output(tmp_path):
    site, out = two_versions(tmp_path)
    (out / "robots.txt").unlink()
    (out / "robots.txt").mkdir()
    (out / "robots.txt/mine.txt").write_text("x")
    before = tree_digest(out)
    with pytest.raises(SsgError, match="robots.txt: is a folder where a file must go"):
        build_site(site, out, now=WALL_TIME)
    assert tree_digest(out) == before
    assert stagings(out) == []


def test_a_killed_builds_staging_folder_is_removed_by_the_next_build(tmp_path):
    site, out = two_versions(tmp_path)
    result = ssg("build", "--site", str(site), "--out", str(out), "--jobs", "1", tmp=tmp_path,
                 fault=f"kill:{COMMIT_CALLS}:{OUT}:3")
    assert result.returncode == -signal.SIGKILL
    assert len(stagings(out)) == 1
    build_site(site, out, now=WALL_TIME)
    assert stagings(out) == []
    assert tree_digest(out) == tree_digest(build_site(site, tmp_path / "clean", use_cache=False, now=WALL_TIME))


def test_a_live_builds_staging_folder_is_left_alone(tmp_path):
    site, out = two_versions(tmp_path)
    # The other build stops (SIGSTOP) while it stages pages: alive, its staging folder half full.
    other = ssg("build", "--site", str(site), "--out", str(out), "--jobs", "1", tmp=tmp_path,
                fault=f"stop:mkdir:{OUT}:2", wait=False)
    try:
        _, status = os.waitpid(other.pid, os.WUNTRACED)
        assert os.WIFSTOPPED(status), other.stderr.read()
        staging = stagings(out)
        assert len(staging) == 1
        result = ssg("build", "--site", str(site), "--out", str(out))  # a subprocess: a lock it waited for
        assert result.returncode == 0, result.stderr                   # for ever would fail, not hang, the test
        assert stagings(out) == staging
    finally:
        other.kill()
        other.wait()
        other.stderr.close()
    build_site(site, out, now=WALL_TIME)
    assert stagings(out) == []


# --- the property: old or new, never a mix --------------------------------------------------------

@pytest.fixture(scope="module")
def commit_calls(tmp_path_factory) -> int:
    """How many output-touching calls the build of two_versions() makes: the range of failure points."""
    tmp = tmp_path_factory.mktemp("count")
    site, out = two_versions(tmp)
    counted = tmp / "count.txt"
    result = ssg("build", "--site", str(site), "--out", str(out), "--jobs", "1", tmp=tmp,
                 fault=f"count:{COMMIT_CALLS}:{OUT}:{counted}")
    assert counted.is_file(), result.stderr  # (whether that build succeeds is for the cases to tell)
    return int(counted.read_text())


@pytest.mark.parametrize("case", range(10))
def test_a_commit_that_fails_or_is_killed_leaves_the_old_site_or_the_new(tmp_path, commit_calls, case):
    rng = random.Random(case)
    kind = ("raise", "kill")[case % 2]
    at = rng.randint(1, commit_calls)
    site, out = two_versions(tmp_path)
    old = tree_digest(out)
    new = tree_digest(build_site(site, tmp_path / "clean", use_cache=False, now=WALL_TIME))
    assert old != new

    result = ssg("build", "--site", str(site), "--out", str(out), "--jobs", "1", tmp=tmp_path,
                 fault=f"{kind}:{COMMIT_CALLS}:{OUT}:{at}")
    if kind == "raise":  # an error undoes the commit at once; after the commit point, only tidying is left
        assert result.returncode in (0, 1) and "Traceback" not in result.stderr, result.stderr
        assert tree_digest(out) == (new if result.returncode == 0 else old), f"after an error at call {at}"
    else:
        assert result.returncode == -signal.SIGKILL, result.stderr

    # The next build recovers first; failing afterwards, it shows what the recovery left.
    broken = site / "content/news/zz.md"
    broken.write_text("---\ntitle: Broken\ndate: soon\n---\n")
    with pytest.raises(BuildFailed):
        build_site(site, out, now=WALL_TIME)
    assert tree_digest(out) in (old, new), f"a mix after {kind} at call {at} of {commit_calls}"
    assert stagings(out) == []

    broken.unlink()
    build_site(site, out, now=WALL_TIME)
    assert tree_digest(out) == new
