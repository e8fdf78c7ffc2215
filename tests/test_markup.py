"""Markdown to HTML: the extensions a newsroom needs, typography, figures, local images and the teaser cut."""
from __future__ import annotations

from html import unescape
from pathlib import Path

import pytest
from lxml import html

from conftest import png
from ssg.markup import TEASER_CUT, DocumentContext, MarkdownRenderer, image_size, smarten


@pytest.fixture(scope="module")
def renderer() -> MarkdownRenderer:
    return MarkdownRenderer()


def render(renderer: MarkdownRenderer, text: str, folder: Path = Path("/nonexistent"), url_of=lambda path: None,
           teaser_paragraphs: int | None = None):
    return renderer.render(text, DocumentContext(folder=folder, url_of=url_of, teaser_paragraphs=teaser_paragraphs))


def fragment(source: str) -> html.HtmlElement:
    return html.fragment_fromstring(source, create_parent="div")


def test_tables(renderer):
    tree = fragment(render(renderer, "| Party | Seats |\n|---|--:|\n| Blue | 12 |\n| Red | 9 |\n").html)
    assert tree.xpath("//table/thead/tr/th/text()") == ["Party", "Seats"]
    assert tree.xpath("//table/tbody/tr/td/text()") == ["Blue", "12", "Red", "9"]


def test_fenced_code_is_highlighted_with_the_highlight_class(renderer):
    tree = fragment(render(renderer, '```python\ndef vote(n):\n    return "yes"\n```\n').html)
    block = tree.xpath('//div[@class="highlight"]')
    assert len(block) == 1
    assert block[0].xpath(".//pre/code")
    assert block[0].xpath('.//span[@class="k"]/text()') == ["def", "return"]     # Pygments token classes
    assert block[0].xpath('.//span[@class="s2"]')
    assert "return" in block[0].text_content()


def test_code_is_not_given_smart_quotes(renderer):
    out = render(renderer, 'Say `x = "y"` then:\n\n```\nq = "it\'s"\n```\n').html
    assert '<code>x = "y"</code>' in out
    code = unescape(out.split("<pre>", 1)[1])  # Pygments versions differ in which quotes they escape
    assert "q = \"it's\"" in code
    assert "\u201c" not in out and "\u2019" not in out


def test_footnotes(renderer):
    tree = fragment(render(renderer, "The count was late.[^1]\n\n[^1]: According to the clerk.\n").html)
    ref = tree.xpath('//sup/a[@class="footnote-ref"]')
    assert len(ref) == 1 and ref[0].get("href") == "#fn:1"
    assert tree.xpath('//div[@class="footnote"]//li[@id="fn:1"]')
    assert "According to the clerk." in tree.xpath('//div[@class="footnote"]')[0].text_content()


def test_attribute_lists_on_blocks_headings_and_links(renderer):
    out = render(renderer, "A dek-like paragraph.\n{: .lead #intro }\n\n## Results {#results .wide}\n\n"
                           "[Source](https://example.org){: rel=nofollow }\n").html
    tree = fragment(out)
    p = tree.xpath("//p")[0]
    assert (p.get("class"), p.get("id")) == ("lead", "intro")
    h2 = tree.xpath("//h2")[0]
    assert (h2.get("id"), h2.get("class")) == ("results", "wide")
    assert tree.xpath("//a")[0].get("rel") == "nofollow"


def test_toc_marker_and_toc_for_templates(renderer):
    rendered = render(renderer, "Intro.\n\n[TOC]\n\n## First part\n\nText.\n\n### Detail\n\n## Second part\n")
    tree = fragment(rendered.html)
    assert tree.xpath('//div[@class="toc"]//a/@href') == ["#first-part", "#detail", "#second-part"]
    assert "[TOC]" not in rendered.html
    toc = fragment(rendered.toc)
    assert toc.xpath("//a/text()") == ["First part", "Detail", "Second part"]


def test_no_headings_means_no_toc(renderer):
    assert render(renderer, "Just a paragraph.\n").toc == ""


def test_heading_ids_are_stable_across_documents(renderer):
    # One renderer serves many documents; ids must not become intro_1 in the second one.
    first = render(renderer, "## Intro\n\n## Intro\n").html
    second = render(renderer, "## Intro\n").html
    assert 'id="intro"' in first and 'id="intro_1"' in first
    assert second == '<h2 id="intro">Intro</h2>'


def test_unicode_heading_ids(renderer):
    out = render(renderer, "## Café crème\n\n## 서울 선거\n").html
    assert fragment(out).xpath("//h2/@id") == ["café-crème", "서울-선거"]


@pytest.mark.parametrize("source, expected", [
    ('"Hello," she said.', "\u201cHello,\u201d she said."),
    ("It's the council's 'final' word.", "It\u2019s the council\u2019s \u2018final\u2019 word."),
    ("Ten -- or twenty --- votes...", "Ten \u2013 or twenty \u2014 votes\u2026"),
    ('(“nested") and ["bracketed"]', "(\u201cnested\u201d) and [\u201cbracketed\u201d]"),
])
def test_smart_quotes_and_dashes(renderer, source, expected):
    assert render(renderer, source).html == f"<p>{expected}</p>"


def test_quote_after_inline_markup_closes(renderer):
    assert render(renderer, 'He said "*no*" twice.').html == "<p>He said \u201c<em>no</em>\u201d twice.</p>"


def test_smarten_directly():
    assert smarten('"a" \'b\'', at_start=True) == "\u201ca\u201d \u2018b\u2019"
    assert smarten('" after', at_start=False) == "\u201d after"


