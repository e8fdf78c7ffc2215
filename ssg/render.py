"""Render a page with Jinja: the filters and globals templates see, and errors that name the template line."""
from __future__ import annotations

import dataclasses
import re
import traceback
from typing import Callable

import jinja2
from jinja2 import Environment
from markupsafe import escape

from . import meter, urls
from .config import SiteConfig
from .errors import BuildFailed, SourceError, SsgError
from .model import Document
from .pages import Page, SiteNav
from .theme import Theme


def configure(env: Environment, config: SiteConfig, theme: Theme, nav: SiteNav,
              body_of: Callable[[Document], str]) -> None:
    """Filters and globals every template may use."""
    base_path = config.base_path
    env.filters["link"] = lambda path: urls.link(base_path, path)
    env.filters["absolute"] = lambda path: urls.absolute(config.base_url, path) if path.startswith("/") else path
    env.filters["isodate"] = lambda when: when.isoformat(timespec="seconds")
    env.filters["humandate"] = lambda when: f"{when.day} {when:%B %Y}"
    env.filters["slugify"] = urls.slugify
    env.filters["feed_content"] = lambda document: feed_content(document, body_of(document), config)
    env.globals.update(
        config=config,
        site=nav,
        urls=urls,
        asset=lambda name: urls.link(base_path, "/" + theme.asset(name)),
        is_metered=lambda document: meter.is_metered(document, config.meter),
    )


# A root-relative URL in an attribute of the body (href="/news/x/", srcset="/assets/a-480.webp 480w, ...").
_ROOT_RELATIVE = re.compile(r'\b(href|src|srcset)="([^"]*)"')


def feed_content(document: Document, body: str, config: SiteConfig) -> str:
    """The HTML a feed reader gets: lead image and the public part of the body (never a metered article's rest).
    Its links are absolute: a JSON Feed has no xml:base, and a reader shows the HTML away from the site."""
    html = _ROOT_RELATIVE.sub(lambda m: f'{m.group(1)}="{_absolute_urls(m.group(1), m.group(2), config.base_url)}"',
                              meter.public_html(body, document, config.meter))
    if meter.is_for_members(document, config.meter) and document.summary:
        html = f"<p>{escape(document.summary)}</p>"
    if document.image:
        src = document.image.url
        if src.startswith("/"):
            src = urls.absolute(config.base_url, urls.link(config.base_path, src))
        html = f'<p><img src="{escape(src)}" alt="{escape(document.image.alt)}"></p>\n' + html
    if meter.is_metered(document, config.meter):
        href = urls.absolute(config.base_url, urls.link(config.base_path, document.path))
        html += f'\n<p><a href="{escape(href)}">Continue reading</a></p>'
    return html


def _absolute_urls(attribute: str, value: str, base_url: str) -> str:
    """Each root-relative URL of an attribute made absolute; srcset lists several, with their widths."""
    if not value.startswith("/") or value.startswith("//"):
        return value
    if attribute != "srcset":
        return urls.absolute(base_url, value)
    candidates = (part.strip().partition(" ") for part in value.split(","))
    return ", ".join(urls.absolute(base_url, url) + space + descriptor for url, space, descriptor in candidates)


def render_page(page: Page, env: Environment, body_of: Callable[[Document], str]) -> bytes:
    """Render one page; a body is read only now, so the whole site's HTML is never in memory at once."""
    if page.document is None:
        context = page.context()
    else:
        context = page.context(dataclasses.replace(page.document, body=body_of(page.document)))
    return env.get_template(page.template).render(context).encode("utf-8")


def render_template(page: Page, env: Environment, body_of: Callable[[Document], str]) -> bytes:
    """Render one page. A mistake in a template becomes an error naming the template file and line; an
    error raised anywhere else is the generator's own and propagates as it is."""
    try:
        return render_page(page, env, body_of)
    except jinja2.TemplateSyntaxError as exc:
        raise BuildFailed([SourceError(exc.filename or exc.name or page.template, exc.lineno,
                                       exc.message or "")]) from None
    except SsgError:
        raise  # the cache or the input, not the template (a feed filter reads bodies from the cache)
    except Exception as exc:
        # Jinja runs a template's code under the template's file name: every frame not in Python is a template's.
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.endswith(".py")]
        if not frames and not isinstance(exc, jinja2.TemplateError):
            raise
        where = frames[-1] if frames else None
        message = f"while rendering {page.output}: {type(exc).__name__}: {exc}"
        raise BuildFailed([SourceError(where.filename if where else page.template, where.lineno if where else 0,
                                       message)]) from None
