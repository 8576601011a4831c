"""Text that comes from people: cleaned where it enters, and told apart from blank.

PostgreSQL refuses a NUL byte in a text column and neither database can encode a lone UTF-16
surrogate (`"\\ud800"` in a JSON payload), so either one made every save of a form fail,
however often Save was pressed. `clean` makes such text storable and keeps everything a
person can see; `is_blank` treats text that shows nothing as empty."""

from __future__ import annotations

import re
import unicodedata

REPLACEMENT = "\ufffd"
# Category Cc (C0, DEL and C1 controls) without tab and newline, which people type.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# Characters that show nothing yet are neither whitespace nor format characters (Cf, such as
# the zero-width space and joiners, U+2060 and U+FEFF, which are caught by their category):
# the combining grapheme joiner, Hangul and Khmer fillers, the blank Braille pattern and the
# variation selectors.
_INVISIBLE = re.compile(
    "[\u034f\u115f\u1160\u17b4\u17b5\u2800\u3164\uffa0\ufe00-\ufe0f\U000e0100-\U000e01ef]"
)
_SHOWS_NOTHING = frozenset(("Cc", "Cf", "Cs", "Zl", "Zp", "Zs"))


def clean(text: str) -> str:
    """`text` without NUL and other control characters (newline and tab stay), with each lone
    surrogate replaced by U+FFFD and every line ending made `\\n`."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _SURROGATE.sub(REPLACEMENT, _CONTROL.sub("", text))


def is_blank(text: str | None) -> bool:
    """Whether `text` shows nothing: empty, or only whitespace and invisible characters."""
    if not text:
        return True
    return all(unicodedata.category(ch) in _SHOWS_NOTHING or _INVISIBLE.match(ch) for ch in text)
