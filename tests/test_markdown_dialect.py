"""Markdown as authors write it (CommonMark and GitHub's extensions), and what we do beyond the spec, kept."""
from __future__ import annotations

from pathlib import Path

import feedparser
import pytest
from lxml import html

from conftest import METERED_SITE_YAML, article, build_site, make_site, parse_html, read
from ssg.markup import TEASER_CUT, DocumentContext, MarkdownRenderer


@pytest.fixture(scope="module")
def renderer() -> MarkdownRenderer:
    return MarkdownRenderer()


def tree(renderer: MarkdownRenderer, text: str) -> html.HtmlElement:
    out = renderer.render(text, DocumentContext(folder=Path("/nonexistent"), url_of=lambda path: None,
                                                teaser_paragraphs=None)).html
    return html.fragment_fromstring(out, create_parent="div")


# --- what authors hit every day ---------------------------------------------------------------------

def test_a_list_right_after_a_paragraph_line_is_a_list(renderer):
    page = tree(renderer, "The council voted on:\n- the budget\n- the bus lanes\n")
    assert page.xpath("/div/p/text()") == ["The council voted on:"]
    assert page.xpath("/div/ul/li/text()") == ["the budget", "the bus lanes"]


def test_a_numbered_list_after_a_paragraph_starts_at_one_only(renderer):
    page = tree(renderer, "Results:\n1. Blue\n2. Red\n\nIn the year\n2026. Turnout rose.\n")
    assert page.xpath("/div/ol/li/text()") == ["Blue", "Red"]
    assert "2026. Turnout rose." in page.xpath("/div/p")[1].text_content()  # a year is not a list


def test_lists_nested_by_two_spaces_stay_nested(renderer):
    page = tree(renderer, "- Parties\n  - Blue\n  - Red\n- Turnout\n")
    assert [li.text.strip() for li in page.xpath("/div/ul/li")] == ["Parties", "Turnout"]
    assert page.xpath("/div/ul/li[1]/ul/li/text()") == ["Blue", "Red"]


def test_four_space_nesting_still_works(renderer):
    page = tree(renderer, "1. First\n    - detail\n2. Second\n")
    assert page.xpath("/div/ol/li[1]/ul/li/text()") == ["detail"]
    assert len(page.xpath("/div/ol/li")) == 2


def test_tight_and_loose_lists(renderer):
    assert not tree(renderer, "- a\n- b\n").xpath("//li/p")
    assert tree(renderer, "- a\n\n- b\n").xpath("//li/p/text()") == ["a", "b"]


def test_ordered_list_keeps_its_start_number(renderer):
    assert tree(renderer, "3. three\n4. four\n").xpath("//ol/@start") == ["3"]


def test_strikethrough(renderer):
    page = tree(renderer, "The ~~old~~ new figure, and ~one~ tilde.\n")
    assert page.xpath("//del/text()") == ["old", "one"]
    assert "~" not in page.text_content()


def test_task_list_checkboxes_are_disabled(renderer):
    page = tree(renderer, "- [x] Call the clerk\n- [ ] Check the count\n")
    boxes = page.xpath("//li/input[@type='checkbox']")
    assert len(boxes) == 2
    assert all(box.get("disabled") is not None for box in boxes)
    assert [box.get("checked") is not None for box in boxes] == [True, False]
    assert "[x]" not in page.text_content()


@pytest.mark.parametrize("text, href", [
    ("See https://example.org/report.pdf.", "https://example.org/report.pdf"),
    ("See http://example.org/a_(b) now", "http://example.org/a_(b)"),
    ("Visit www.example.org today", "http://www.example.org"),
    ("Write to desk@example.org.", "mailto:desk@example.org"),
    ("<https://example.org/x>", "https://example.org/x"),
])
def test_bare_urls_become_links(renderer, text, href):
    assert tree(renderer, text + "\n").xpath("//a/@href") == [href]


def test_markdown_inside_an_html_block_after_a_blank_line(renderer):
    page = tree(renderer, '<div class="note">\n\n**Bold** and *italic*.\n\n</div>\n')
    note = page.xpath("//div[@class='note']")
    assert len(note) == 1
    assert note[0].xpath("p/strong/text()") == ["Bold"] and note[0].xpath("p/em/text()") == ["italic"]


def test_html_block_without_a_blank_line_stays_raw(renderer):
    page = tree(renderer, '<div class="note">\n*not emphasis*\n</div>\n')
    assert page.xpath("//div[@class='note']/text()")[0].strip() == "*not emphasis*"


