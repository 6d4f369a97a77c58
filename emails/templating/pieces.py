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
_MISSING = object()


class Pieces:
    def __init__(self, parts: list[str | Variable], invalid: str) -> None:
        self._parts = parts
        self._invalid = invalid
        self._escaping = Context(autoescape=True)
        self._plain = Context(autoescape=False)
        # The template as a list of its texts with a slot for each variable: a render fills the slots with each
        # distinct variable's value, resolved and made text once however often it appears, and joins the list.
        self._variables: list[Variable] = []
        self._skeleton: list[str] = []
        self._slots: list[tuple[int, int]] = []  # (position in the skeleton, which distinct variable)
        index: dict[tuple[str, ...], int] = {}
        for part in parts:
            if isinstance(part, str):
                self._skeleton.append(part)
                continue
            key = tuple(part.lookups or ())
            if key not in index:
                index[key] = len(self._variables)
                self._variables.append(part)
            self._slots.append((len(self._skeleton), index[key]))
            self._skeleton.append("")
        # Each variable once, by its only name when it has one (looked up directly), and how often it appears.
        self._names = [v.lookups[0] if v.lookups and len(v.lookups) == 1 else None for v in self._variables]
        self._counts = [sum(1 for p in parts if isinstance(p, Variable) and p.lookups == v.lookups)
                        for v in self._variables]  # fmt: skip
        self._static_bytes = sum(len(p.encode()) for p in parts if isinstance(p, str))

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
        texts, out = self._texts(values, autoescape), self._skeleton.copy()
        for position, which in self._slots:
            out[position] = texts[which]
        return "".join(out)

    def size(self, values: dict[str, Any], *, autoescape: bool) -> int:
        """The UTF-8 bytes `render` would give, without joining them."""
        total = self._static_bytes
        for text, count in zip(self._texts(values, autoescape), self._counts, strict=True):
            total += count * (len(text) if text.isascii() else len(text.encode()))
        return total

    def _texts(self, values: dict[str, Any], autoescape: bool) -> list[str]:
        """Each distinct variable's value as the template shows it (escaped when autoescaping)."""
        texts: list[str] = []
        for name, part in zip(self._names, self._variables, strict=True):
            # Most data: a str under a plain name, which Django's lookup would find as it is (values[name]).
            value = values.get(name, _MISSING) if name is not None else _MISSING
            if type(value) is not str:
                value = self._resolve(part, values)
            if type(value) is str:  # what render_value_in_context does to a plain str, without its calls
                texts.append(html_escape(value) if autoescape else value)
            else:
                texts.append(str(render_value_in_context(value, self._escaping if autoescape else self._plain)))
        return texts

    def _resolve(self, part: Variable, values: dict[str, Any]) -> Any:
        """A variable's value as a Context holding `values` gives it (a dotted name, a builtin, a callable)."""
        scope = {**_BUILTINS, **values}
        # A name the scope lacks is missing, as in a Context; a dict would answer `items` with its method.
        try:
            return part.resolve(scope) if part.lookups and part.lookups[0] in scope else self._invalid
        except VariableDoesNotExist:
            return self._invalid
