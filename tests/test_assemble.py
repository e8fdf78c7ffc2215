"""From parsed documents to a Site: drafts and future articles left out, order, groups, neighbours, collisions."""
from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from conftest import NOW
from ssg import urls
from ssg.assemble import assemble_site, is_published
from ssg.pages import find_collisions, site_pages
from ssg.config import AuthorInfo, SiteConfig
from ssg.model import Document
from ssg.sources import Sources

CONFIG = SiteConfig(title="Gazette", base_url="https://news.example.org/", paginate=2,
                    authors={"Jane Doe": AuthorInfo(bio="Covers the city.", url="https://jane.example/")})


def doc(slug: str, hours_ago: float | None = 1, section: str = "News", kind: str = "article", **fields) -> Document:
    """A parsed document as parse_document would return it (every field given, as the model has no defaults)."""
    when = NOW - timedelta(hours=hours_ago) if hours_ago is not None else None
    section_slug = urls.slugify(section)
    values = dict(
        source=f"content/{section_slug}/{slug}.md", relative=f"{section_slug}/{slug}.md", kind=kind,
        layout="article" if kind == "article" else "page", title=slug.replace("-", " ").title(), date=when,
        updated=None, authors=(), section=section, section_slug=section_slug, tags=(), summary="", image=None,
        slug=slug, path=f"/{section_slug}/{slug}/" if kind == "article" else f"/{slug}/", aliases=(),
        draft=False, metered=kind == "article", body="<p>x</p>", toc="", params={}, assets=(), digest=slug)
    values.update(fields)
    for field in dataclasses.fields(Document):  # fields added to the model later get an empty value
        if field.name not in values and field.default is dataclasses.MISSING:
            values[field.name] = ""
    return Document(**{k: v for k, v in values.items() if k in {f.name for f in dataclasses.fields(Document)}})


def assemble(documents, config=CONFIG, sources=Sources((), ()), **options):
    """The site and the collisions the build would report for it."""
    site = assemble_site(list(documents), sources, config, NOW, **options)
    return site, find_collisions(list(site_pages(site, config)), site.assets)


def test_articles_newest_first_and_pages_apart():
    site, errors = assemble([doc("old", 30), doc("new", 2), doc("about", None, kind="page"), doc("mid", 10)])
    assert errors == []
    assert [a.slug for a in site.articles] == ["new", "mid", "old"]
    assert [p.slug for p in site.pages] == ["about"]
    assert site.built_at == NOW


def test_same_time_articles_have_a_stable_order():
    site, _ = assemble([doc("b", 5), doc("a", 5), doc("c", 5)])
    assert [a.slug for a in site.articles] == ["a", "b", "c"]


@pytest.mark.parametrize("document, drafts, future, published", [
    (doc("x", draft=True), False, False, False),
    (doc("x", draft=True), True, False, True),
    (doc("x", -1), False, False, False),              # an hour in the future
    (doc("x", -1), False, True, True),
    (doc("x", 0), False, False, True),                # exactly now is published
    (doc("x", -1, draft=True), True, False, False),   # a future draft needs both flags
    (doc("x", -1, draft=True), True, True, True),
    (doc("p", None, kind="page", draft=True), False, False, False),
])
def test_is_published(document, drafts, future, published):
    assert is_published(document, NOW, drafts, future) is published


def test_future_dates_never_hide_pages():
    page = doc("about", None, kind="page", date=NOW + timedelta(days=3))
    site, _ = assemble([page])
    assert site.pages == (page,)


def test_groups_by_section_tag_and_author():
    site, errors = assemble([
        doc("a", 1, section="News", tags=("Korea", "vote"), authors=("Jane Doe",)),
        doc("b", 2, section="Culture", tags=("korea",), authors=("Jane Doe", "Kim Min-jun")),
        doc("c", 3, section="News"),
    ])
    assert errors == []
    assert [(g.name, g.path, [a.slug for a in g.articles]) for g in site.sections] == [
        ("Culture", "/culture/", ["b"]), ("News", "/news/", ["a", "c"])]
    # Tags are grouped by slug: "Korea" and "korea" are one tag, shown as first written.
    assert [(g.name, g.path, [a.slug for a in g.articles]) for g in site.tags] == [
        ("Korea", "/tags/korea/", ["a", "b"]), ("vote", "/tags/vote/", ["a"])]
    jane = site.authors["Jane Doe"]
    assert (jane.slug, jane.path, jane.bio, jane.url) == (
        "jane-doe", "/authors/jane-doe/", "Covers the city.", "https://jane.example/")
    assert site.authors["Kim Min-jun"].bio == ""  # not in site.yaml: still gets a page
    by_author = {g.name: [a.slug for a in g.articles] for g in site.by_author}
    assert by_author == {"Jane Doe": ["a", "b"], "Kim Min-jun": ["b"]}


