"""SMS: message parsing, reply texts, transports (Twilio, Android gateway, simulator), webhooks."""

from sms.normalize import normalize
from sms.parser import (
    Cancel,
    Command,
    Help,
    Item,
    Order,
    Proxy,
    Start,
    Status,
    Stop,
    TimeWish,
    Unparseable,
    guess_language,
    parse,
)
from sms.replies import TEMPLATES, render, summarize_items
from sms.segments import encoding, segment_count

__all__ = [
    "TEMPLATES", "Cancel", "Command", "Help", "Item", "Order", "Proxy", "Start", "Status", "Stop",
    "TimeWish", "Unparseable", "encoding", "guess_language", "normalize", "parse", "render",
    "segment_count", "summarize_items",
]
