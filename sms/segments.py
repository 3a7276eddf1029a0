"""How many SMS segments a text costs, per 3GPP TS 23.038 / 23.040.

A text that uses only the GSM 03.38 default alphabet (plus its extension table) is sent as
GSM-7: 160 septets in a single message, 153 per part once it has to be concatenated (the user
data header takes the rest). Extension characters (``{ } [ ] \\ | ^ ~ €`` and form feed) cost two
septets, an escape and the character, and are never split across two parts. Any other character
(all Japanese text) switches the whole message to UCS-2: 70 UTF-16 code units single, 67 per
part; characters outside the Basic Multilingual Plane take two units (a surrogate pair) and are
never split either.

Carriers bill and deliver per segment and old handsets show long messages badly, which is why
:mod:`sms.replies` keeps every reply inside a declared segment budget.
"""

from __future__ import annotations

from typing import Final, Literal

Encoding = Literal["GSM-7", "UCS-2"]

#: The GSM 03.38 default alphabet (one septet each).
GSM7_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: The GSM 03.38 extension table (an escape plus the character: two septets each).
GSM7_EXTENSION: Final = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE: Final = 160
GSM7_PART: Final = 153
UCS2_SINGLE: Final = 70
UCS2_PART: Final = 67


def encoding(text: str) -> Encoding:
    """``"GSM-7"`` when every character is in the GSM alphabet or its extension, else ``"UCS-2"``."""
    if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text):
        return "GSM-7"
    return "UCS-2"


def _units(text: str, enc: Encoding) -> list[int]:
    """Cost of each character in septets (GSM-7) or UTF-16 code units (UCS-2)."""
    if enc == "GSM-7":
        return [2 if c in GSM7_EXTENSION else 1 for c in text]
    return [2 if ord(c) > 0xFFFF else 1 for c in text]


def length_units(text: str) -> int:
    """Length in the units of its encoding: septets for GSM-7, UTF-16 code units for UCS-2."""
    return sum(_units(text, encoding(text)))


def segment_count(text: str) -> int:
    """Number of SMS segments needed to send ``text``; 0 for the empty string (nothing is sent)."""
    enc = encoding(text)
    units = _units(text, enc)
    single, part = (GSM7_SINGLE, GSM7_PART) if enc == "GSM-7" else (UCS2_SINGLE, UCS2_PART)
    if sum(units) <= single:
        return 1 if units else 0
    parts, used = 1, 0
    for cost in units:  # greedy packing: a two-unit character never straddles two parts
        if used + cost > part:
            parts, used = parts + 1, 0
        used += cost
    return parts
