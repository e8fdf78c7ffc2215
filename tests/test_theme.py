"""Themes: the site's themes/NAME before the package's, one-block overrides, static files, escaping, strictness."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from jinja2 import DictLoader, Environment, UndefinedError

from conftest import PACKAGE_THEME, article, build_site, make_site, parse_html, read
from ssg.errors import BuildFailed, SsgError
from ssg.theme import load_theme, make_environment, template_digest

OVERRIDE = """\
{% extends "default/article.html" %}
{% block byline %}<p class="byline custom-byline">Filed by {{ authors|map(attribute='name')|join(' & ') }}</p>{% endblock %}
"""


def test_the_package_theme_is_found_without_a_themes_folder(tmp_path):
    theme = load_theme(tmp_path, "default")
    assert theme.folders == (PACKAGE_THEME,)
    assert {"css/site.css", "css/pygments.css"} <= set(theme.static)
    assert {"article", "page"} <= theme.layouts()
    assert not {"base", "list", "404", "redirect"} & theme.layouts()


def test_static_files_are_fingerprinted_by_content(tmp_path):
    theme = load_theme(tmp_path, "default")
    data = (PACKAGE_THEME / "static/css/site.css").read_bytes()
    assert theme.asset("css/site.css") == f"assets/css/site.{hashlib.sha1(data).hexdigest()[:10]}.css"
    with pytest.raises(ValueError, match="no static file 'css/none.css'"):
        theme.asset("css/none.css")


def test_an_unknown_theme_is_an_error(tmp_path):
    with pytest.raises(SsgError, match="theme 'glossy' not found"):
        load_theme(tmp_path, "glossy")


def test_the_site_theme_comes_first(tmp_path):
    (tmp_path / "themes/default/static/css").mkdir(parents=True)
    (tmp_path / "themes/default/static/css/site.css").write_text("body { color: teal }")
    (tmp_path / "themes/default/templates").mkdir()
    (tmp_path / "themes/default/templates/gallery.html").write_text("{% extends 'article.html' %}")
    theme = load_theme(tmp_path, "default")
    assert theme.folders == (tmp_path / "themes/default", PACKAGE_THEME)
    assert theme.static["css/site.css"] == tmp_path / "themes/default/static/css/site.css"
    assert theme.static["css/pygments.css"] == PACKAGE_THEME / "static/css/pygments.css"   # not shadowed
    assert "gallery" in theme.layouts()


@pytest.fixture(scope="module")
def overridden(tmp_path_factory) -> Path:
    """A site that overrides one block of article.html, one of base.html, adds a layout and a stylesheet."""
    tmp_path = tmp_path_factory.mktemp("override")
    site = make_site(tmp_path, {
        "themes/default/templates/article.html": OVERRIDE,
        "themes/default/templates/base.html":
            '{% extends "default/base.html" %}\n'
            '{% block footer %}<footer class="custom-footer">Printed on recycled pixels</footer>{% endblock %}\n',
        "themes/default/templates/gallery.html":
            '{% extends "article.html" %}\n{% block body %}<div class="gallery" data-meter-body>'
            "{{ article.body|safe }}</div>{% endblock %}\n",
        "themes/default/static/css/site.css": "body { color: teal }\n",
        "content/news/vote.md": article("Vote", author="Jane Doe", body="The count.\n"),
        "content/news/photos.md": article("Photos", "2026-11-18 09:00", layout="gallery", body="Pictures.\n"),
    })
    return build_site(site)


def test_overriding_one_block_keeps_the_rest_of_the_template(overridden):
    page = parse_html(overridden, "news/vote/index.html")
    assert page.xpath('//p[contains(@class, "custom-byline")]/text()') == ["Filed by Jane Doe"]
    assert not page.xpath('//a[@rel="author"]')                      # the default byline is gone
    assert page.xpath("//h1/text()") == ["Vote"]                     # everything else is still there
    assert page.xpath('//*[@data-meter-body]/p/text()') == ["The count."]
    assert page.xpath('//link[@rel="canonical"]/@href') == ["https://news.example.org/news/vote/"]
    assert page.xpath('//script[@type="application/ld+json"]')
    assert page.xpath('//nav[@aria-label="Sections"]')


def test_overriding_a_base_block_reaches_every_page(overridden):
    for name in ("index.html", "news/vote/index.html", "news/index.html", "404.html"):
        page = parse_html(overridden, name)
        assert page.xpath('//footer[@class="custom-footer"]/text()') == ["Printed on recycled pixels"], name
        assert not page.xpath('//footer[contains(@class, "site-footer")]'), name


def test_a_layout_of_the_site_theme(overridden):
    page = parse_html(overridden, "news/photos/index.html")
    assert page.xpath('//div[@class="gallery"]/p/text()') == ["Pictures."]
    assert page.xpath('//p[contains(@class, "custom-byline")]')      # extends the overridden article.html


def test_a_static_file_of_the_site_theme_replaces_the_package_one(overridden):
    href = parse_html(overridden, "index.html").xpath('//link[@rel="stylesheet"]/@href')[0]
    assert read(overridden, href.lstrip("/")) == "body { color: teal }\n"
    assert (overridden / "assets/css").is_dir()
    pygments = [p.name for p in (overridden / "assets/css").iterdir() if p.name.startswith("pygments.")]
    assert len(pygments) == 1                                           # the package's files still ship


def test_autoescape_in_html_and_xml_not_in_text(tmp_path):
    env = make_environment(load_theme(tmp_path, "default"))
    env.loader = DictLoader({"a.html": "{{ x }}", "a.xml": "{{ x }}", "a.txt": "{{ x }}"})
    assert env.get_template("a.html").render(x="<b>&") == "&lt;b&gt;&amp;"
    assert env.get_template("a.xml").render(x="<b>&") == "&lt;b&gt;&amp;"
    assert env.get_template("a.txt").render(x="<b>&") == "<b>&"


def test_a_missing_variable_is_an_error_not_an_empty_string(tmp_path):
    env = make_environment(load_theme(tmp_path, "default"))
    with pytest.raises(UndefinedError):
        env.from_string("{{ no_such_thing }}").render()


def test_a_template_syntax_error_names_the_template_and_line(tmp_path):
    site = make_site(tmp_path, {
        "themes/default/templates/page.html": '{% extends "default/page.html" %}\n\n{% block content %}{% if %}'
                                              "{% endblock %}\n",
        "content/pages/about.md": "---\ntitle: About\n---\nx\n",
    })
    with pytest.raises(BuildFailed) as caught:
        build_site(site)
    error = caught.value.errors[0]
    assert Path(error.path).name == "page.html" and "themes/default/templates" in error.path
    assert error.line == 3
    assert not (tmp_path / "out").exists()


def test_a_template_naming_a_missing_static_file(tmp_path):
    site = make_site(tmp_path, {
        "themes/default/templates/page.html": '{% extends "default/page.html" %}\n'
                                              "{% block head_extra %}<link href=\"{{ asset('css/nope.css') }}\">"
                                              "{% endblock %}\n",
        "content/pages/about.md": "---\ntitle: About\n---\nx\n",
    })
    with pytest.raises(BuildFailed) as caught:
        build_site(site)
    assert "no static file 'css/nope.css'" in caught.value.errors[0].message


def test_a_template_digest_covers_what_it_extends_includes_and_imports_and_nothing_else():
    templates = {
        "base.html": "<main>{% block body %}{% endblock %}</main>",
        "page.html": '{% extends "base.html" %}{% import "macros.html" as m %}'
                     '{% block body %}{% include "card.html" %}{{ m.x() }}{% endblock %}',
        "card.html": "<p>card</p>",
        "macros.html": "{% macro x() %}x{% endmacro %}",
        "other.html": "<p>other</p>",
        "dynamic.html": "{% include name %}",
    }

    known: dict[str, list[str | None]] = {}  # kept across "builds", as the cache keeps it

    def digests() -> dict[str, str]:
        env = Environment(loader=DictLoader(dict(templates)))
        cache: dict[str, str] = {}
        return {name: template_digest(env, name, cache, known) for name in ("page.html", "other.html", "dynamic.html")}

    before = digests()
    for name in ("base.html", "card.html", "macros.html"):
        templates[name] += " "
        after = digests()
        assert after["page.html"] != before["page.html"], name
        assert after["other.html"] == before["other.html"], name
        assert after["dynamic.html"] != before["dynamic.html"], name  # it could include any template
        before = after
    templates["other.html"] += " "
    after = digests()
    assert after["page.html"] == before["page.html"] and after["other.html"] != before["other.html"]
    templates["missing-from-page.html"] = "{% include 'nowhere.html' %}"  # a missing template has a digest too
    assert template_digest(Environment(loader=DictLoader(templates)), "missing-from-page.html", {}, known)
