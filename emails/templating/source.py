"""A template's source read as Django reads it: its syntax errors (with the line) and the variables it uses.

A variable is required unless every use of it is optional: inside an
`{% if %}` (or its condition), or behind `|default` (or `|default_if_none`).
Names a template binds itself (`{% for item in items %}`, `{% with x=... %}`)
and the names the renderer always provides are not variables of the template.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, cast

from django.template import Engine, TemplateSyntaxError
from django.template.base import FilterExpression, Node, NodeList, Template, VariableNode
from django.template.defaulttags import FirstOfNode, ForNode, IfNode, WithNode

from emails.templating import bounded

# The same engine as rendering's, with debug on: a syntax error then knows its line.
_CHECKING_ENGINE = Engine(
    dirs=[],
    app_dirs=False,
    loaders=[("django.template.loaders.locmem.Loader", {})],
    builtins=[bounded.__name__],
    debug=True,
)
# Filters that make a missing variable fine.
_DEFAULTING = frozenset({"default", "default_if_none"})
# What the renderer puts in every template's context (rendering.PROVIDED).
PROVIDED = frozenset({"product_name"})


@dataclass(frozen=True)
class SourceError:
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"Line {self.line}: {self.message}" if self.line else self.message


@dataclass(frozen=True)
class Variable:
    name: str
    required: bool

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "required": self.required}


def source_compile(source: str) -> Template | SourceError:
    """The compiled template, or its first syntax error with the line it is on."""
    try:
        return _CHECKING_ENGINE.from_string(source)
    except TemplateSyntaxError as exc:
        debug = getattr(exc, "template_debug", None) or {}
        message = str(exc)
        # Django's own message sometimes names the line already ("Unclosed tag on line 2").
        return SourceError(line=debug.get("line"), message=message)


def variables_of(templates: Iterable[Template]) -> list[Variable]:
    """The variables the compiled templates use, in order of first use, each required or not."""
    seen: dict[str, bool] = {}
    for template in templates:
        for name, optional in _uses(template.nodelist, optional=False, bound=frozenset()):
            seen[name] = seen.get(name, False) or not optional
    return [Variable(name=name, required=required) for name, required in seen.items()]


def _uses(nodes: NodeList, *, optional: bool, bound: frozenset[str]) -> Iterator[tuple[str, bool]]:
    for node in nodes:
        yield from _node_uses(node, optional=optional, bound=bound)


def _node_uses(node: Node, *, optional: bool, bound: frozenset[str]) -> Iterator[tuple[str, bool]]:
    if isinstance(node, VariableNode):
        yield from _expression_uses(node.filter_expression, optional=optional, bound=bound)
    elif isinstance(node, IfNode):
        for condition, nodelist in node.conditions_nodelists:
            if condition is not None:
                yield from _condition_uses(condition, bound=bound)
            yield from _uses(nodelist, optional=True, bound=bound)
    elif isinstance(node, ForNode):
        # django-stubs types these loosely; Django sets a FilterExpression and two NodeLists.
        yield from _expression_uses(cast(FilterExpression, node.sequence), optional=optional, bound=bound)
        inner = bound | set(node.loopvars) | {"forloop"}
        yield from _uses(cast(NodeList, node.nodelist_loop), optional=optional, bound=inner)
        yield from _uses(cast(NodeList, node.nodelist_empty), optional=optional, bound=bound)
    elif isinstance(node, WithNode):
        for expression in node.extra_context.values():
            yield from _expression_uses(expression, optional=optional, bound=bound)
        yield from _uses(node.nodelist, optional=optional, bound=bound | set(node.extra_context))
    elif isinstance(node, FirstOfNode):
        # {% firstof a b "fallback" %}: each is tried in turn, so none is needed.
        for expression in node.vars:
            yield from _expression_uses(expression, optional=True, bound=bound)
    else:
        # Any other tag: the expressions it holds, then its children.
        for value in vars(node).values():
            for expression in _expressions_in(value):
                yield from _expression_uses(expression, optional=optional, bound=bound)
        for attribute in node.child_nodelists:
            yield from _uses(getattr(node, attribute, None) or NodeList(), optional=optional, bound=bound)


def _expressions_in(value: Any) -> Iterator[FilterExpression]:
    if isinstance(value, FilterExpression):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            if isinstance(item, FilterExpression):
                yield item
    elif isinstance(value, dict):
        for item in value.values():
            if isinstance(item, FilterExpression):
                yield item


def _expression_uses(
    expression: FilterExpression, *, optional: bool, bound: frozenset[str]
) -> Iterator[tuple[str, bool]]:
    defaulted = optional or any(getattr(func, "__name__", "") in _DEFAULTING for func, _ in expression.filters)
    if (name := _name_of(expression.var, bound)) is not None:
        yield name, defaulted
    # A filter's argument may itself be a variable: {{ a|default:b }}.
    for _, arguments in expression.filters:
        for lookup, argument in arguments:
            if lookup and (name := _name_of(argument, bound)) is not None:
                yield name, True if defaulted else optional


def _condition_uses(condition: Any, *, bound: frozenset[str]) -> Iterator[tuple[str, bool]]:
    """An {% if %} condition's variables (a tree of smartif operators over literals): all optional."""
    expression = getattr(condition, "value", None)
    if isinstance(expression, FilterExpression):
        yield from _expression_uses(expression, optional=True, bound=bound)
    for side in ("first", "second"):
        if (child := getattr(condition, side, None)) is not None:
            yield from _condition_uses(child, bound=bound)


def _name_of(var: Any, bound: frozenset[str]) -> str | None:
    """The top-level name a Variable looks up (`user` of `user.name`), unless a literal, bound or provided."""
    lookups = getattr(var, "lookups", None)
    if not lookups:
        return None  # a literal: a string, a number, True/False/None
    name = str(lookups[0])
    if name in bound or name in PROVIDED:
        return None
    return name
