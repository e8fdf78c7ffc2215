"""Save -> served page latency of `ssg serve` on the shared corpus, measured end to end.

Usage: python bench/serve_latency.py [--n 1000] [--reps 10] [--corpus ../shared/bench/make_corpus.py]
                                     [--corpus-dir DIR] [--kinds "body edit" "section move" "template edit"]

Writes the corpus into a temporary site, starts `ssg serve --port 0` on it, then for each kind of edit saves a
file and polls the served HTML until it has the new text:
  body edit      one article's body changes
  section move   one article's front matter moves it to another section (a new URL)
  template edit  a site theme override of article.html (extends "default/article.html") changes a block
Prints the median and 90th percentile in milliseconds; also when the reload event reached an open page (the
moment a browser starts reloading) and the server's own build time for the same saves. The listening page
says it has the measured article open, as a browser's page does: a template edit builds that page first.
`--corpus-dir` takes an existing corpus folder (make_corpus.py --style ssg) instead of making one.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "bench" / "make_corpus.py"  # the shared corpus generator beside the project
REBUILD = re.compile(r"^\d\d:\d\d:\d\d .* in (\d+\.\d+) s")
TEMPLATE = """{%% extends "default/article.html" %%}
{%% block kicker %%}{{ super() }}<p class="probe">%s</p>{%% endblock %%}
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="articles in the corpus")
    parser.add_argument("--reps", type=int, default=10, help="saves measured per kind of edit")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="make_corpus.py")
    parser.add_argument("--corpus-dir", type=Path, help="an existing corpus to copy instead of making one")
    parser.add_argument("--kinds", nargs="+", default=["body edit", "section move", "template edit"],
                        choices=["body edit", "section move", "template edit"], help="the edits to measure")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ssg-serve-bench-") as temp:
        site = Path(temp) / "site"
        if args.corpus_dir:
            shutil.copytree(args.corpus_dir, site / "content")
            args.n = len(list((site / "content").glob("*.md")))
        else:
            subprocess.run([sys.executable, str(args.corpus), "--n", str(args.n), "--out", str(site / "content"),
                            "--style", "ssg"], check=True)
        (site / "site.yaml").write_text("title: Bench\nbase_url: https://example.org/\n")
        server = Server(site)
        try:
            print(f"ssg serve, {args.n} articles; first build {server.first_build:.1f} s; "
                  f"{args.reps} saves per kind (save -> served HTML has the new text)")
            article = sorted((site / "content").glob("*.md"))[len(list((site / "content").glob("*.md"))) // 2]
            for name, measure in (("body edit", measure_body_edit), ("section move", measure_section_move),
                                  ("template edit", measure_template_edit)):
                if name not in args.kinds:
                    continue
                text = article.read_text()  # the article is open at its URL of now (a section move changes it)
                server.listen_as(url_of(server, front_matter(text, "slug"), front_matter(text, "section")))
                measure(server, site, article, 1)  # warm up: first save of its kind (themes/ appears, etc.)
                results = [measure(server, site, article, rep + 2) for rep in range(args.reps)]
                served, reloaded, built = zip(*results)
                print(f"{name:14} served: median {median(served):6.0f} ms, p90 {p90(served):6.0f} ms | "
                      f"reload event: median {median(reloaded):6.0f} ms, p90 {p90(reloaded):6.0f} ms | "
                      f"server build: median {median(built):6.0f} ms", flush=True)
        finally:
            server.stop()
    return 0


class Server:
    def __init__(self, site: Path):
        self.process = subprocess.Popen([sys.executable, "-m", "ssg.cli", "serve", "--site", str(site), "--port", "0"],
                                        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        threading.Thread(target=lambda: self.lines.extend(iter(self.process.stdout.readline, "")), daemon=True).start()
        started = time.perf_counter()
        while not any(line.startswith("Serving ") for line in self.lines):
            if self.process.poll() is not None:
                raise SystemExit("".join(self.lines))
            time.sleep(0.05)
        self.first_build = time.perf_counter() - started
        self.url = next(line.split()[1] for line in self.lines if line.startswith("Serving "))
        self.events: list[tuple[float, list[str]]] = []  # (arrival, changed URLs), as an open page hears them

    def listen_as(self, page: str) -> None:
        """Listen to the build events as the open page `page` does."""
        threading.Thread(target=self.listen, args=(page,), daemon=True).start()
        time.sleep(0.2)

    def listen(self, page: str) -> None:
        query = urllib.parse.urlencode({"since": 1, "page": page})
        with urllib.request.urlopen(self.url + "__ssg__/events?" + query, timeout=3600) as stream:
            for line in stream:
                if line.startswith(b"data: "):
                    self.events.append((time.perf_counter(), json.loads(line[6:])["changed"]))

    def builds(self) -> list[float]:
        return [float(m.group(1)) for line in self.lines if (m := REBUILD.match(line))][1:]

    def fetch(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url.rstrip("/") + path, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, ""

    def save_and_wait(self, file: Path, text: str, path: str, expected: str) -> tuple[float, float, float]:
        """Save `text` to `file`; return ms until `path` serves `expected`, until an open page hears that `path`
        changed, and the server's build time."""
        done, heard = len(self.builds()), len(self.events)
        started = time.perf_counter()
        file.parent.mkdir(parents=True, exist_ok=True)
        temp = file.with_name(file.name + ".tmp")
        temp.write_text(text)
        temp.replace(file)  # an editor's atomic save
        while expected not in self.fetch(path)[1]:
            if time.perf_counter() - started > 300:
                raise SystemExit(f"{path} never showed {expected!r}:\n{''.join(self.lines[-20:])}")
            time.sleep(0.005)
        latency = (time.perf_counter() - started) * 1000
        while len(self.builds()) <= done:  # let the build finish (its cache too) before the next save
            time.sleep(0.01)
        time.sleep(0.2)
        reload = next((at - started for at, changed in self.events[heard:] if path in changed), float("nan")) * 1000
        return latency, reload, self.builds()[-1] * 1000

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        self.process.wait(60)


def front_matter(text: str, key: str) -> str:
    return re.search(rf'^{key}: "?([^"\n]*)"?$', text, re.M).group(1)


def url_of(server: Server, slug: str, section: str) -> str:
    sitemap = server.fetch("/sitemap.xml")[1]
    urls = re.findall(rf"<loc>https://example\.org(/[^<]*/{re.escape(slug)}/)</loc>", sitemap)
    section_slug = re.sub(r"[^a-z0-9]+", "-", section.lower()).strip("-")
    return next((u for u in urls if f"/{section_slug}/" in u), f"/{section_slug}/{slug}/")


def measure_body_edit(server: Server, site: Path, article: Path, rep: int) -> tuple[float, float]:
    text = article.read_text()
    marker = f"Latency probe {rep} {time.time_ns()}."
    text = re.sub(r"\n\nLatency probe [^\n]*\n$", "\n", text) + f"\n{marker}\n"
    return server.save_and_wait(article, text, url_of(server, front_matter(text, "slug"),
                                                      front_matter(text, "section")), marker)


def measure_section_move(server: Server, site: Path, article: Path, rep: int) -> tuple[float, float]:
    text = article.read_text()
    section = "Sport" if front_matter(text, "section") != "Sport" else "Science"
    marker = f"Moved to {section} {rep} {time.time_ns()}."
    text = re.sub(r'^section: .*$', f'section: "{section}"', text, count=1, flags=re.M)
    text = re.sub(r"\n\n(Latency probe|Moved to) [^\n]*\n$", "\n", text) + f"\n{marker}\n"
    slug = front_matter(text, "slug")
    section_slug = section.lower()
    return server.save_and_wait(article, text, f"/{section_slug}/{slug}/", marker)


def measure_template_edit(server: Server, site: Path, article: Path, rep: int) -> tuple[float, float]:
    text = article.read_text()
    marker = f"Template probe {rep} {time.time_ns()}"
    path = url_of(server, front_matter(text, "slug"), front_matter(text, "section"))
    return server.save_and_wait(site / "themes" / "default" / "templates" / "article.html", TEMPLATE % marker,
                                path, marker)


def median(values: list[float]) -> float:
    return statistics.median(values)


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * 9 // 10) - 1)]


if __name__ == "__main__":
    sys.exit(main())
