"""Images for phones: resized copies of local images (WebP, and the source's own format as the fallback) for srcset.

A made file is named by what decides its bytes: the source's content hash, the encoder settings, its width
and format (`<key>-800.webp`). It is kept in the build cache folder (`.ssg-cache/images/`) under that name
and copied into the output under /assets/images/ like any other file, so an unchanged image is decoded once
and its URL can be cached for ever. Parse workers make them (`variants_of`); each Document lists the files
it uses (`Document.made_images`), so a build that takes a document from the cache never opens its images.
SVGs, animated GIFs and WebPs, and formats browsers do not show everywhere are left as they are.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import os
import xml.etree.ElementTree as etree
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import PIL
from PIL import Image, ImageOps, UnidentifiedImageError

from .config import ImageConfig
from .model import Document

OUTPUT_FOLDER = "assets/images"   # in the output: /assets/*, which the host caches for ever
CACHE_FOLDER = "images"           # in the build cache folder, under the same file names
# How wide the default theme shows a body image (site.css, measured in Chromium): the text column, the
# viewport less 1-2rem gutters on each side, at most 66ch of the body font (660 px at 20 px in Chromium's
# serif; 42.5rem leaves room for wider serifs). Bodies are rendered before any template, so it is kept here.
BODY_SIZES = "(min-width: 46rem) 42.5rem, calc(100vw - 2rem)"
# Pillow format -> (file suffix, MIME type). Others (BMP, TIFF, AVIF, ICO...) are left as they are.
FORMATS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"), "GIF": ("gif", "image/gif"),
           "WEBP": ("webp", "image/webp")}
ORIENTATION = 0x0112        # the EXIF tag; 5 to 8 turn the picture a quarter, swapping width and height
# Everything besides the source, width and quality that decides a made file's bytes: a change here (or a new
# Pillow) gives new names, so a file cached for ever under an old name is never replaced by other bytes.
RECIPE = f"lanczos|jpeg-progressive-optimize|png-optimize|webp-method4|Pillow {PIL.__version__}"


@dataclass(frozen=True, slots=True)
class ImageSettings:
    """What a parse worker needs to make resized copies (site.yaml's `images:` and where the cache keeps them)."""

    widths: tuple[int, ...]     # ascending
    quality: int
    folder: Path                # <cache folder>/images; never part of a digest: the cache travels

    def digest(self) -> str:
        return f"{self.widths}|{self.quality}|{RECIPE}"


@dataclass(frozen=True, slots=True)
class Variants:
    """The resized copies of one image, as output files with their widths, narrowest first."""

    width: int                              # the picture as shown (EXIF orientation applied)
    height: int
    mime: str                               # the source's format, that of `fallback`
    fallback: tuple[tuple[str, int], ...]   # in the source's own format
    webp: tuple[tuple[str, int], ...]       # empty when the source is WebP already

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(name for name, _ in (*self.webp, *self.fallback))


def image_settings(config: ImageConfig | None, cache_folder: Path) -> ImageSettings | None:
    """None when site.yaml says `images: false`."""
    if config is None:
        return None
    return ImageSettings(tuple(sorted(set(config.widths))), config.quality, cache_folder / CACHE_FOLDER)


def variants_of(source: Path, settings: ImageSettings) -> Variants | None:
    """The resized copies of `source`, made now unless the cache folder has them; None for an image left as
    it is (SVG, animated, a format not handled, unreadable)."""
    try:
        data = source.read_bytes()
        image = Image.open(io.BytesIO(data))
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError):
        return None
    with image:
        if image.format not in FORMATS or getattr(image, "is_animated", False):
            return None
        width, height = image.size
        turned = image.getexif().get(ORIENTATION, 1) in (5, 6, 7, 8)
        if turned:
            width, height = height, width
        key = hashlib.sha1(data + f"|{settings.quality}|{RECIPE}".encode()).hexdigest()[:20]
        suffix, mime = FORMATS[image.format]
        widths = candidate_widths(width, settings.widths)
        fallback = tuple((f"{OUTPUT_FOLDER}/{key}-{w}.{suffix}", w) for w in widths)
        webp = () if suffix == "webp" else tuple((f"{OUTPUT_FOLDER}/{key}-{w}.webp", w) for w in widths)
        variants = Variants(width, height, mime, fallback, webp)
        missing = [(name, w) for name, w in (*webp, *fallback)
                   if not os.path.isfile(settings.folder / _base(name))]
        if missing:
            _make(image, missing, height / width, turned, settings)
    return variants


def candidate_widths(width: int, configured: tuple[int, ...]) -> tuple[int, ...]:
    """The configured widths narrower than the picture, and the picture's own width in place of the wider
    ones: never upscaled, and the widest copy is the whole picture when it is narrower than the widest width."""
    widest = min(width, configured[-1])
    return tuple(w for w in configured if w < widest) + (widest,)


