"""Shared helpers: write a small site into tmp_path, build it at a pinned time, read what came out."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from lxml import etree, html

from ssg.pipeline import BuildOptions, build

REPO = Path(__file__).resolve().parent.parent
PACKAGE_THEME = REPO / "ssg" / "themes" / "default"

# Every article in the tests is dated before this instant unless a test says otherwise.
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)

# The meter is off by default so that most tests depend on the generator alone; tests about the
# paywall markup use METERED_SITE_YAML.
SITE_YAML = """\
title: Test Gazette
base_url: https://news.example.org/
timezone: UTC
paginate: 10
meter: false
"""

METERED_SITE_YAML = """\
title: Test Gazette
base_url: https://news.example.org/
timezone: UTC
paginate: 10
meter:
  limit: 3
  teaser_paragraphs: 2
"""

def article(title: str = "A headline", date: str = "2026-11-19 09:00", body: str = "First paragraph.\n",
            **fields: str) -> str:
    """Markdown source of an article; extra front matter lines come from `fields` as written (YAML)."""
    lines = [f"title: {json.dumps(title, ensure_ascii=False)}"]
    if date is not None:
        lines.append(f"date: {date}")
    lines += [f"{key}: {value}" for key, value in fields.items()]
    return "---\n" + "\n".join(lines) + "\n---\n\n" + body


def make_site(tmp_path: Path, files: dict[str, str | bytes], site_yaml: str = SITE_YAML) -> Path:
    """Write site.yaml and `files` (paths relative to the site folder) into tmp_path/site."""
    site = tmp_path / "site"
    site.mkdir(parents=True, exist_ok=True)
    (site / "site.yaml").write_text(site_yaml, encoding="utf-8")
    for name, content in files.items():
        path = site / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return site


def build_site(site: Path, out: Path | None = None, **options) -> Path:
    """Build `site` at NOW into `out` (default: a folder beside the site) and return the output folder."""
    out = out or site.parent / "out"
    options.setdefault("now", NOW)
    build(BuildOptions(site_dir=site, out_dir=out, **options))
    return out


def read(out: Path, name: str) -> str:
    return (out / name).read_text(encoding="utf-8")


def parse_html(out: Path, name: str) -> html.HtmlElement:
    return html.fromstring((out / name).read_bytes())


def parse_xml(out: Path, name: str) -> etree._Element:
    return etree.fromstring((out / name).read_bytes())


def jsonld(page: html.HtmlElement) -> dict:
    """The one JSON-LD object of a page."""
    scripts = page.xpath('//script[@type="application/ld+json"]')
    assert len(scripts) == 1, f"expected one JSON-LD script, found {len(scripts)}"
    return json.loads(scripts[0].text)


def png(width: int, height: int, color: str = "red") -> bytes:
    """A small real PNG, so image sizes are read from an actual file."""
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()


def tree_digest(folder: Path) -> dict[str, str]:
    """Every file under `folder` with the hash of its bytes: two equal digests mean byte-for-byte equal trees."""
    return {path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run `python -m ssg.cli ARGS` in a fresh interpreter, as a user would."""
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "ssg.cli", *args], cwd=cwd or REPO, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def now() -> datetime:
    return NOW


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """The Markdown spec table (tests/test_markdown_spec.py), per section, after the results."""
    report = getattr(config, "markdown_spec_report", None)
    if report:
        terminalreporter.section("Markdown spec conformance (bench/markdown_spec.py)")
        terminalreporter.write(report)
