"""Turning a request's bodies or template into the subject, HTML and text that go out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import css_inline
import nh3
from django.conf import settings
from django.template import Context, Engine, Template, TemplateSyntaxError
from inscriptis import get_text

from emails.exceptions import EmailRenderError
from emails.templating import bounded
from emails.templating.pieces import Pieces
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
        # A link opens in a tab of its own: the preview's sandbox lets it out (allow-popups), never into the frame.
        set_tag_attribute_values={"a": {"target": "_blank"}},
    )


# An image fetched from elsewhere: an <img src> or a CSS url() in a style attribute, absolute or scheme-relative
# (the sanitiser has already dropped every other way to load something).
_REMOTE_IMAGE = re.compile(r"""(?:\bsrc\s*=\s*["']?|url\(\s*(?:&quot;|&#39;|["'])?)\s*(?:https?:)?//""", re.IGNORECASE)


def html_remote_images(html: str) -> bool:
    """Whether sanitised HTML shows images from another host (a tracking pixel, say) once they are allowed."""
    return bool(_REMOTE_IMAGE.search(html))


class Compiled:
    """One template compiled once, to render for many recipients (a bulk send): the same output as `email_render`.

    The work every message would repeat is done here once: parsing the three
    sources; with no text source, deriving the text *template* from the HTML
    source (its variables are kept, so each message's text is rendered, not
    derived again); taking templates of text and plain variables apart into
    `Pieces`, joined per message instead of walked by Django's renderer; and
    inlining the CSS of a <style> block into the HTML source, when
    `_inlined_once` shows that gives what inlining each message would. Else
    the CSS is inlined per message.
    """

    def __init__(self, *, subject: str, html: str, text: str, provided_values: dict[str, Any] | None = None) -> None:
        self.sources = (subject, html, text)
        self._inline = "<style" in html.lower()
        try:
            self._subject = _ENGINE.from_string(subject)
            self._html = _ENGINE.from_string(html) if html else None
            # With no text source, the text is derived from the HTML: once, from its source, when that gives
            # the words deriving each message's would (`_text_once`); else from each message's HTML.
            self._derive = False
            if self._html is not None and not text:
                text = _text_once(self._html) or ""
                self._derive = not text
            self._text = _ENGINE.from_string(text) if text else None
        except TemplateSyntaxError as exc:
            raise EmailRenderError(str(exc)) from exc
        # What the context holds besides the data: as now, or as it was when a bulk was accepted.
        self.provided = provided() if provided_values is None else provided_values
        compiled = [t for t in (self._subject, self._html, self._text) if t is not None]
        # What each recipient's data must give (source.variables_of's rule), found once for the bulk.
        self.required = [v.name for v in variables_of(compiled) if v.required]
        if self._html is not None and self._inline and (inlined := _inlined_once(self._html)) is not None:
            self._html, self._inline = inlined, False
        self._pieces = [Pieces.of(t) if t is not None else None for t in (self._subject, self._html, self._text)]

    @cached_property  # of what __init__ settled; asked once per row of a bulk
    def bodies_repeatable(self) -> bool:
        """Whether the HTML and text are a function of the data alone, rendered again at will: text and plain
        variables joined, with no CSS inlined and no text derived per message (those go through other libraries)."""
        bodies = [(t, p) for t, p in zip((self._html, self._text), self._pieces[1:], strict=True) if t is not None]
        return bool(bodies) and all(p is not None for _, p in bodies) and not self._inline and not self._derive

    def missing(self, data: dict[str, Any]) -> list[str]:
        """The required variables `data` leaves out (absent, None or blank)."""
        return [name for name in self.required if data.get(name) is None or str(data.get(name)).strip() == ""]

    def _part(self, which: int, values: dict[str, Any], *, autoescape: bool) -> str:
        pieces = self._pieces[which]
        if pieces is not None:
            return pieces.render(values, autoescape=autoescape)
        template = (self._subject, self._html, self._text)[which]
        return _plain(template.render(Context(values, autoescape=autoescape))) if template is not None else ""

    def render(self, data: dict[str, Any]) -> Rendered:
        values = {**self.provided, **data}
        subject = " ".join(self._part(0, values, autoescape=False).split())
        html = self._part(1, values, autoescape=True)
        text = self._part(2, values, autoescape=False).strip()
        if html and self._inline:
            try:
                html = _INLINER.inline(html)
            except ValueError as exc:
                raise EmailRenderError(f"Could not inline the HTML's CSS: {exc}") from exc
        if self._derive and html:
            text = html_to_text(html)
        return Rendered(subject=subject, html=html, text=text)

    def subject_and_size(self, data: dict[str, Any]) -> tuple[str, int]:
        """The subject `render` gives, and the UTF-8 bytes of its subject, HTML and text together, without building
        the HTML; only for `bodies_repeatable` templates (whose bodies are not stored, so only their size is)."""
        assert self.bodies_repeatable
        values = {**self.provided, **data}
        subject = " ".join(self._part(0, values, autoescape=False).split())
        html = self._pieces[1].size(values, autoescape=True) if self._pieces[1] is not None else 0
        text = self._part(2, values, autoescape=False).strip()
        return subject, _bytes(subject) + html + _bytes(text)


def _bytes(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode())


def _markers(pieces: Pieces) -> list[dict[str, str]] | None:
    """Two sets of distinct words for the variables of a template of plain variables, one short and one long (a
    layout that depends on a value's length cannot match both); None when a variable is dotted."""
    names = pieces.names
    if any("." in name for name in names):
        return None
    return [{name: f"qx{index}zq{pad}" for index, name in enumerate(names)} for pad in ("", "q" * 40)]


def _words(text: str) -> str:
    return " ".join(text.split())


def _text_once(template: Template) -> str | None:
    """The text template derived from the HTML template's source, if it renders what deriving each message would.

    The HTML-to-text conversion may drop or move text between a table's rows
    (a tag, say), and pads a table's columns to their widest value. So it is
    taken only for templates of text and plain variables, when deriving from
    the HTML rendered with markers for the variables gives the same words in
    the same order as the text template rendered with them; only the padding
    of a text table may differ from deriving each message's text.
    """
    pieces = Pieces.of(template)
    marker_sets = _markers(pieces) if pieces is not None else None
    if pieces is None or marker_sets is None:
        return None
    source = html_to_text(template.source)
    try:
        derived = Pieces.of(_ENGINE.from_string(source))
    except TemplateSyntaxError:
        return None
    for markers in marker_sets:
        expected = html_to_text(pieces.render(markers, autoescape=True))
        if derived is None or _words(derived.render(markers, autoescape=False)) != _words(expected):
            return None
    return source


_STYLE_BLOCK = re.compile(r"<style\b[^>]*>(.*?)</style\s*>", re.IGNORECASE | re.DOTALL)


def _inlined_once(template: Template) -> Template | None:
    """The HTML template with its CSS inlined into the source, if that renders what inlining each message would.

    The HTML parser of the inliner may move text: a variable or a tag
    between a table's rows is put before the table. So it is taken only for
    templates of text and plain variables, and only when rendering both ways
    with a marker for each variable gives the same HTML (a value, escaped,
    is text like a marker). CSS that could select by a value (an attribute
    selector) or that holds a variable keeps the inlining per message.
    """
    pieces, source = Pieces.of(template), template.source
    styles = _STYLE_BLOCK.findall(source)
    if pieces is None or any("[" in css or "{{" in css or "{%" in css for css in styles):
        return None
    marker_sets = _markers(pieces)
    if marker_sets is None:
        return None
    try:
        inlined = _ENGINE.from_string(_INLINER.inline(source))
        once = Pieces.of(inlined)
        for markers in marker_sets:
            if once is None or once.render(markers, autoescape=True) != _INLINER.inline(
                pieces.render(markers, autoescape=True)
            ):
                return None
    except (ValueError, TemplateSyntaxError):
        return None
    return inlined
