"""`inert`: what a terminal is shown of a text that came from a file."""

import pytest

from kzdw.terminal import inert


@pytest.mark.parametrize(
    "text",
    [
        "市场主体登记_补报_20230630.csv",
        "开州区 · 汉丰街道（2023年）",
        "Café ☕ naïve, tabs aside",
        r"C:\landing\permit_cases\办件.xlsx",
        "",
    ],
)
def test_printable_text_is_unchanged(text):
    assert inert(text) == text


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
        # A window-title sequence ended by BEL.
        ("\x1b]0;owned\x07.csv", "\\x1b]0;owned\\x07.csv"),
        ("第一行\n第二行\r\n", "第一行\\n第二行\\r\\n"),
        ("a\tb", "a\\tb"),
        ("ok\x08\x08no", "ok\\x08\\x08no"),
        ("\x00\x7f", "\\x00\\x7f"),
        # C1 controls: U+009B is CSI on its own, U+0085 is NEL.
        ("\x9b2J", "\\x9b2J"),
        ("a\x85b", "a\\x85b"),
    ],
)
def test_controls_become_visible_escapes(text, shown):
    assert inert(text) == shown


def test_undecodable_file_name_bytes_show_as_the_bytes():
    # b"\xff\xfe" is not UTF-8; b"\xe5\xbc\x80" is 开.
    name = b"\xff\xfe\xe5\xbc\x80.csv".decode("utf-8", "surrogateescape")
    assert name == "\udcff\udcfe开.csv"
    assert inert(name) == "\\xff\\xfe开.csv"
    assert inert(name).encode("utf-8")  # printable on a UTF-8 terminal


def test_a_lone_surrogate_outside_surrogateescape_shows_its_code_point():
    assert inert("x\ud800y") == "x\\ud800y"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("发票\u202egpj.exe", "发票\\u202egpj.exe"),
        ("\u202a\u202b\u202c\u202d", "\\u202a\\u202b\\u202c\\u202d"),
        ("\u2066名称\u2069", "\\u2066名称\\u2069"),
        ("\u2067\u2068", "\\u2067\\u2068"),
        ("a\u200fb\u200ec\u061c", "a\\u200fb\\u200ec\\u061c"),
        ("一\u2028二\u2029", "一\\u2028二\\u2029"),
    ],
)
def test_bidi_controls_and_separators_become_visible(text, shown):
    assert inert(text) == shown


@pytest.mark.parametrize(
    ("text", "limit", "shown"),
    [
        ("开州区营商环境报告", 5, "开州区营…"),
        ("abc", 3, "abc"),
        ("abcd", 3, "ab…"),
        ("abcd", 1, "…"),
        # An escape is never cut: "a\\x1bb" is 6 characters; "a" + "\\x1b" would be 5 > 3.
        ("a\x1bb", 4, "a…"),
        ("a\x1bb", 6, "a\\x1bb"),
        ("a\x1bbc", 6, "a\\x1b…"),
    ],
)
def test_limit_cuts_with_an_ellipsis(text, limit, shown):
    assert inert(text, limit) == shown
    assert len(shown) <= limit


def test_limit_must_leave_room():
    with pytest.raises(ValueError):
        inert("abc", 0)
