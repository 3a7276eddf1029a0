"""The confirmation step of actions that text people or change confirmed plans (issue 16, item 3).

The page says what the action will do with the service's own figures
(:func:`dispatch.services.rehearsal.rehearse`: the action run now, rolled back), then offers the
action (a POST to the action's own route, CSRF-protected) or going back. An action that would be
refused says why, and its button is disabled.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import render_template
from flask_babel import gettext as _

from dispatch.services.rehearsal import Preview
from web.phrases import say


@dataclass(frozen=True)
class Step:
    """One confirmation page: what is asked, what will happen, where the action posts."""

    title: str
    submit: str
    action: str  # the URL the form posts to
    back: str
    fields: tuple[tuple[str, str], ...]
    texts: str  # who will be texted
    effects: tuple[str, ...]
    refusal: str | None
    undo: str = ""  # how to undo it, when it can be undone


def texted(preview: Preview[Any]) -> str:
    """Who the action texts, e.g. "15 resident(s) and 2 courier(s) will be texted."."""
    if not preview.texts:
        return _("Nobody will be texted.")
    return _("%(residents)s resident(s) and %(couriers)s courier(s) will be texted.",
             residents=preview.residents, couriers=preview.couriers)


def confirmation_page(preview: Preview[Any], *, title: str, submit: str, action: str, back: str,
                      effects: Iterable[str] = (), fields: Iterable[tuple[str, str]] = (),
                      undo: str = "") -> Any:
    """Render the step for ``preview`` (its refusal, if any, in the operator's words)."""
    step = Step(title=title, submit=submit, action=action, back=back, fields=tuple(fields),
                texts=texted(preview), effects=tuple(effects),
                refusal=say(preview.refusal) if preview.refusal is not None else None, undo=undo)
    return render_template("confirm_step.html", step=step)
