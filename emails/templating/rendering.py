"""Turning a request's bodies or template into the subject, HTML and text that go out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import css_inline
import nh3
from django.conf import settings
from django.template import Context, Engine, TemplateSyntaxError
from inscriptis import get_text

from emails.exceptions import EmailRenderError
from emails.templating import bounded
from emails.templating.source import variables_of

# Templates are data written by staff and services, so they render in an
# engine that can load nothing from disk ({% include %} and {% extends %} find
# no template) and knows only Django's built-in tags and filters, the padding
# ones bounded (emails.templating.bounded).
_ENGINE = Engine(
    dirs=[], app_dirs=False, loaders=[("django.template.loaders.locmem.Loader", {})], builtins=[bounded.__name__]
)
# @media rules cannot be inlined, so they stay in a <style> block.
_INLINER = css_inline.CSSInliner(keep_style_tags=False, keep_at_rules=True, load_remote_stylesheets=False)


@dataclass(frozen=True)
class Rendered:
    subject: str
    html: str
    text: str


def _plain(rendered: str) -> str:
    """What a template rendered, as a plain str: Django marks it safe, and a page showing it would not escape it."""
    return "" + rendered


def provided() -> dict[str, Any]:
    """What every template's context holds besides the caller's data (source.PROVIDED names them)."""
    return {"product_name": settings.PRODUCT_NAME}


def _render(source: str, data: dict[str, Any], *, autoescape: bool) -> str:
    try:
        template = _ENGINE.from_string(source)
    except TemplateSyntaxError as exc:
        raise EmailRenderError(str(exc)) from exc
    # The caller's data wins over what is provided, as it always could.
    return _plain(template.render(Context({**provided(), **data}, autoescape=autoescape)))


def html_to_text(html: str) -> str:
    return str(get_text(html)).strip()


def email_render(*, subject: str, html: str, text: str, data: dict[str, Any] | None = None) -> Rendered:
    """Render subject, HTML and text as templates, inline CSS, and derive text when absent.

    Without `data` the bodies are taken as written (a plain send, not a
    template), so a literal `{{` in a body is left alone.
    """
    if data is not None:
        subject = _render(subject, data, autoescape=False)
        html = _render(html, data, autoescape=True) if html else ""
        text = _render(text, data, autoescape=False) if text else ""
    # Line breaks in a rendered subject would be a header injection; the
    # subject is one line by definition.
    subject = " ".join(subject.split())
    if html:
        try:
            html = _INLINER.inline(html)
        except ValueError as exc:  # css-inline refuses only CSS it cannot parse
            raise EmailRenderError(f"Could not inline the HTML's CSS: {exc}") from exc
    if not text and html:
        text = html_to_text(html)
    return Rendered(subject=subject, html=html, text=text)


_PREVIEW_TAGS = nh3.ALLOWED_TAGS | {
    "html",
    "body",
    "head",
    "style",
    "center",
    "font",
    "table",
    "tbody",
    "thead",
    "tfoot",
    "tr",
    "td",
    "th",
    "span",
    "div",
    "img",
    "hr",
}
_PREVIEW_ATTRIBUTES: dict[str, set[str]] = {
    "*": {
        "style",
        "class",
        "align",
        "width",
        "height",
        "bgcolor",
        "color",
        "valign",
        "border",
        "cellpadding",
        "cellspacing",
        "title",
        "dir",
        "lang",
    },
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}


def html_sanitise(html: str) -> str:
    """HTML safe to show a signed-in user: no scripts, handlers, forms or frames."""
    return nh3.clean(
        html,
        tags=_PREVIEW_TAGS - {"style"},
        attributes=_PREVIEW_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "cid"},
        link_rel="noopener noreferrer nofollow",
    )


class Compiled:
    """One template compiled once, to render for many recipients (a bulk send): the same output as `email_render`.

    The work every message would repeat is done here once: parsing the three
    sources and, with no text source, deriving the text *template* from the
    HTML source (its variables are kept, so each message's text is rendered,
    not derived again). The CSS is inlined per message only when the HTML has
    a <style> block to inline; otherwise there is nothing to inline.
    """

    def __init__(self, *, subject: str, html: str, text: str) -> None:
        if html and not text:
            text = html_to_text(html)
        self._inline = "<style" in html.lower()
        try:
            self._subject = _ENGINE.from_string(subject)
            self._html = _ENGINE.from_string(html) if html else None
            self._text = _ENGINE.from_string(text) if text else None
        except TemplateSyntaxError as exc:
            raise EmailRenderError(str(exc)) from exc
        self._provided = provided()
        compiled = [t for t in (self._subject, self._html, self._text) if t is not None]
        # What each recipient's data must give (source.variables_of's rule), found once for the bulk.
        self.required = [v.name for v in variables_of(compiled) if v.required]

    def missing(self, data: dict[str, Any]) -> list[str]:
        """The required variables `data` leaves out (absent, None or blank)."""
        return [name for name in self.required if data.get(name) is None or str(data.get(name)).strip() == ""]

    def render(self, data: dict[str, Any]) -> Rendered:
        values = {**self._provided, **data}
        subject = " ".join(self._subject.render(Context(values, autoescape=False)).split())
        html = _plain(self._html.render(Context(values, autoescape=True))) if self._html is not None else ""
        text = _plain(self._text.render(Context(values, autoescape=False))).strip() if self._text is not None else ""
        if html and self._inline:
            try:
                html = _INLINER.inline(html)
            except ValueError as exc:
                raise EmailRenderError(f"Could not inline the HTML's CSS: {exc}") from exc
        return Rendered(subject=subject, html=html, text=text)