def _make(image: Image.Image, wanted: list[tuple[str, int]], ratio: float, turned: bool,
          settings: ImageSettings) -> None:
    """Decode the image once and write the wanted copies (ratio: height / width as shown; turned: EXIF says
    a quarter turn, so the stored pixels are height x width)."""
    source_format, icc = image.format, image.info.get("icc_profile")
    palette = image.mode in ("P", "1")
    if source_format == "JPEG":  # decode at 1/2, 1/4 or 1/8 of the size when that is still large enough
        widest = max(w for _, w in wanted)
        needed = (widest, round(widest * ratio))
        image.draft("RGB" if image.mode == "CMYK" else image.mode, needed[::-1] if turned else needed)
    picture = ImageOps.exif_transpose(image)
    if picture.mode not in ("RGB", "RGBA", "L", "LA"):
        icc = None if picture.mode == "CMYK" else icc  # a CMYK profile does not describe RGB pixels
        has_alpha = picture.mode in ("PA", "RGBa", "La") or "transparency" in picture.info
        picture = picture.convert("RGBA" if has_alpha else "RGB")
    settings.folder.mkdir(parents=True, exist_ok=True)
    for name, width in wanted:
        resized = picture if width == picture.width else picture.resize(
            (width, max(1, round(width * ratio))), Image.Resampling.LANCZOS, reducing_gap=3.0)
        fmt = "WEBP" if name.endswith(".webp") else source_format
        _write(settings.folder / _base(name), _encoded(resized, fmt, settings.quality, icc, palette))


def _encoded(picture: Image.Image, fmt: str, quality: int, icc: bytes | None, palette: bool) -> bytes:
    """The picture's bytes in `fmt`. EXIF is dropped (it can hold where a photo was taken); the colour
    profile is kept, so colours stay as the photographer saw them."""
    out = io.BytesIO()
    extra = {"icc_profile": icc} if icc else {}
    if fmt == "JPEG":
        picture.convert("RGB" if picture.mode in ("RGBA", "LA") else picture.mode).save(
            out, "JPEG", quality=quality, optimize=True, progressive=True, **extra)
    elif fmt == "WEBP":
        picture.save(out, "WEBP", quality=quality, method=4, **extra)
    elif fmt == "PNG":
        # A palette PNG (a chart, a map) stays one: as RGB it would grow several times over.
        (picture.quantize(256) if palette and picture.mode == "RGB" else picture).save(out, "PNG", optimize=True, **extra)
    else:  # a still GIF
        picture.convert("RGB").quantize(256).save(out, "GIF", optimize=True)
    return out.getvalue()


def _write(path: Path, data: bytes) -> None:
    """Two parse workers may make the same file (one image in two articles): each writes its own temporary
    file, and os.replace makes the swap atomic, so no reader sees half an image."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def srcset(candidates: Iterable[tuple[str, int]], base_path: str) -> str:
    return ", ".join(f"{base_path}/{name} {width}w" for name, width in candidates)


def to_picture(img: etree.Element, variants: Variants, base_path: str, sizes: str) -> None:
    """Turn a body <img> into <picture>: a WebP <source>, and the <img> in the source's format (its srcset,
    its size against layout shift, lazy: body images are below the fold). In place, so a figure or a link
    around it stays as it is."""
    attributes = dict(img.attrib)
    img.clear()
    tail, img.tail = img.tail, None
    img.tag = "picture"
    if variants.webp:
        etree.SubElement(img, "source", {"type": "image/webp", "srcset": srcset(variants.webp, base_path),
                                         "sizes": sizes})
    attributes.pop("srcset", None)
    attributes.update(src=f"{base_path}/{variants.fallback[-1][0]}", srcset=srcset(variants.fallback, base_path),
                      sizes=sizes, width=str(variants.width), height=str(variants.height), loading="lazy")
    etree.SubElement(img, "img", attributes)
    img.tail = tail


def image_files(published: Iterable[Document], every: Iterable[Document], cache_folder: Path
               ) -> tuple[tuple[str, Path], ...]:
    """The made files the published documents use, as (output file, file in the cache folder).

    Files no document of the cache uses any more (`every`: drafts and future articles too, whose cache
    entries still name theirs) are removed from the cache folder, with temporary files a killed worker left.
    A file a document names that the cache folder lacks (deleted by hand) makes the cache unusable: build()
    then builds again without it, and makes every image anew."""
    folder = cache_folder / CACHE_FOLDER
    try:
        present = {entry.name for entry in os.scandir(folder)}
    except FileNotFoundError:
        present = set()
    made = dict.fromkeys(name for document in published for name in document.made_images)
    missing = [name for name in made if _base(name) not in present]
    if missing:
        from .cache import CacheUnusable  # imported here: cache -> freshness -> markup -> images is a cycle

        raise CacheUnusable(str(cache_folder), f"{CACHE_FOLDER}/{_base(missing[0])} is missing")
    used = {_base(name) for document in every for name in document.made_images}
    for name in present - used:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(folder / name)
    return tuple((name, folder / _base(name)) for name in made)


def _base(name: str) -> str:
    """The file's name in the cache folder: its output name without /assets/images/."""
    return name.rsplit("/", 1)[1]