def test_fences_inside_lists_and_indented_fences(renderer):
    page = tree(renderer, "- Run:\n\n  ```\n  make\n  ```\n\n  ```python\n  x = 1\n  ```\n")
    assert len(page.xpath("//li//pre")) == 2
    assert page.xpath("//li//span[@class='n']/text()") == ["x"]  # highlighted by Pygments


def test_headings_need_a_space_after_the_hashes(renderer):
    page = tree(renderer, "#hashtag in a tweet\n\n# Heading\n")
    assert page.xpath("//p/text()") == ["#hashtag in a tweet"]
    assert page.xpath("//h1/text()") == ["Heading"]


def test_hard_line_breaks(renderer):
    assert len(tree(renderer, "Line one\\\nline two  \nline three\n").xpath("//p/br")) == 2


def test_tag_filter_keeps_the_page_whole_but_embeds_pass(renderer):
    page = tree(renderer, 'Type <textarea> here.\n\n<iframe src="https://video.example/1"></iframe>\n')
    assert not page.xpath("//textarea") and "<textarea>" in page.text_content()
    assert page.xpath("//iframe/@src") == ["https://video.example/1"]


# --- beyond the spec: what we did before, still done --------------------------------------------------

def test_beyond_spec_features_together(renderer):
    source = ('Intro "quoted" -- text.\n\n[TOC]\n\n## Results\n\n| Party | Seats |\n|---|--:|\n| Blue | 12 |\n\n'
              'A fact.[^1]\n\nA pull quote.\n{: .pullquote }\n\n![Queue](https://cdn.example/q.jpg "Voters queue")\n\n'
              '```python\nprint("x")\n```\n\n[^1]: The clerk.\n')
    page = tree(renderer, source)
    assert "\u201cquoted\u201d \u2013 text." in page.xpath("/div/p")[0].text_content()
    assert page.xpath("//div[@class='toc']//a/@href") == ["#results"]
    assert page.xpath("//h2/@id") == ["results"]
    assert page.xpath("//td[@align='right']/text()") == ["12"]
    assert page.xpath("//sup/a[@class='footnote-ref']/@href") == ["#fn:1"]
    assert page.xpath("//p[@class='pullquote']/text()") == ["A pull quote."]
    assert page.xpath("//figure/figcaption/text()") == ["Voters queue"]
    assert page.xpath("//div[@class='highlight']//span[@class='nb']/text()") == ["print"]


# --- the teaser cut, through a build ---------------------------------------------------------------

RAW_BODY = "".join(f'<div class="para">\n<p>Block {n}.</p>\n</div>\n\n' for n in range(1, 5))


@pytest.fixture(scope="module")
def raw_site(tmp_path_factory) -> Path:
    files = {"content/news/raw.md": article("Raw", "2026-11-19 09:00", RAW_BODY),
             "content/news/figures.md": article("Figures", "2026-11-18 09:00",
                                                '<figure>\n<img src="https://cdn.example/a.jpg" alt="A">\n</figure>\n\n'
                                                "One.\n\n<figure>\n<img src=\"https://cdn.example/b.jpg\" alt=\"B\">\n"
                                                "</figure>\n\nThe part for subscribers.\n")}
    return build_site(make_site(tmp_path_factory.mktemp("raw"), files, METERED_SITE_YAML))


def test_an_article_of_raw_html_divs_is_cut_after_the_teaser_blocks(raw_site):
    body = parse_html(raw_site, "news/raw/index.html").xpath("//*[@data-meter-body]")[0]
    children = [child for child in body if child.tag == "div"]
    cut = next(i for i, child in enumerate(children) if child.get("data-meter-cut") is not None)
    assert [child.text_content().strip() for child in children[:cut]] == ["Block 1.", "Block 2."]
    assert children[cut].get("hidden") is not None
    assert TEASER_CUT in read(raw_site, "news/raw/index.html")


def test_figures_count_and_the_feed_teaser_follows_the_same_cut(raw_site):
    entries = {entry.title: entry.content[0].value for entry in feedparser.parse(read(raw_site, "feed.xml")).entries}
    assert "Block 2." in entries["Raw"] and "Block 3." not in entries["Raw"]
    assert "a.jpg" in entries["Figures"] and "One." in entries["Figures"]
    assert "b.jpg" not in entries["Figures"] and "The part for subscribers." not in entries["Figures"]