def test_raw_figure_is_passed_through(renderer):
    source = '<figure class="chart">\n<img src="https://cdn.example/c.png" alt="Chart">\n' \
             '<figcaption>Seats by party</figcaption>\n</figure>\n\nAfter.\n'
    tree = fragment(render(renderer, source).html)
    figure = tree.xpath("//figure")
    assert len(figure) == 1 and figure[0].get("class") == "chart"
    assert figure[0].xpath("figcaption/text()") == ["Seats by party"]
    assert not tree.xpath("//p/figure")  # not wrapped in a paragraph


def test_image_with_a_title_becomes_a_captioned_figure(renderer):
    tree = fragment(render(renderer, '![Voters queue](https://cdn.example/q.jpg "Voters queue in Seoul")\n').html)
    figure = tree.xpath("/div/figure")
    assert len(figure) == 1
    assert figure[0].xpath("img/@alt") == ["Voters queue"]
    assert figure[0].xpath("figcaption/text()") == ["Voters queue in Seoul"]
    assert not tree.xpath("//p")


def test_image_without_a_title_stays_inline(renderer):
    tree = fragment(render(renderer, "![Chart](https://cdn.example/c.png)\n").html)
    assert tree.xpath("//p/img") and not tree.xpath("//figure")


def test_local_image_gets_its_url_and_size_from_the_file(renderer, tmp_path):
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "chart.png").write_bytes(png(120, 80))

    def url_of(path: Path) -> str | None:
        return "/news/story/" + path.relative_to(tmp_path).as_posix() if path.is_file() else None

    out = render(renderer, '![Chart](img/chart.png "Seats")\n\n![Gone](img/missing.png)\n',
                 folder=tmp_path, url_of=url_of).html
    tree = fragment(out)
    img = tree.xpath("//figure/img")[0]
    assert img.get("src") == "/news/story/img/chart.png"
    assert (img.get("width"), img.get("height")) == ("120", "80")
    assert img.get("loading") == "lazy"
    missing = tree.xpath('//img[@alt="Gone"]')[0]
    assert missing.get("src") == "img/missing.png" and missing.get("width") is None  # left for `ssg check`


def test_explicit_size_is_kept(renderer, tmp_path):
    (tmp_path / "a.png").write_bytes(png(120, 80))
    out = render(renderer, "![A](a.png){: width=60 }\n", folder=tmp_path, url_of=lambda p: "/a.png").html
    assert fragment(out).xpath("//img/@width") == ["60"]


def test_relative_links_to_local_files_are_rewritten(renderer, tmp_path):
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.4")
    out = render(renderer, "[Report](report.pdf) [Site](https://example.org/) [Top](#top) [Home](/about/)\n",
                 folder=tmp_path, url_of=lambda p: "/news/story/report.pdf" if p.is_file() else None).html
    assert fragment(out).xpath("//a/@href") == ["/news/story/report.pdf", "https://example.org/", "#top", "/about/"]


def test_image_size_reads_a_png_and_ignores_other_files(tmp_path):
    (tmp_path / "a.png").write_bytes(png(7, 3))
    (tmp_path / "b.png").write_bytes(b"not an image")
    assert image_size(tmp_path / "a.png") == (7, 3)
    assert image_size(tmp_path / "b.png") is None
    assert image_size(tmp_path / "missing.png") is None


# --- the teaser cut -------------------------------------------------------------------------------

def paragraphs_before_cut(out: str) -> list[str]:
    before = out.split(TEASER_CUT, 1)[0]
    return fragment(before).xpath("//p/text()")


def test_cut_after_the_teaser_paragraphs(renderer):
    out = render(renderer, "One.\n\nTwo.\n\nThree.\n\nFour.\n", teaser_paragraphs=2).html
    assert out.count(TEASER_CUT) == 1
    assert paragraphs_before_cut(out) == ["One.", "Two."]


def test_toc_and_headings_are_not_counted_as_teaser_blocks(renderer):
    out = render(renderer, "[TOC]\n\nOne.\n\n## Head\n\nTwo.\n\nThree.\n", teaser_paragraphs=2).html
    assert paragraphs_before_cut(out) == ["One.", "Two."]


def test_raw_html_blocks_lists_and_quotes_count_as_teaser_blocks(renderer):
    out = render(renderer, '<div class="note">Note</div>\n\n- a\n- b\n\n> Quote\n\nFour.\n', teaser_paragraphs=3).html
    before = fragment(out.split(TEASER_CUT, 1)[0])
    assert before.xpath("//div[@class='note']/text()") == ["Note"] and before.xpath("//blockquote")
    assert "Four." in out.split(TEASER_CUT, 1)[1]


def test_cut_stays_outside_an_element_raw_html_left_open(renderer):
    source = '<div class="box">\n\nInside one.\n\nInside two.\n\n</div>\n\nAfter.\n\nLast.\n'
    out = render(renderer, source, teaser_paragraphs=1).html
    teaser, rest = out.split(TEASER_CUT, 1)
    assert teaser.count("<div") == teaser.count("</div>") and "Inside two." in teaser
    assert "After." in rest


def test_comments_and_scripts_are_not_teaser_blocks(renderer):
    out = render(renderer, "<!-- note to editors -->\n\n<script>var a = 1;</script>\n\nOne.\n\nTwo.\n",
                 teaser_paragraphs=1).html
    assert paragraphs_before_cut(out) == ["One."]


def test_zero_teaser_paragraphs_cuts_at_the_start(renderer):
    assert render(renderer, "One.\n\nTwo.\n", teaser_paragraphs=0).html.startswith(TEASER_CUT)


def test_no_cut_when_the_article_is_all_teaser(renderer):
    assert TEASER_CUT not in render(renderer, "One.\n\nTwo.\n", teaser_paragraphs=2).html


def test_no_cut_without_a_meter(renderer):
    assert TEASER_CUT not in render(renderer, "One.\n\nTwo.\n\nThree.\n").html
