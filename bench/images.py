"""What images for phones cost: the example site built cold and warm, with `images:` on and off.

    python bench/images.py [--site DIR] [--runs 3]

Prints, for each build, its seconds with images on and with `images: false` (the difference is the image
cost), the seconds spent in images.variants_of alone over every local image of the site (cold: nothing
made yet; warm: all made, so only the content hash and a look in the cache folder), and the bytes: the
source images, and the made files (WebP and the fallback format). "Warm" rebuilds after every Markdown
file changed (all documents parsed again) with the build cache kept, the case of a template-wide edit or
a CI run with a restored cache; a build with nothing changed stops before parsing and makes nothing.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ssg.config import load_config  # noqa: E402
from ssg.images import image_settings, variants_of  # noqa: E402
from ssg.pipeline import BuildOptions, build  # noqa: E402

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp")


def copy_site(source: Path, target: Path, images: bool) -> Path:
    shutil.copytree(source / "content", target / "content")
    text = (source / "site.yaml").read_text(encoding="utf-8")
    (target / "site.yaml").write_text(text if images else text + "\nimages: false\n", encoding="utf-8")
    return target


def timed_build(site: Path) -> float:
    started = time.perf_counter()
    build(BuildOptions(site_dir=site, out_dir=site / "_site"))
    return time.perf_counter() - started


def touch_documents(site: Path) -> None:
    for path in (site / "content").rglob("*.md"):
        path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")


def builds(source: Path, images: bool, runs: int) -> tuple[list[float], list[float]]:
    cold, warm = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            site = copy_site(source, Path(folder) / "site", images)
            cold.append(timed_build(site))
            touch_documents(site)
            warm.append(timed_build(site))
    return cold, warm


def image_seconds(source: Path) -> tuple[float, float, int, int, int]:
    """variants_of over every local image: cold, then warm; the images' bytes and the made files' bytes."""
    settings = load_config(source).images
    images = sorted(p for p in (source / "content").rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    with tempfile.TemporaryDirectory() as folder:
        made = image_settings(settings, Path(folder))
        started = time.perf_counter()
        for path in images:
            variants_of(path, made)
        cold = time.perf_counter() - started
        started = time.perf_counter()
        for path in images:
            variants_of(path, made)
        warm = time.perf_counter() - started
        files = list(made.folder.iterdir())
        webp = sum(f.stat().st_size for f in files if f.suffix == ".webp")
        other = sum(f.stat().st_size for f in files if f.suffix != ".webp")
    return cold, warm, sum(p.stat().st_size for p in images), webp, other


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    cold, warm, source_bytes, webp, other = image_seconds(args.site)
    print(f"images.variants_of alone: cold {cold:.2f} s, warm {warm * 1000:.1f} ms")
    print(f"bytes: sources {source_bytes:,}; made WebP {webp:,}, made fallbacks {other:,}")
    for images in (True, False):
        cold_runs, warm_runs = builds(args.site, images, args.runs)
        label = "images on " if images else "images off"
        print(f"{label}: cold build median {statistics.median(cold_runs):.2f} s {[round(s, 2) for s in cold_runs]}, "
              f"warm (every document parsed again) {statistics.median(warm_runs):.2f} s "
              f"{[round(s, 2) for s in warm_runs]}")


if __name__ == "__main__":
    main()
