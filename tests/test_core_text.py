"""core.text's checks, scanned by regular expressions, refuse exactly the characters they name."""

from __future__ import annotations

from core.text import CONTROL_CHARACTERS, NUL_OR_SURROGATE, text_problem


def _rule(ch: str, *, single_line: bool) -> str | None:
    if single_line and ((ord(ch) < 32 and ch != "\t") or ord(ch) == 127):
        return CONTROL_CHARACTERS
    if ch == "\x00" or "\ud800" <= ch <= "\udfff":
        return NUL_OR_SURROGATE
    return None


def test_every_character_of_the_basic_plane_is_judged_by_the_rule() -> None:
    for code in range(0x10000):
        ch = chr(code)
        for single_line in (False, True):
            assert text_problem(f"a{ch}b", single_line=single_line) == _rule(ch, single_line=single_line), hex(code)


def test_a_character_beyond_it_and_a_paired_surrogate_are_fine() -> None:
    assert text_problem("emoji \U0001f600 and \u00e9", single_line=True) is None
    assert text_problem("\ud83d\ude00") == NUL_OR_SURROGATE  # two lone surrogates in a str are still lone
