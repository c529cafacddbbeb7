"""logtext: whatever bytes a task wrote, no line holds a character a terminal would act on;
SGR colours survive as styles; the cut into lines does not depend on how the bytes arrived."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from batchtui.logtext import PLAIN, LineDecoder, SgrStyle, apply_sgr, decode, looks_binary, to_ansi

# Every C0 and C1 control, DEL, and the bidi/invisible characters that reorder or hide text.
UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff]")
OUR_SGR = re.compile(r"\x1b\[[0-9;]*m")

# Bytes that look like what logs hold, hostile sequences included, mixed with anything at all.
PIECES = st.sampled_from(
    [
        b"\x1b[31m",
        b"\x1b[1;38;5;208m",
        b"\x1b[38;2;1;2;3m",
        b"\x1b[0m",
        b"\x1b[m",
        b"\x1b]0;owned\x07",
        b"\x1b]52;c;ZWNobyBoaQ==\x07",
        b"\x1b[2J",
        b"\x1b[H",
        b"\x1b[10;10H",
        b"\x1bc",
        b"\x9b2J",
        b"\xc2\x9b2J",
        b"\x07",
        b"\x00",
        b"\t",
        b"\r",
        b"\r\n",
        b"\n",
        b"\xe2\x80\xae",
        b"\xff\xfe",
        b"\xe2\x82",
        "é漢字🙂".encode(),
        b"Iteration 42: residual 1e-6",
    ]
)
LOGS = st.lists(st.one_of(PIECES, st.binary(max_size=40)), max_size=40).map(b"".join)


@settings(max_examples=300, deadline=None)
@given(LOGS)
def test_no_line_ever_holds_a_control_character(data: bytes) -> None:
    for line in decode(data, max_line_bytes=64):
        assert not UNSAFE.search(line.text), repr(line.text)
        for r in line.styles:
            assert 0 <= r.start < r.end <= len(line.text)


@settings(max_examples=300, deadline=None)
@given(LOGS)
def test_what_reaches_a_terminal_is_only_our_own_sgr(data: bytes) -> None:
    for line in decode(data):
        shown = to_ansi(line)
        assert not UNSAFE.search(OUR_SGR.sub("", shown)), repr(shown)
        assert OUR_SGR.sub("", shown) == line.text


@settings(max_examples=200, deadline=None)
@given(LOGS, st.lists(st.integers(min_value=0, max_value=2000), max_size=8))
def test_the_lines_do_not_depend_on_how_the_bytes_arrived(data: bytes, cuts: list[int]) -> None:
    whole = decode(data, max_line_bytes=32)
    decoder = LineDecoder(max_line_bytes=32)
    got = []
    last = 0
    for cut in sorted(c % (len(data) + 1) for c in cuts):
        got += decoder.feed(data[last:cut])
        last = cut
    got += decoder.feed(data[last:]) + decoder.finish()
    assert got == whole


@given(
    st.text(
        alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Zl", "Zp")), min_size=1, max_size=200
    )
)
def test_ordinary_text_comes_through_unchanged(text: str) -> None:
    lines = decode(text.encode())
    assert [line.text for line in lines] == [text]


def test_sgr_colours_become_styles_that_carry_across_lines() -> None:
    lines = decode(b"\x1b[1;31mERROR\x1b[0m disk full\n\x1b[32mgreen\nstill green\x1b[39m plain\n")
    first, second, third = lines
    assert first.text == "ERROR disk full"
    assert first.styles[0].style == SgrStyle(bold=True, fg="red") and first.styles[0].end == 5
    assert second.styles[0].style.fg == "green"
    assert third.styles[0].style.fg == "green" and third.styles[0].end == len("still green")
    assert apply_sgr(PLAIN, "38;5;208") == SgrStyle(fg="color(208)")
    assert apply_sgr(PLAIN, "48;2;255;0;16") == SgrStyle(bg="#ff0010")
    assert apply_sgr(PLAIN, "94") == SgrStyle(fg="bright_blue")
    assert to_ansi(first) == "\x1b[1;31mERROR\x1b[0m disk full"


def test_every_other_sequence_is_shown_not_obeyed() -> None:
    (line,) = decode(b"a\x1b]0;title\x07b\x1b[2Jc\x00d\xc2\x9be\xe2\x80\xaef\x7f")
    assert line.text == "a␛]0;title␇b␛[2Jc␀d\\x9be\\u202ef␡"
    (bad,) = decode(b"caf\xe9 \xff")
    assert bad.text == "caf\ufffd \ufffd"


def test_carriage_returns_and_long_lines_split_without_hiding_anything() -> None:
    lines = decode(b" 10%|#   |\r 50%|##  |\r100%|####|\r\n" + b"x" * 100 + b"\n", max_line_bytes=40)
    assert [line.text for line in lines[:3]] == [" 10%|#   |", " 50%|##  |", "100%|####|"]
    assert [line.continued for line in lines[:3]] == [True, True, False]
    long = lines[3:]
    assert "".join(line.text for line in long) == "x" * 100
    assert [line.continued for line in long] == [True, True, False]
    # a split never cuts a UTF-8 character in two
    accents = ("é" * 50).encode()
    assert "".join(line.text for line in decode(accents, max_line_bytes=17)) == "é" * 50


def test_tabs_become_spaces_to_the_next_stop() -> None:
    assert decode(b"ab\tc\td")[0].text == "ab      c       d"


def test_binary_files_are_told_apart_from_logs_with_a_few_nuls() -> None:
    assert looks_binary(bytes(range(256)) * 8)
    assert looks_binary(b"\x89PNG\r\n\x1a\n" + bytes(4000))
    assert not looks_binary(b"step 1 ok\n" * 400 + b"\x00\x00\x00")
    assert not looks_binary("résumé ✓\n".encode() * 300)
    assert not looks_binary(b"")