def test_sections_follow_the_configured_order():
    config = dataclasses.replace(CONFIG, sections=("Sport", "News"))
    site, _ = assemble([doc("a", section="Culture"), doc("b", section="News"), doc("c", section="Sport")], config)
    assert [g.name for g in site.sections] == ["Sport", "News", "Culture"]


def test_related_are_neighbours_in_the_same_section():
    articles = [doc(f"n{i}", i) for i in range(1, 7)] + [doc("other", 3.5, section="Culture")]
    site, _ = assemble(articles)
    assert [a.slug for a in site.related["/news/n1/"]] == ["n2", "n3"]
    assert [a.slug for a in site.related["/news/n4/"]] == ["n2", "n3", "n5", "n6"]
    assert site.related["/culture/other/"] == ()


def test_drafts_are_not_in_any_group_nor_related():
    site, _ = assemble([doc("a", 1, tags=("t",)), doc("draft", 2, draft=True, tags=("t",), authors=("Jane Doe",))])
    assert [a.slug for a in site.articles] == ["a"]
    assert [a.slug for g in (*site.sections, *site.tags) for a in g.articles] == ["a", "a"]
    assert site.authors == {} and site.by_author == ()
    assert site.related["/news/a/"] == ()


def test_assets_of_left_out_bundles_are_not_copied():
    shown = doc("a", 1, assets=(("news/a/lead.png", "/news/a/lead.png"),))
    hidden = doc("b", 1, draft=True, assets=(("news/b/lead.png", "/news/b/lead.png"),))
    sources = Sources(("news/a/index.md", "news/b/index.md"),
                      ("logo.svg", "news/a/lead.png", "news/b/lead.png"))
    site, _ = assemble([shown, hidden], sources=sources)
    assert site.assets == (("logo.svg", "/logo.svg"), ("news/a/lead.png", "/news/a/lead.png"))


# --- collisions -----------------------------------------------------------------------------------

def test_two_documents_with_one_url():
    site, errors = assemble([doc("a", 1, source="content/news/a.md"),
                             doc("a", 2, source="content/news/a/index.md", source_line=4)])
    assert [str(e) for e in errors] == [
        "content/news/a/index.md:4: URL /news/a/ is also produced by content/news/a.md:1; "
        "give one of them a different 'slug' or 'aliases'"]


def test_an_alias_that_is_another_articles_url():
    _, errors = assemble([doc("a", 1), doc("b", 2, aliases=("/news/a/",))])
    assert len(errors) == 1 and "URL /news/a/ is also produced by content/news/a.md" in str(errors[0])


def test_a_left_out_draft_does_not_collide():
    _, errors = assemble([doc("a", 1), doc("a", 2, source="content/news/a-draft.md", draft=True)])
    assert errors == []


@pytest.mark.parametrize("alias", [
    "/news/", "/", "/tags/korea/", "/authors/jane-doe/", "/feed.xml", "/news/feed.xml", "/sitemap.xml",
    "/news-sitemap.xml", "/robots.txt/", "/404.html", "/news/page/2/", "/page/2/",
])
def test_urls_the_generator_makes_are_reserved(alias):
    # paginate is 2: three News articles make /news/page/2/ and /page/2/.
    articles = [doc("a", 1, tags=("Korea",), authors=("Jane Doe",)), doc("b", 2), doc("c", 3, aliases=(alias,))]
    _, errors = assemble(articles)
    assert [e.path for e in errors] == ["content/news/c.md"]
    assert f"URL {alias} is reserved" in errors[0].message


def test_a_later_page_that_is_not_made_is_not_reserved():
    _, errors = assemble([doc("a", 1, aliases=("/news/page/2/",))])
    assert errors == []
