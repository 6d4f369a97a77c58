"""A bulk's compiled template renders what rendering each message on its own gives, through its faster paths."""

from __future__ import annotations

from typing import Any

import css_inline
import pytest
from django.template import Context

from emails.templating import Compiled, email_render
from emails.templating.pieces import Pieces
from emails.templating.rendering import _ENGINE

VALUES: list[dict[str, Any]] = [
    {"name": 'O\'Brien & <Co> "quoted"', "n": 3, "a": {"b": "<deep>"}, "list": ["first", "<second>"]},
    {"name": None, "n": 1.5, "a": {"b": 10**6}, "list": []},
    {"name": True, "n": 1e-7, "a": "not a dict", "list": "string"},
    {"name": "", "n": -0.0, "a": {}, "product_name": "Overridden <b>"},
    {"name": "{0} {name} }}{{ Zoë \U0001f600", "n": "{1}"},
    {},
]
SOURCES = [
    "Dear {{ name }}, you owe {{ n }}.",
    "{{ a.b }} {{ list.0 }} {{ list.1 }} {{ missing }} {{ items }} {{ keys }} {{ None }} {{ True }}",
    "{{ product_name }}: {{ name }}{{ name }}",
    "no variables at all",
    "p { color: red } {0} {{ name }} { {{ n }} }}} ünïcode {{ name }}",
]


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("values", VALUES)
@pytest.mark.parametrize("autoescape", [True, False])
def test_pieces_render_what_django_renders(source: str, values: dict[str, Any], autoescape: bool) -> None:
    template = _ENGINE.from_string(source)
    pieces = Pieces.of(template)
    assert pieces is not None
    scope = {"product_name": "CRM Mail", **values}
    rendered = template.render(Context(scope, autoescape=autoescape))
    assert pieces.render(scope, autoescape=autoescape) == rendered
    assert pieces.size(scope, autoescape=autoescape) == len(rendered.encode())


@pytest.mark.parametrize(
    "source", ["{{ name|upper }}", "{% if name %}x{% endif %}", "{{ 'literal' }}", "{% for x in list %}{% endfor %}"]
)
def test_anything_but_text_and_plain_variables_is_left_to_django(source: str) -> None:
    assert Pieces.of(_ENGINE.from_string(source)) is None


STYLED = """<html><head><style>
  .box { color: #123456; padding: 4px; }
  p { margin: 0; }
  @media (max-width: 480px) { .box { padding: 1px; } }
</style></head><body><div class="box"><p>Hello {{ name }},</p><p>Invoice {{ n }}</p>
<table><tr><td class="box">{{ name }}</td></tr></table></div></body></html>"""
LOOPED = """<html><head><style>td { color: red; }</style></head><body><table>
{% for item in list %}<tr><td>{{ item }}</td></tr>{% endfor %}</table><p>{{ name }}</p></body></html>"""
BY_ATTRIBUTE = """<html><head><style>a[href$=".pdf"] { color: red; }</style></head><body>
<a href="{{ link }}">{{ name }}</a></body></html>"""
IN_THE_CSS = """<html><head><style>p { color: {{ colour }}; }</style></head><body><p>{{ name }}</p></body></html>"""

# Serialised once more by the inliner's HTML parser, with no CSS left to apply: markup that means the same is equal.
_SERIALISE = css_inline.CSSInliner(keep_style_tags=True, keep_at_rules=True, load_remote_stylesheets=False)


@pytest.mark.parametrize("html", [STYLED, LOOPED, BY_ATTRIBUTE, IN_THE_CSS])
@pytest.mark.parametrize("values", VALUES[:3])
def test_a_compiled_template_renders_what_each_message_rendered_alone_would(html: str, values: dict[str, Any]) -> None:
    data = {**values, "link": "https://example.com/report.pdf", "colour": "blue", "list": ["<x>", "y"]}
    compiled = Compiled(subject="For {{ name }}", html=html, text="").render(data)
    alone = email_render(subject="For {{ name }}", html=html, text="", data=data)

    assert compiled.subject == alone.subject
    assert compiled.text.split() == alone.text.split()  # a text table's padding may differ, never its words
    assert _SERIALISE.inline(compiled.html) == _SERIALISE.inline(alone.html)
    assert "<style" not in compiled.html.split("@media")[0] or "@media" in html  # the rules are in the attributes


def test_plain_css_is_inlined_once_into_the_source_and_the_rest_per_message() -> None:
    assert Compiled(subject="s", html=STYLED, text="")._inline is False  # inlined into the source, once
    for html in (LOOPED, BY_ATTRIBUTE, IN_THE_CSS):  # a loop the parser could move, CSS a value could change
        assert Compiled(subject="s", html=html, text="")._inline is True


def test_a_text_table_is_derived_once_from_the_source_and_a_moved_loop_per_message() -> None:
    table = "<table><tr><td>{{ name }}</td><td>{{ n }}</td></tr><tr><td>Total</td><td>9</td></tr></table>"
    assert Compiled(subject="s", html=table, text="")._derive is False
    assert Compiled(subject="s", html=LOOPED, text="")._derive is True  # the loop's rows vanish from the source's text
    rendered = Compiled(subject="s", html=LOOPED, text="").render({"list": ["one", "two"], "name": "N"})
    assert rendered.text.split() == ["one", "two", "N"]


def test_values_stay_escaped_when_the_css_was_inlined_once() -> None:
    html = Compiled(subject="s", html=STYLED, text="").render({"name": "<script>x</script>", "n": 1}).html
    assert "<script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert 'style="color: #123456;padding: 4px;"' in html or "color: #123456" in html
