"""Every URL rule of the site in one place: slugs, permalinks, list pages and link prefixes."""
from __future__ import annotations

import functools
import re
import posixpath
from datetime import datetime
from urllib.parse import quote, urlsplit

from slugify import slugify as _slugify

URI_SAFE = "/:@!$&'()*+,;=~%?#"  # reserved characters and existing escapes stay as written


@functools.lru_cache(maxsize=65536)  # the same section, tag and author names recur on every page
def slugify(text: str) -> str:
    """"Élection à Séoul!" -> "election-a-seoul"; falls back to a Unicode slug for scripts with no ASCII form."""
    slug = _slugify(text)
    return slug or _slugify(text, allow_unicode=True)


def article_path(pattern: str, section_slug: str, slug: str, date: datetime | None) -> str:
    """Fill the permalink pattern; `date` is already in the site's time zone."""
    values = {"section": section_slug, "slug": slug}
    if date is not None:
        values |= {"year": f"{date.year:04d}", "month": f"{date.month:02d}", "day": f"{date.day:02d}"}
    return normalize_path(pattern.format(**values))


def page_path(slug: str) -> str:
    return normalize_path(f"/{slug}/")


def normalize_path(path: str) -> str:
    """Collapse doubled slashes and make every page path look like /a/b/."""
    path = "/" + "/".join(part for part in path.split("/") if part)
    return path if path.endswith((".html", ".xml")) else path.rstrip("/") + "/"


_QUERY_ALIAS = re.compile(r"([^?#]*)\?([A-Za-z_][\w-]*=[\w.~-]+)")


def query_alias(alias: str) -> tuple[str, str] | None:
    """An old URL with a query, like WordPress's /?p=123: (its path, "p=123"), or None when the query is not
    one name and value. A static host ignores queries, so these are looked up by a script, not a file."""
    match = _QUERY_ALIAS.fullmatch(alias)
    if not match:
        return None
    path = normalize_path(match.group(1))
    if "." in path.rstrip("/").rpartition("/")[2]:  # a script of the old site, /index.php, is a file
        path = path.rstrip("/")
    return path, match.group(2)


def is_safe_path(path: str) -> bool:
    """A path stays inside the output folder when it has no '..' and no backslash or NUL."""
    parts = path.split("/")
    return path.startswith("/") and ".." not in parts and "." not in parts[1:-1] and "\\" not in path and "\0" not in path


def paginated(base: str, number: int) -> str:
    """/news/ page 1 is /news/, page 2 is /news/page/2/."""
    return base if number == 1 else f"{base}page/{number}/"


def section_path(section_slug: str) -> str:
    return f"/{section_slug}/"


def tag_path(tag_slug: str) -> str:
    return f"/tags/{tag_slug}/"


def author_path(author_slug: str) -> str:
    return f"/authors/{author_slug}/"


def output_file(path: str) -> str:
    """The file that serves a URL path: /news/x/ -> news/x/index.html."""
    return path.lstrip("/") + "index.html" if path.endswith("/") else path.lstrip("/")


def link(base_path: str, path: str) -> str:
    """Root-relative link, under the site's base path when it lives in a sub-folder; an absolute URL (a
    sign-in service elsewhere) stays as it is."""
    return base_path + path if path.startswith("/") else path


def absolute(base_url: str, root_link: str) -> str:
    """Absolute URL of a root-relative link, which already carries the base path (see link())."""
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}{encoded(root_link)}"


def encoded(root_link: str) -> str:
    """A link as a URI: non-ASCII slugs and spaces percent-encoded (sitemaps, feeds and host files want URIs,
    not IRIs), reserved characters and existing escapes kept."""
    return quote(root_link, safe=URI_SAFE)


def resolve_relative(folder: str, reference: str) -> str:
    """Resolve a relative file reference against a content folder: ("news/a", "../b.jpg") -> "news/b.jpg"."""
    return posixpath.normpath(posixpath.join(folder, reference)).lstrip("/")


def url_path(output_file: str) -> str:
    """The URL path an output file is served at, the inverse of output_file(): news/x/index.html -> /news/x/."""
    if output_file == "index.html" or output_file.endswith("/index.html"):
        return "/" + output_file[: -len("index.html")]
    return "/" + output_file


# Characters no link a reader may follow contains: controls, whitespace (" javascript:") and backslashes.
_LINK_TRAPS = re.compile(r"[\x00-\x20\x7f-\x9f\\]|\s")


def is_reader_link(url: str, absolute: bool = False) -> bool:
    """A link a reader may follow: an http(s) URL with a host, or (unless `absolute`) a path on this
    site like /signin/. Never javascript:, data: or //host, which would take the reader elsewhere."""
    if _LINK_TRAPS.search(url):
        return False
    if not absolute and url.startswith("/") and not url.startswith("//"):
        return True
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:  # "http://[::1/": an unclosed IPv6 address
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)
