"""Text from files and tables, made safe to print on a terminal.

A file name, a header or a cell value comes from a source system and is data: printed as it
stands, an escape sequence in it would recolour the terminal, move the cursor, retitle the
window or (on some terminals) answer back as typed input; a carriage return or backspace
would overwrite what was printed before it; a bidi override would show `gpj.exe` as
`exe.jpg`. `inert` shows every such character as a visible escape instead.
"""

from __future__ import annotations

import re

ELLIPSIS = "…"

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

# C0 controls, DEL and C1 controls (U+009B is the one-character CSI); every UTF-16 surrogate
# (a Python str holds one alone only from surrogateescape or surrogatepass decoding); the
# bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) and the three bidi
# marks, which reorder what follows them (Trojan Source, CVE-2021-42574); and the line and
# paragraph separators, which some terminals and viewers take as a line break.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u2028\u2029]"
)


def _escape(ch: str) -> str:
    named = _NAMED.get(ch)
    if named is not None:
        return named
    code = ord(ch)
    if code <= 0x9F:
        return f"\\x{code:02x}"
    if 0xDC80 <= code <= 0xDCFF:
        # surrogateescape's stand-in for an undecodable byte: show the byte itself.
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}"


def _escape_match(match: re.Match[str]) -> str:
    return _escape(match.group())


def inert(text: str, limit: int | None = None) -> str:
    """`text` with every control character, surrogate and bidi control shown as a visible
    escape (`\\x1b`, `\\n`, `\\xff` for an undecodable file-name byte, `\\u202e`); other text,
    Chinese included, unchanged.

    With `limit`, the result has at most `limit` characters: a longer one is cut, never inside
    an escape, and ends with `…`.
    """
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    shown = _UNSAFE.sub(_escape_match, text)
    if limit is None or len(shown) <= limit:
        return shown
    pieces: list[str] = []
    room = limit - len(ELLIPSIS)
    for ch in text:
        piece = _escape(ch) if _UNSAFE.match(ch) else ch
        if len(piece) > room:
            break
        pieces.append(piece)
        room -= len(piece)
    return "".join(pieces) + ELLIPSIS
