"""What the importers' tests share: running `ssg import` in this process and reading what it wrote."""
from __future__ import annotations

import contextlib
import io
from pathlib import Path

import yaml

from conftest import build_site, parse_html
from ssg.cli import main


def import_site(kind: str, *args: str) -> tuple[int, str, str]:
    """`ssg import KIND ARGS` in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["import", kind, *args])
    return code, out.getvalue(), err.getvalue()


def import_and_build(kind: str, source: Path, site: Path) -> tuple[Path, Path, list[str]]:
    """`source` imported into a new site and built: (site, output, report lines)."""
    code, stdout, stderr = import_site(kind, str(source), "--site", str(site))
    assert code == 0, stderr
    return site, build_site(site), stdout.splitlines()


def front_matter(site: Path, relative: str) -> dict:
    """The front matter of content/<relative>, as YAML reads it."""
    text = (site / "content" / relative).read_text(encoding="utf-8")
    return yaml.safe_load(text.split("---\n")[1])


def redirect_target(out: Path, old: str) -> str:
    """Where the redirect page the build wrote at an old path sends the reader."""
    name = old.lstrip("/") + ("index.html" if old.endswith("/") else "")
    refresh = parse_html(out, name).xpath('//meta[@http-equiv="refresh"]/@content')
    assert refresh, f"{old} is no redirect page"
    return refresh[0].split("url=", 1)[1]


def article_body(out: Path, path: str):
    """The body element of the article page at `path`."""
    return parse_html(out, path.lstrip("/") + "index.html").xpath('//div[contains(@class, "article-body")]')[0]
