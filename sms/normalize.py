"""Text normalisation for inbound SMS, before any parsing.

Residents type on feature phones, smartphones with Japanese IMEs and sometimes copy text from
elsewhere, so the same order arrives as ``注文　米５ｋｇ　１``, ``注文 米5kg 1`` or with emoji, line
breaks and invisible characters. :func:`normalize` maps all of these to one plain form so the
parser only has to understand one spelling:

1. a raw input longer than :data:`RAW_LIMIT` is cut first (a bound on work, not on meaning);
2. line breaks of every kind become :data:`ITEM_SEPARATOR`;
3. control, format (bidi overrides such as RLO, zero-width joiners, BOM), private-use (carrier
   emoji), surrogate and unassigned code points, variation selectors and emoji modifiers are
   removed;
4. NFKC: full-width digits, letters, spaces and punctuation become ASCII, ``㎏`` becomes ``kg``,
   half-width katakana become full-width;
5. pictographs and other symbols (Unicode category ``So``, e.g. 🍚 ❤ ♪) become a space, so
   ``rice🍚2`` still reads as ``rice 2``;
6. item separators (``、 , ， ・ / ; 。`` and line breaks) become :data:`ITEM_SEPARATOR` with no
   space around it, and empty items disappear;
7. runs of whitespace become one ASCII space; leading and trailing spaces and separators go;
8. the result is cut to :data:`MAX_CHARS` characters.

The function is idempotent (``normalize(normalize(x)) == normalize(x)``) and never raises; both
are property-tested. The raw text is stored unchanged elsewhere, so nothing here loses evidence.
"""

from __future__ import annotations

import re
import unicodedata

#: The one separator between items left after normalisation.
ITEM_SEPARATOR = ","

#: Longest normalised text, in characters. Twilio accepts at most 1,600 characters per message
#: (about ten concatenated segments), so anything longer is not a real SMS; the parser refuses
#: text that had to be cut rather than act on half an order.
MAX_CHARS = 1600

#: Raw input beyond this many characters is cut before any work is done, so a hostile megabyte
#: costs no more than a long SMS. Generous enough that removals and NFKC expansion cannot bring
#: a cut text back under :data:`MAX_CHARS`.
RAW_LIMIT = 8 * MAX_CHARS

_LINE_BREAKS = re.compile(r"\r\n|[\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
_SEPARATORS = re.compile(r"\s*(?:[、,，・･/／;；。｡]\s*)+")
_SPACES = re.compile(r"\s+")
_REMOVED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


def _is_removed(char: str) -> bool:
    """True for invisible or presentation-only code points that would split or hide words."""
    code = ord(char)
    if char == "\t":
        return False
    if 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF:  # variation selectors
        return True
    if 0x1F3FB <= code <= 0x1F3FF or code == 0x20E3:  # skin tones, keycap combiner
        return True
    return unicodedata.category(char) in _REMOVED_CATEGORIES


def _strip_invisible(text: str) -> str:
    return "".join(c for c in text if not _is_removed(c))


def _symbols_to_space(text: str) -> str:
    return "".join(" " if unicodedata.category(c) == "So" else c for c in text)


def _tidy(text: str) -> str:
    """Unify separators and whitespace; trim the ends."""
    text = _SEPARATORS.sub(ITEM_SEPARATOR, text)
    text = _SPACES.sub(" ", text)
    return text.strip(" " + ITEM_SEPARATOR)


def normalize_with_flag(text: str) -> tuple[str, bool]:
    """Return the normalised text and whether it had to be cut to :data:`MAX_CHARS`."""
    if not isinstance(text, str):  # defensive: webhooks hand us whatever the form held
        text = "" if text is None else str(text)
    text = text[:RAW_LIMIT]
    text = _LINE_BREAKS.sub(ITEM_SEPARATOR, text)
    text = _strip_invisible(text)
    text = unicodedata.normalize("NFKC", text)
    # NFKC can surface characters of the removed kinds (e.g. from compatibility forms).
    text = _strip_invisible(_symbols_to_space(text))
    text = _tidy(text)
    cut = len(text) > MAX_CHARS
    if cut:
        text = _tidy(text[:MAX_CHARS])
    return text, cut


def normalize(text: str) -> str:
    """Return ``text`` in the one plain form the parser understands (see the module docstring)."""
    return normalize_with_flag(text)[0]
