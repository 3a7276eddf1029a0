"""Proxies: registering, editing and revoking who may order for a resident, with the consent record.

A proxy is a relative, a welfare worker, hub staff or a neighbour who orders for a resident (by
SMS ``代理 <code> …``, on the residents' page, or by calling the hub). Every proxy carries the
resident's consent: who consented (the resident or their guardian), when, how (in person, a paper
form, on the phone), what it covers (ordering, receiving parcels) and the operator who recorded
it. The resident and the proxy are both texted when a proxy is added or removed, in the same
transaction, so nobody can be made someone's proxy silently. Revoking keeps the row (the orders a
proxy placed keep pointing at it) with when and by whom it was revoked.

The console, the review queue and the region files (``proxies.csv``) all go through
:func:`save_proxy` and :func:`revoke`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.db import Database
from dispatch.errors import DomainError, NotFound
from dispatch.models import Proxy, Resident
from dispatch.models.region import CONSENT_METHODS, PROXY_RELATIONS
from dispatch.services import outbox
from dispatch.services.free_text import checked_text

E164 = re.compile(r"\+[1-9]\d{7,14}")
MAX_NOTE = 300


@dataclass(frozen=True)
class Consent:
    """The resident's consent to a proxy, as the operator recorded it."""

    consented_by: str  # the resident's own name, or the guardian who consented for them
    method: str  # one of CONSENT_METHODS
    at: dt.datetime  # when the consent was given
    ordering: bool = True  # the proxy may order for the resident
    receiving: bool = False  # the proxy may receive the resident's parcels
    note: str = ""


def ordering_proxy(session: Session, phone: str, resident_id: str) -> Proxy | None:
    """The active proxy at ``phone`` allowed to order for ``resident_id``, if any."""
    return session.scalars(
        select(Proxy).where(
            Proxy.phone == phone, Proxy.resident_id == resident_id, Proxy.active, Proxy.covers_ordering
        )
    ).first()


def _checked(name: str, phone: str, relation: str, consent: Consent) -> tuple[str, str, str]:
    who = checked_text(name, "name", 200, required=True)
    if not E164.fullmatch(phone or ""):
        raise DomainError("%(phone)s is not a phone number in E.164 form (+81…)", phone=phone)
    if relation not in PROXY_RELATIONS:
        raise DomainError(
            "relation '%(relation)s': expected one of %(expected)s",
            relation=relation,
            expected=", ".join(PROXY_RELATIONS),
        )
    if consent.method not in CONSENT_METHODS:
        raise DomainError(
            "consent method '%(method)s': expected one of %(expected)s",
            method=consent.method,
            expected=", ".join(CONSENT_METHODS),
        )
    if not (consent.ordering or consent.receiving):
        raise DomainError("the consent must cover ordering, receiving or both")
    by = checked_text(consent.consented_by, "name of who consented", 200, required=True)
    note = checked_text(consent.note, "consent note", MAX_NOTE)
    return who, by, note


def save_proxy(
    session: Session,
    resident: Resident,
    *,
    name: str,
    phone: str,
    relation: str,
    consent: Consent,
    user_id: str | None,
    now: dt.datetime,
    proxy_id: str | None = None,
) -> Proxy:
    """Register (or, with ``proxy_id``, edit) a proxy of ``resident`` inside ``session``.

    A number registered before and revoked is taken up again with the new consent. The resident
    and the proxy are texted when the proxy is new or comes back; an edit of an active proxy
    (a corrected name, a wider consent) texts nobody.
    """
    who, by, note = _checked(name, phone, relation, consent)
    if phone == resident.phone:
        raise DomainError("this is the resident's own number: no proxy is needed")
    if proxy_id is not None:
        proxy = session.get(Proxy, proxy_id)
        if proxy is None or proxy.resident_id != resident.id:
            raise NotFound(f"proxy {proxy_id} not found")
        if proxy.phone != phone:
            raise DomainError("a proxy's number cannot change: revoke it and add the new number")
    else:
        proxy = session.scalars(
            select(Proxy).where(Proxy.resident_id == resident.id, Proxy.phone == phone)
        ).first()
    added = proxy is None or not proxy.active
    if proxy is None:
        proxy = Proxy(resident_id=resident.id, phone=phone)
        session.add(proxy)
    proxy.name, proxy.relation, proxy.active = who, relation, True
    proxy.consented_by, proxy.consent_method, proxy.consent_note = by, consent.method, note
    proxy.consent_recorded_at = consent.at
    proxy.covers_ordering, proxy.covers_receiving = consent.ordering, consent.receiving
    proxy.recorded_by_user_id = user_id
    proxy.revoked_at = proxy.revoked_by_user_id = None
    session.flush()
    if added:
        _tell_both(session, proxy, resident, "proxy_added", "proxy_registered", now)
    return proxy


