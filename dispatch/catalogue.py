"""Estimated weights of what residents order, so batches can respect couriers' and drones' loads.

Free-text items ("米5kg", "milk") get a weight per unit: an explicit weight in the name wins
("米5kg" = 5 kg), then a small table of everyday goods, then a cautious default. Operators can
correct a weight in the console; the estimate only has to be safe for planning.

Some goods also need a trained courier (:func:`training_needed`): medicine is handed over in
person by a volunteer trained for it, whether the order came by SMS, the web or the phone.
"""

from __future__ import annotations

import re
import unicodedata

DEFAULT_UNIT_KG = 1.0
#: Parcels are packed up to this weight; a heavier order travels as several parcels.
PARCEL_KG = 5.0

_EXPLICIT = re.compile(r"(\d+(?:\.\d+)?)\s*(kg|g|l|ml|キロ|リットル)", re.IGNORECASE)
_FACTOR = {"kg": 1.0, "キロ": 1.0, "g": 0.001, "l": 1.0, "リットル": 1.0, "ml": 0.001}

#: kg per unit of common goods (ja and en names); approximate shop sizes.
_TABLE: dict[str, float] = {
    "米": 5.0, "rice": 5.0, "お米": 5.0,
    "牛乳": 1.05, "milk": 1.05,
    "卵": 0.65, "たまご": 0.65, "eggs": 0.65, "egg": 0.65,
    "パン": 0.4, "食パン": 0.4, "bread": 0.4,
    "水": 2.0, "water": 2.0, "お茶": 2.0, "tea": 0.5,
    "豆腐": 0.4, "tofu": 0.4, "納豆": 0.15, "natto": 0.15,
    "薬": 0.2, "medicine": 0.2, "おむつ": 1.5, "diapers": 1.5,
    "トイレットペーパー": 1.2, "toilet paper": 1.2, "灯油": 18.0, "kerosene": 18.0,
    "野菜": 1.0, "vegetables": 1.0, "果物": 1.0, "fruit": 1.0, "魚": 0.6, "fish": 0.6,
    "肉": 0.5, "meat": 0.5, "弁当": 0.5, "bento": 0.5, "新聞": 0.2, "newspaper": 0.2,
}


def unit_weight_kg(name: str) -> float:
    """Estimated kg for one unit of ``name``."""
    text = unicodedata.normalize("NFKC", name).strip().lower()
    explicit = _EXPLICIT.search(text)
    if explicit:
        return round(float(explicit.group(1)) * _FACTOR[explicit.group(2).lower()], 3) or 0.001
    for key in sorted(_TABLE, key=len, reverse=True):
        if key in text:
            return _TABLE[key]
    return DEFAULT_UNIT_KG


#: Goods only a courier with the training may hand over (``TRAINING``), whichever channel ordered
#: them: medicine must reach the resident in person, with the dose explained.
_NEEDS_TRAINING: dict[str, str] = {"薬": "medicine", "medicine": "medicine", "処方": "medicine",
                                   "湿布": "medicine", "目薬": "medicine"}


def training_needed(name: str) -> str:
    """The training a courier needs to deliver ``name`` ("medicine"), or "" for any courier."""
    text = unicodedata.normalize("NFKC", name).strip().lower()
    return next((course for key, course in _NEEDS_TRAINING.items() if key in text), "")


def parcels_for(weight_kg: float) -> int:
    """How many parcels an order of ``weight_kg`` is packed into (at least one)."""
    whole = int(weight_kg // PARCEL_KG)
    return max(1, whole + (1 if weight_kg - whole * PARCEL_KG > 1e-9 else 0))
