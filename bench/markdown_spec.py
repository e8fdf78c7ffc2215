"""How the product renders the CommonMark spec's examples (and GFM's extension examples), black-box.

usage: python bench/markdown_spec.py [--ssg "ssg"] [SPEC.txt ...] [--sections "Lists,List items"] [--show N]
Default specs: spec/commonmark-0.31.2.txt and spec/gfm-extensions.txt beside this file (the CommonMark spec by
John MacFarlane and GitHub's extension examples, both under CC-BY-SA 4.0: creativecommons.org/licenses/by-sa/4.0/;
copied unchanged). Needs lxml (a test dependency). Without --ssg it runs the `ssg` on PATH, else the one installed
beside this Python, else `python -m ssg`.
Writes each example as the body of one unmetered article, builds the site with the product, takes the article
body's inner HTML ([data-meter-body]) and compares it with the spec's HTML after normalising what a news
generator may legitimately add: heading ids, code highlighting wrappers, typographic quotes and dashes,
attribute order, whitespace between tags. Prints the pass rate per spec section and overall.
"""
from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from lxml import etree, html as lxml_html

FENCE = "`" * 32


def examples(spec: Path):
    section, lines, out = "", spec.read_text(encoding="utf-8").splitlines(), []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#"):
            section = line.lstrip("#").strip()
        if line.startswith(FENCE + " example"):
            ext = line[len(FENCE + " example"):].strip()
            j = i + 1
            md = []
            while lines[j] != ".":
                md.append(lines[j]); j += 1
            j += 1
            want = []
            while not lines[j].startswith(FENCE):
                want.append(lines[j]); j += 1
            out.append((section, ext, "\n".join(md).replace("→", "\t") + "\n", "\n".join(want).replace("→", "\t")))
            i = j
        i += 1
    return out


SMART = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "--", "\u2014": "---",
                       "\u2026": "...", "\u00a0": " "})
KEEP = {"href", "src", "alt", "title", "start", "type", "checked", "disabled", "align"}


def canon(fragment: str) -> str:
    fragment = fragment.strip()
    if not fragment:
        return ""
    try:
        root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    except etree.ParserError:
        return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]*>", "", fragment))).strip()
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        for k in list(el.attrib):
            if k not in KEEP:
                del el.attrib[k]
        if el.tag == "a" and el.get("href") is not None:
            el.set("href", html.unescape(el.get("href")))
    # unwrap highlighting spans and divs, figure -> p
    for el in list(root.iter("span", "div")):
        if el is not root:
            el.drop_tag()
    for el in list(root.iter("figure")):   # a titled image as a captioned figure is a design choice: undo it
        el.tag = "p"
        cap = el.find("figcaption")
        img = el.find(".//img")
        if cap is not None:
            if img is not None and img.get("title") is None:
                img.set("title", cap.text_content())
            cap.drop_tree()
    for el in root.iter():
        if isinstance(el.tag, str) and el.attrib:
            items = sorted(el.attrib.items())
            el.attrib.clear()
            for k, v in items:
                el.set(k, v)
    text = etree.tostring(root, encoding="unicode", method="html")
    text = text[len("<div>"):-len("</div>")]
    text = html.unescape(text).translate(SMART)
    text = re.sub(r">\s+<", "><", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text


def default_ssg() -> list[str]:
    """The `ssg` on PATH, else the script beside this interpreter (a virtualenv not activated), else the module."""
    beside = Path(sys.executable).with_name("ssg")
    if shutil.which("ssg"):
        return ["ssg"]
    if beside.exists():
        return [str(beside)]
    return [sys.executable, "-m", "ssg"]


def main() -> int:
    args = sys.argv[1:]
    show = 0
    sections = None
    if "--show" in args:
        k = args.index("--show"); show = int(args[k + 1]); del args[k:k + 2]
    if "--sections" in args:
        k = args.index("--sections"); sections = set(args[k + 1].split(",")); del args[k:k + 2]
    ssg = default_ssg()
    if "--ssg" in args:
        k = args.index("--ssg"); ssg = args[k + 1].split(); del args[k:k + 2]
    here = Path(__file__).resolve().parent / "spec"
    specs = [Path(a) for a in args] or [here / "commonmark-0.31.2.txt", here / "gfm-extensions.txt"]
    cases = []
    for spec in specs:
        for section, ext, md, want in examples(spec):
            if sections and section not in sections:
                continue
            cases.append((spec.stem, section, ext, md, want))
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        (site / "content" / "spec").mkdir(parents=True)
        (site / "site.yaml").write_text("title: Spec\nbase_url: https://spec.example.org/\n", encoding="utf-8")
        for n, (_, _, _, md, _) in enumerate(cases):
            (site / "content" / "spec" / f"ex{n:04d}.md").write_text(
                f"---\ntitle: Example {n}\ndate: 2026-01-01 09:00\nmetered: false\n---\n\n" + md, encoding="utf-8")
        r = subprocess.run([*ssg, "build", "--site", str(site), "--out", str(site / "_site")],
                           capture_output=True, text=True)
        failed_to_build = set()
        if r.returncode != 0:
            for m in re.finditer(r"ex(\d{4})\.md", r.stdout + r.stderr):
                failed_to_build.add(int(m.group(1)))
            if not failed_to_build:
                print((r.stdout + r.stderr)[-2000:]); return 2
            for n in failed_to_build:
                (site / "content" / "spec" / f"ex{n:04d}.md").unlink()
            r = subprocess.run([*ssg, "build", "--site", str(site), "--out", str(site / "_site")],
                               capture_output=True, text=True)
            if r.returncode != 0:
                print((r.stdout + r.stderr)[-2000:]); return 2
        pages = {}
        for p in (site / "_site").rglob("index.html"):
            t = p.read_text(encoding="utf-8")
            m = re.search(r"<title>Example (\d+) ", t)
            if m:
                pages[int(m.group(1))] = t
        per = defaultdict(lambda: [0, 0])
        shown = 0
        for n, (spec, section, ext, md, want) in enumerate(cases):
            key = f"{spec}: {section}" + (f" [{ext}]" if ext else "")
            per[key][1] += 1
            page = pages.get(n)
            if page is None:
                continue
            doc = lxml_html.fromstring(page)
            nodes = doc.xpath("//*[@data-meter-body]")
            if not nodes:
                continue
            inner = (nodes[0].text or "") + "".join(etree.tostring(c, encoding="unicode", method="html") for c in nodes[0])
            got = canon(inner)
            if got == canon(want):
                per[key][0] += 1
            elif shown < show:
                shown += 1
                print(f"--- {key} #{n}\nMD: {md!r}\nWANT: {canon(want)}\nGOT:  {got}\n")
        total = [sum(v[0] for v in per.values()), sum(v[1] for v in per.values())]
        for key, (ok, all_) in sorted(per.items()):
            print(f"{ok:4d}/{all_:<4d} {key}")
        print(f"spec conformance: {total[0]}/{total[1]} examples ({100 * total[0] / max(1, total[1]):.0f}%)"
              + (f"; {len(failed_to_build)} examples failed the build" if failed_to_build else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
