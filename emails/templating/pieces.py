"""Rendering a template of text and plain variables by joining its pieces: Django's output, without its node tree.

A bulk renders one template for every recipient. Most such templates are
text with `{{ name }}`s in it, and Django's renderer spends more on its
context stack and per-node calls than on the values (docs/benchmarks.md,
issue 12). `Pieces` takes a compiled template apart once: when it holds only
text and variables without filters, each render joins the text with each
variable resolved by Django's own `Variable` and made text by Django's own
`render_value_in_context` (localised, escaped when autoescaping): the same
string `Template.render` gives. Any other template (a tag, a filter) is
`None` here and is rendered by Django.
"""

from __future__ import annotations

from html import escape as html_escape
from typing import Any

from django.template import Context, Template, Variable, VariableDoesNotExist
from django.template.base import TextNode, VariableNode, render_value_in_context

# What a Context holds before the caller's data (BaseContext's builtins), so `{{ None }}` resolves as in Django.
_BUILTINS = {"True": True, "False": False, "None": None}


class Pieces:
    def __init__(self, parts: list[str | Variable], invalid: str) -> None:
        self._parts = parts
        self._invalid = invalid
        self._escaping = Context(autoescape=True)
        self._plain = Context(autoescape=False)

    @classmethod
    def of(cls, template: Template) -> Pieces | None:
        """The template's pieces, or None when it has anything but text and filterless variables."""
        if "%s" in template.engine.string_if_invalid:
            return None  # Django formats that with the variable
        parts: list[str | Variable] = []
        for node in template.nodelist:
            if isinstance(node, TextNode):
                parts.append(node.s)
                continue
            if not isinstance(node, VariableNode):
                return None
            expression = node.filter_expression
            var = expression.var
            if expression.filters or not isinstance(var, Variable) or var.lookups is None or var.translate:
                return None
            parts.append(var)
        return cls(parts, template.engine.string_if_invalid)

    @property
    def names(self) -> list[str]:
        """The variables' lookups, dotted as written."""
        return [".".join(part.lookups or ()) for part in self._parts if isinstance(part, Variable)]

    def render(self, values: dict[str, Any], *, autoescape: bool) -> str:
        """What `Template.render(Context(values, autoescape=autoescape))` gives, as a plain str."""
        context = self._escaping if autoescape else self._plain
        scope = {**_BUILTINS, **values}
        out: list[str] = []
        for part in self._parts:
            if isinstance(part, str):
                out.append(part)
                continue
            # A name the scope lacks is missing, as in a Context; a dict would answer `items` with its method.
            try:
                value = part.resolve(scope) if part.lookups and part.lookups[0] in scope else self._invalid
            except VariableDoesNotExist:
                value = self._invalid
            if type(value) is str:  # most data: what render_value_in_context does to a plain str, without its calls
                out.append(html_escape(value) if autoescape else value)
            else:
                out.append(str(render_value_in_context(value, context)))
        return "".join(out)
