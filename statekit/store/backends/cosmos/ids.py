"""Cosmos DB item ids for statekit keys: reversible, within the id rules.

Cosmos DB ids may not contain '/', '\\', '?' or '#' and are at most 255
characters; statekit keys are at most 200 UTF-8 bytes without control
characters. The readable form escapes the four characters (and the escape
character '~' itself) as '~' plus one letter, so ``cart-42/line-1`` is
``cart-42~sline-1`` in the portal. Escaping can double the length, so a key
whose readable form would be longer than 255 characters uses the compact form
instead: ``~z`` and base85 of its UTF-8 bytes (at most 2 + 250 characters). The
readable form never starts with ``~z`` ('~' is always followed by one of
``s b q h t w``), so the two forms never collide and every id decodes to one key.
Cosmos DB also refuses an id ending in a space (or newline, which the key rules
already refuse): a trailing space is written ``~w``, so any valid key is an id.
"""

from __future__ import annotations

import base64

MAX_ID_CHARS = 255
_ESCAPE = "~"
_COMPACT_MARK = "~z"
_ESCAPES = {"/": "s", "\\": "b", "?": "q", "#": "h", "~": "t"}
_TRAILING_SPACE = "w"
_UNESCAPES = {letter: char for char, letter in _ESCAPES.items()} | {_TRAILING_SPACE: " "}
_ESCAPE_TABLE = str.maketrans({char: _ESCAPE + letter for char, letter in _ESCAPES.items()})
# Python's base85 alphabet includes '#' and '?': swap them for two characters it lacks.
_B85_TO_ID = str.maketrans({"#": ",", "?": "."})
_ID_TO_B85 = str.maketrans({",": "#", ".": "?"})


def key_to_id(key: str) -> str:
    readable = key.translate(_ESCAPE_TABLE)
    if readable.endswith(" "):
        readable = readable[:-1] + _ESCAPE + _TRAILING_SPACE
    if len(readable) <= MAX_ID_CHARS:
        return readable
    compact = base64.b85encode(key.encode("utf-8")).decode("ascii").translate(_B85_TO_ID)
    return _COMPACT_MARK + compact


def id_to_key(item_id: str) -> str:
    if item_id.startswith(_COMPACT_MARK):
        raw = item_id[len(_COMPACT_MARK) :].translate(_ID_TO_B85)
        return base64.b85decode(raw).decode("utf-8")
    out: list[str] = []
    chars = iter(item_id)
    for char in chars:
        if char == _ESCAPE:
            letter = next(chars, "")
            if letter not in _UNESCAPES:
                raise ValueError(f"not a statekit Cosmos id: {item_id!r}")
            out.append(_UNESCAPES[letter])
        else:
            out.append(char)
    return "".join(out)