def revoke(session: Session, proxy: Proxy, *, user_id: str | None, now: dt.datetime) -> bool:
    """Revoke ``proxy`` (texting the resident and the proxy); False when it was revoked already."""
    if not proxy.active:
        return False
    proxy.active = False
    proxy.revoked_at, proxy.revoked_by_user_id = now, user_id
    resident = session.get(Resident, proxy.resident_id)
    assert resident is not None
    _tell_both(session, proxy, resident, "proxy_removed", "proxy_revoked", now)
    return True


def _tell_both(
    session: Session, proxy: Proxy, resident: Resident, to_resident: str, to_proxy: str, now: dt.datetime
) -> None:
    """Text the resident (naming the proxy) and the proxy (naming the resident and the code to
    quote in ``代理 <code> …``), both in the resident's language."""
    stamp = f"{proxy.id}:{now.isoformat()}"
    outbox.queue(
        session,
        resident.phone,
        to_resident,
        {"name": proxy.name, "tail": proxy.phone[-4:]},
        resident.language,
        resident_id=resident.id,
        now=now,
        dedupe_key=f"{to_resident}:{stamp}",
    )
    outbox.queue(
        session,
        proxy.phone,
        to_proxy,
        {"name": resident.name, "resident": resident.code},
        resident.language,
        now=now,
        dedupe_key=f"{to_proxy}:{stamp}",
    )


def resident_in_scope(session: Session, resident_id: str, hub_ids: set[str] | None) -> Resident:
    """The resident, or :class:`NotFound` (also for a resident of a hub outside ``hub_ids``)."""
    resident = session.get(Resident, resident_id)
    if resident is None or (hub_ids is not None and resident.hub_id not in hub_ids):
        raise NotFound(f"resident {resident_id} not found")
    return resident


def register(
    db: Database,
    resident_id: str,
    *,
    name: str,
    phone: str,
    relation: str,
    consent: Consent,
    user_id: str | None,
    now: dt.datetime,
    hub_ids: set[str] | None = None,
    proxy_id: str | None = None,
) -> str:
    """The console's use case: add (or edit) a proxy of a resident of the operator's hubs."""
    with db.write() as session:
        resident = resident_in_scope(session, resident_id, hub_ids)
        return save_proxy(
            session,
            resident,
            name=name,
            phone=phone,
            relation=relation,
            consent=consent,
            user_id=user_id,
            now=now,
            proxy_id=proxy_id,
        ).id


def revoke_proxy(
    db: Database,
    resident_id: str,
    proxy_id: str,
    *,
    user_id: str | None,
    now: dt.datetime,
    hub_ids: set[str] | None = None,
) -> bool:
    """The console's use case: revoke a proxy of a resident of the operator's hubs."""
    with db.write() as session:
        resident = resident_in_scope(session, resident_id, hub_ids)
        proxy = session.get(Proxy, proxy_id)
        if proxy is None or proxy.resident_id != resident.id:
            raise NotFound(f"proxy {proxy_id} not found")
        return revoke(session, proxy, user_id=user_id, now=now)
