"""Declarative base and column types shared by every model."""

from __future__ import annotations

import datetime as dt
import json
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, String, Text, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from dispatch.ids import new_id

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware datetimes stored as UTC; naive values are refused (they hide bugs)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} given where an aware one is needed")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.UTC)


class JSONText(TypeDecorator[Any]):
    """JSON kept as text, so large documents (problems, solutions) look the same on both databases."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)

    def process_result_value(self, value: str | None, dialect: Any) -> Any:
        return None if value is None else json.loads(value)


class StateText(TypeDecorator[StrEnum]):
    """A state column: stored as its plain string value (``String(16)``, so stored data and the
    schema are those of a text column), read back as the member of ``states``.

    Writing a value that is not a state of ``states`` fails at flush with the value named, so a
    typo never reaches the database.
    """

    impl = String
    cache_ok = True

    def __init__(self, states: type[StrEnum]) -> None:
        super().__init__(16)
        self.states = states

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else self.states(value).value

    def process_result_value(self, value: str | None, dialect: Any) -> StrEnum | None:
        return None if value is None else self.states(value)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        dt.datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON,
    }


def owned_rows(back_populates: str, order_by: str) -> Any:
    """The parent's list of rows that live and die with it (an order's items, a plan's routes, a
    route's stops): saved with the parent, deleted with it or when taken off the list, and read in
    their stored order (``order_by``, e.g. ``"Stop.seq"``)."""
    return relationship(back_populates=back_populates, cascade="all, delete-orphan", order_by=order_by)


class IdMixin:
    """A 128-bit random primary key: safe to show in URLs."""

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
