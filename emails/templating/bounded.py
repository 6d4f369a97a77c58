"""Django's padding and formatting filters with their widths bounded: a template is data written by users.

`{{ name|ljust:"2000000000" }}` would have Django allocate gigabytes for one
render (a preview as you type, or a send). These take the place of the
built-in filters of the same names in the templating engines; what they do
within the bounds is Django's own.
"""

from __future__ import annotations

import re
from typing import Any

from django import template
from django.template import defaultfilters

register = template.Library()

MAX_WIDTH = 500
MAX_DECIMALS = 30
_NUMBER = re.compile(r"\d+")


def _width(arg: Any) -> int:
    try:
        return max(-MAX_WIDTH, min(int(arg), MAX_WIDTH))
    except (TypeError, ValueError):
        return 0


@register.filter(is_safe=True)
@defaultfilters.stringfilter
def ljust(value: str, arg: Any) -> str:
    return value.ljust(_width(arg))


@register.filter(is_safe=True)
@defaultfilters.stringfilter
def rjust(value: str, arg: Any) -> str:
    return value.rjust(_width(arg))


@register.filter(is_safe=True)
@defaultfilters.stringfilter
def center(value: str, arg: Any) -> str:
    return value.center(_width(arg))


@register.filter(is_safe=True)
def stringformat(value: Any, arg: Any) -> str:
    """Python's %-formatting, as Django's filter, unless a width or precision in it is past MAX_WIDTH (then "")."""
    if any(int(number) > MAX_WIDTH for number in _NUMBER.findall(str(arg))):
        return ""
    return str(defaultfilters.stringformat(value, arg))


@register.filter(is_safe=True)
def floatformat(value: Any, arg: Any = -1) -> str:
    """Django's floatformat, its number of decimals at most MAX_DECIMALS."""
    text = str(arg)
    digits = _NUMBER.search(text)
    if digits and int(digits.group()) > MAX_DECIMALS:
        text = text.replace(digits.group(), str(MAX_DECIMALS), 1)
    return str(defaultfilters.floatformat(value, text))
