"""Images for phones: resized copies in WebP and the source's format, srcset/sizes, made once and cached."""
from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest
from PIL import Image

from conftest import NOW, SITE_YAML, article, build_site, make_site, parse_html
from meter_harness import LAUNCH_ARGS, Server, chromium_path
from ssg.config import load_config
from ssg.errors import SsgError
from ssg.pipeline import BuildOptions, build

BODY = """First paragraph.

![Sandbags on Mill Lane](chart.png "The chart")

Some text, then a small picture: ![A small one](small.png)

![Turned](turned.jpg)

![Logo](logo.svg)

![Moving](moving.gif)
"""
LOGO = '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20"/></svg>'


def photo(width: int, height: int, seed: int = 0) -> bytes:
    """A photograph-like JPEG: noise over a gradient, so that sizes are realistic."""
    noise = Image.effect_noise((width, height), 40 + seed).convert("RGB")
    gradient = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    out = io.BytesIO()
    Image.blend(noise, gradient, 0.5).save(out, "JPEG", quality=90)
    return out.getvalue()


def chart(width: int, height: int, colour: int = 0) -> bytes:
    image = Image.new("P", (width, height), colour)
    image.putpalette([255, 255, 255, 200, 30, 30, 30, 30, 200] + [0] * 759)
    for x in range(0, width, 40):
        image.paste(1 + x // 40 % 2, (x, height // 3, x + 20, height))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def turned() -> bytes:
    """Stored 600x400, with EXIF orientation 6: shown 400 wide and 600 high."""
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    Image.new("RGB", (600, 400), (200, 100, 0)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def moving() -> bytes:
    """An animated GIF of two frames (frames alike would be merged into one)."""
    frames = [Image.new("RGB", (50, 30), colour) for colour in ((200, 0, 0), (0, 0, 200))]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


def site_files(**overrides) -> dict:
    files = {
        "content/news/storm/index.md": article("Storm", "2026-11-19 09:00", BODY, image="lead.jpg"),
        "content/news/storm/lead.jpg": photo(1600, 900),
        "content/news/storm/chart.png": chart(1000, 500),
        "content/news/storm/small.png": chart(300, 200),
        "content/news/storm/turned.jpg": turned(),
        "content/news/storm/logo.svg": LOGO,
        "content/news/storm/moving.gif": moving(),
        "content/news/other.md": article("Other", "2026-11-18 09:00", "Text.\n"),
    }
    files.update(overrides)
    return files


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return make_site(tmp_path, site_files())


def candidates(srcset: str) -> list[tuple[str, int]]:
    return [(url, int(width.rstrip("w"))) for url, width in (part.split() for part in srcset.split(", "))]


def opened(out: Path, url: str) -> Image.Image:
    return Image.open(out / url.lstrip("/"))


def test_made_files_have_the_widths_and_formats_they_claim(site: Path) -> None:
    out = build_site(site)
    page = parse_html(out, "news/storm/index.html")
    pictures = page.xpath("//picture")
    assert len(pictures) == 4  # the lead, and chart, small and turned in the body
    sources = {"lead.jpg": (1600, "JPEG"), "chart.png": (1000, "PNG"), "small.png": (300, "PNG"),
               "turned.jpg": (400, "JPEG")}
    seen = set()
    for picture in page.xpath("//figure[contains(@class, 'lead-figure')]//picture | //*[@data-meter-body]//picture"):
        img, = picture.xpath(".//img")     # libxml2 does not know <source> is empty: <img> lands inside it
        source, = picture.xpath("source")
        assert source.get("type") == "image/webp"
        fallback = candidates(img.get("srcset"))
        name = next(n for n, (w, _) in sources.items() if int(img.get("width")) == w)
        width, fmt = sources[name]
        seen.add(name)
        assert [w for _, w in fallback] == [w for _, w in candidates(source.get("srcset"))]
        assert max(w for _, w in fallback) == min(width, 1200)   # never upscaled, the whole picture at most
        assert all(w <= width for _, w in fallback)
        for url, w in fallback:
            with opened(out, url) as made:
                assert (made.format, made.width) == (fmt, w)
                assert abs(made.height - round(w * int(img.get("height")) / int(img.get("width")))) <= 1
        for url, w in candidates(source.get("srcset")):
            assert url.startswith("/assets/images/") and url.endswith(f"-{w}.webp")
            with opened(out, url) as made:
                assert (made.format, made.width) == ("WEBP", w)
    assert seen == set(sources)
    assert [w for _, w in candidates(page.xpath("//img[@width='1600']/@srcset")[0])] == [480, 800, 1200]
    assert [w for _, w in candidates(page.xpath("//img[@width='1000']/@srcset")[0])] == [480, 800, 1000]
    assert [w for _, w in candidates(page.xpath("//img[@width='300']/@srcset")[0])] == [300]


def test_exif_orientation_is_applied(site: Path) -> None:
    out = build_site(site)
    img, = parse_html(out, "news/storm/index.html").xpath("//img[@alt='Turned']")
    assert (img.get("width"), img.get("height")) == ("400", "600")
    with opened(out, candidates(img.get("srcset"))[-1][0]) as made:
        assert made.size == (400, 600)


def test_svg_and_animated_gif_are_left_as_they_are(site: Path) -> None:
    out = build_site(site)
    page = parse_html(out, "news/storm/index.html")
    for alt, src in (("Logo", "/news/storm/logo.svg"), ("Moving", "/news/storm/moving.gif")):
        img, = page.xpath(f"//img[@alt='{alt}']")
        assert img.get("src") == src and img.get("srcset") is None and not img.xpath("ancestor::picture")
        assert img.get("loading") == "lazy"
    assert page.xpath("//img[@alt='Moving']/@width") == ["50"]


def test_lead_image_is_fetched_first_and_body_images_are_lazy(site: Path) -> None:
    out = build_site(site)
    page = parse_html(out, "news/storm/index.html")
    lead, = page.xpath("//figure[contains(@class, 'lead-figure')]//img")
    assert lead.get("fetchpriority") == "high" and lead.get("loading") is None
    assert (lead.get("width"), lead.get("height")) == ("1600", "900")
    body = page.xpath("//*[@data-meter-body]//img")
    assert len(body) == 5
    for img in body:
        assert img.get("loading") == "lazy", img.get("alt")
        assert img.get("alt") == "Logo" or img.get("width") and img.get("height"), img.get("alt")  # an SVG has none
    # The figure keeps its caption around the picture.
    assert page.xpath("//*[@data-meter-body]//figure[picture//img[@alt='Sandbags on Mill Lane']]/figcaption/text()") \
        == ["The chart"]


def test_list_cards_use_the_copies(site: Path) -> None:
    out = build_site(site)
    home = parse_html(out, "index.html")
    img, = home.xpath("//section[contains(@class, 'lead-story')]//img")
    assert img.xpath("ancestor::picture") and img.get("fetchpriority") == "high"
    assert img.get("sizes") and img.get("src").startswith("/assets/images/")


def made_mtimes(site: Path) -> dict[str, int]:
    folder = site / ".ssg-cache" / "images"
    return {entry.name: entry.stat().st_mtime_ns for entry in os.scandir(folder)}


def test_an_unchanged_image_is_not_made_again_and_an_edited_one_is(site: Path) -> None:
    out = build_site(site)
    before = made_mtimes(site)
    assert len(before) == 2 * (3 + 3 + 1 + 1)   # lead, chart, small, turned: WebP and their own format
    index = site / "content/news/storm/index.md"
    index.write_text(index.read_text() + "\nAnother paragraph.\n")
    report = build(BuildOptions(site_dir=site, out_dir=out, now=NOW))
    assert report.parsed == 1
    assert made_mtimes(site) == before                     # parsed again, no image decoded or written
    (site / "content/news/storm/lead.jpg").write_bytes(photo(1500, 1000, seed=7))
    report = build(BuildOptions(site_dir=site, out_dir=out, now=NOW))
    after = made_mtimes(site)
    new = sorted(set(after) - set(before))
    assert len(new) == 6 and len(set(before) - set(after)) == 6   # the old copies leave the cache
    assert all(after[name] == before[name] for name in set(after) & set(before))
    lead, = parse_html(out, "news/storm/index.html").xpath("//figure[contains(@class, 'lead-figure')]//img")
    assert (lead.get("width"), lead.get("height")) == ("1500", "1000")
    for url, width in candidates(lead.get("srcset")):
        with opened(out, url) as made:
            assert made.size == (width, round(width * 1000 / 1500))


def test_an_image_edited_to_the_same_size_is_made_again(site: Path) -> None:
    out = build_site(site)
    (site / "content/news/storm/lead.jpg").write_bytes(photo(1600, 900, seed=9))
    build(BuildOptions(site_dir=site, out_dir=out, now=NOW))
    clean = build_site(site, site.parent / "clean", use_cache=False)
    assert tree(out) == tree(clean)


def test_images_false_gives_the_plain_markup(tmp_path: Path) -> None:
    site = make_site(tmp_path, site_files(), site_yaml=SITE_YAML + "images: false\n")
    out = build_site(site)
    text = (out / "news/storm/index.html").read_text()
    assert "<picture" not in text and "srcset" not in text and not (out / "assets/images").exists()
    assert ('<img src="/news/storm/lead.jpg" alt="" width="1600" height="900" fetchpriority="high">' in text)
    assert '<img alt="A small one" height="200" loading="lazy" src="/news/storm/small.png" width="300">' in text
    home = (out / "index.html").read_text()
    assert '<img src="/news/storm/lead.jpg" alt="" width="1600" height="900" fetchpriority="high">' in home
    assert not (site / ".ssg-cache/images").exists()


@pytest.mark.parametrize("setting, line, message", [
    ("images: yes please\n", 6, "'images' must be a mapping"),
    ("images:\n  widths: [480, big]\n", 7, "'images.widths' must be a list of pixel widths from 16 to 8192"),
    ("images:\n  widths: []\n", 7, "'images.widths' must be a list"),
    ("images:\n  widths: [480, 100000]\n", 7, "'images.widths' must be a list"),
    ("images:\n  quality: 0\n", 7, "'images.quality' must be a whole number from 1 to 100, got 0"),
    ("images:\n  quality: true\n", 7, "'images.quality' must be a whole number"),
    ("images:\n  widths: [480]\n  qualty: 70\n", 8, "unknown key 'images.qualty' (did you mean 'images.quality'?)"),
])
def test_bad_settings_are_errors_with_lines(tmp_path: Path, setting: str, line: int, message: str) -> None:
    site = make_site(tmp_path, {}, site_yaml=SITE_YAML + setting)
    with pytest.raises(SsgError) as failed:
        load_config(site)
    errors = [str(error) for error in failed.value.errors]
    assert len(errors) == 1 and errors[0].startswith(f"{site / 'site.yaml'}:{line}: {message}"), errors


def test_settings_are_read(tmp_path: Path) -> None:
    site = make_site(tmp_path, {}, site_yaml=SITE_YAML + "images:\n  widths: [800, 320, 800]\n  quality: 60\n")
    images = load_config(site).images
    assert (images.widths, images.quality) == ((320, 800), 60)
    assert load_config(make_site(tmp_path / "b", {})).images.widths == (480, 800, 1200)


def test_a_cached_document_brings_its_made_files(site: Path) -> None:
    build_site(site)
    report = build(BuildOptions(site_dir=site, out_dir=site.parent / "elsewhere", now=NOW))
    assert report.parsed == 0 and report.cache_hits == 2
    page = parse_html(site.parent / "elsewhere", "news/storm/index.html")
    urls = {url for srcset in page.xpath("//img/@srcset | //source/@srcset") for url, _ in candidates(srcset)}
    assert urls and all((site.parent / "elsewhere" / url.lstrip("/")).is_file() for url in urls)


def test_a_made_file_missing_from_the_cache_is_made_again(site: Path) -> None:
    out = build_site(site)
    for entry in os.scandir(site / ".ssg-cache" / "images"):
        os.unlink(entry.path)
    index = site / "content/news/other.md"
    index.write_text(index.read_text() + "\nMore.\n")
    report = build(BuildOptions(site_dir=site, out_dir=out, now=NOW))
    assert any("could not be used" in warning for warning in report.warnings)
    assert len(made_mtimes(site)) == 16


def tree(folder: Path) -> dict[str, str]:
    return {path.relative_to(folder).as_posix(): hashlib.sha1(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file() and path.name != ".ssg-manifest.json"}


def check_incremental_equals_clean(site: Path, edits: list) -> None:
    out = site.parent / "out"
    for step, (name, edit) in enumerate(edits):
        edit()
        build(BuildOptions(site_dir=site, out_dir=out, now=NOW, jobs=2))
        clean = site.parent / f"clean-{step}"
        build(BuildOptions(site_dir=site, out_dir=clean, now=NOW, use_cache=False, jobs=1))
        assert tree(out) == tree(clean), f"after {name}"


def settle(site: Path) -> None:
    """Every file an hour old, as in a real checkout: a cached entry is then trusted by its stat alone."""
    old = NOW.timestamp() - 3600
    for path in site.rglob("*"):
        os.utime(path, (old, old))


def test_incremental_build_equals_clean_build(site: Path) -> None:
    storm = site / "content/news/storm"

    def add_draft() -> None:
        (site / "content/news/draft").mkdir()
        (site / "content/news/draft/p.jpg").write_bytes(photo(900, 600))
        (site / "content/news/draft/index.md").write_text(article("Draft", "2026-11-17 09:00", "![x](p.jpg)\n",
                                                                  draft="true"))

    check_incremental_equals_clean(site, [
        ("nothing", lambda: settle(site)),
        ("body", lambda: (storm / "index.md").write_text((storm / "index.md").read_text() + "\nMore.\n")),
        ("new lead", lambda: (storm / "lead.jpg").write_bytes(photo(1300, 800, seed=3))),
        ("chart resized", lambda: (storm / "chart.png").write_bytes(chart(700, 400, colour=2))),
        ("draft with image", add_draft),
        ("image removed", lambda: (storm / "index.md").write_text(article("Storm", "2026-11-19 09:00", "Text.\n"))),
    ])


def test_incremental_build_equals_clean_build_after_a_settings_change(site: Path) -> None:
    yaml = site / "site.yaml"
    check_incremental_equals_clean(site, [
        ("nothing", lambda: settle(site)),
        ("quality", lambda: yaml.write_text(SITE_YAML + "images:\n  quality: 50\n")),
        ("widths", lambda: yaml.write_text(SITE_YAML + "images:\n  widths: [320, 640]\n")),
        ("off", lambda: yaml.write_text(SITE_YAML + "images: false\n")),
        ("on", lambda: yaml.write_text(SITE_YAML)),
    ])


WIDTHS_JS = "img => new Promise(done => img.complete && img.currentSrc ? done(img.currentSrc) : " \
            "img.addEventListener('load', () => done(img.currentSrc)))"
CLS_JS = """new PerformanceObserver(l => { for (const e of l.getEntries()) if (!e.hadRecentInput)
  window.__cls = (window.__cls || 0) + e.value }).observe({type: "layout-shift", buffered: true})"""


@pytest.mark.parametrize("viewport, lead, body", [
    (390, "-480.webp", "-480.webp"),     # a 358 px column at 1x
    (1280, "-1200.webp", "-800.webp"),   # the lead 1024 px wide, the text column 660 px
])
def test_the_browser_picks_the_expected_webp(site: Path, viewport: int, lead: str, body: str) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    out = build_site(site)
    server = Server(out)
    try:
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path(), headless=True, args=LAUNCH_ARGS)
            page = browser.new_page(viewport={"width": viewport, "height": 800}, device_scale_factor=1)
            page.add_init_script(CLS_JS)
            page.goto(server.root + "/news/storm/")
            assert page.locator(".lead-figure img").evaluate(WIDTHS_JS).endswith(lead)
            chart_img = page.locator("img[alt='Sandbags on Mill Lane']")
            chart_img.scroll_into_view_if_needed()
            assert chart_img.evaluate(WIDTHS_JS).endswith(body)
            page.wait_for_timeout(300)
            assert page.evaluate("window.__cls || 0") == 0
            browser.close()
    finally:
        server.close()
