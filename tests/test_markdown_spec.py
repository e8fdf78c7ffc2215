"""The CommonMark spec's examples and GitHub's extension examples, rendered through a real `ssg build`
(bench/markdown_spec.py); the per-section table is printed at the end of the test run."""
from __future__ import annotations

import os
import re
import subprocess
import sys

from conftest import REPO

LINE = re.compile(r"^\s*(\d+)/(\d+)\s+(\S+): (.+?)\s*$")


def test_spec_conformance_targets(request):
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run([sys.executable, str(REPO / "bench" / "markdown_spec.py"), "--ssg", f"{sys.executable} -m ssg"],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    request.config.markdown_spec_report = result.stdout  # printed by conftest's pytest_terminal_summary
    rows = [(int(m[1]), int(m[2]), m[3], m[4]) for m in map(LINE.match, result.stdout.splitlines()) if m]
    sections = {(spec, section): (ok, total) for ok, total, spec, section in rows}

    def share(*keys) -> float:
        ok = sum(sections[key][0] for key in keys)
        return ok / sum(sections[key][1] for key in keys)

    assert share(("commonmark-0.31.2", "Lists")) >= 0.85
    assert share(("commonmark-0.31.2", "List items")) >= 0.85
    assert share(*[key for key in sections if key[0] == "gfm-extensions"]) >= 0.90
    assert sum(total for _, total, _, _ in rows) == 683
    assert share(*sections) >= 0.85
