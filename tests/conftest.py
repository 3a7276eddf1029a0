"""Shared fixtures: a real database per test (SQLite file, or PostgreSQL when asked) and a guard
that fails any outbound network connection (only loopback is allowed)."""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from dispatch.db import Database
from dispatch.models import Base
from dispatch.schema import upgrade

REPO = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("HAKOBU_TEST_DATABASE_URL", "")


@pytest.fixture(autouse=True)
def _no_outbound_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any connection that leaves this machine: tests never reach the live network."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and not (
            str(host).startswith("127.") or host in {"::1", "localhost"}
        ):
            raise RuntimeError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(scope="session")
def _template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Migrate once per session: a SQLite template file, or a private PostgreSQL schema."""
    if PG_URL:
        schema = f"hakobu_test_{uuid.uuid4().hex[:10]}"
        admin = Database(PG_URL)
        with admin.engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in PG_URL else "?"
        url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
        migrated = Database(url)
        upgrade(migrated)
        migrated.dispose()
        yield url
        with admin.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    else:
        path = tmp_path_factory.mktemp("template") / "template.sqlite"
        template = Database(f"sqlite:///{path}")
        upgrade(template)
        with template.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        template.dispose()
        yield str(path)


@pytest.fixture
def database_url(_template: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database for one test."""
    if PG_URL:
        db = Database(_template)
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with db.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.dispose()
        yield _template
    else:
        path = tmp_path / "hakobu.sqlite"
        shutil.copyfile(_template, path)
        yield f"sqlite:///{path}"


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


TINY = REPO / "sample_regions" / "tiny"
TAJIMA = REPO / "sample_regions" / "tajima"


@pytest.fixture
def tiny_region(db: Database) -> str:
    """The hand-checkable sample region, loaded; returns the region code."""
    from dispatch.region.importer import load_region
    from dispatch.region.reader import read_region

    return load_region(db, read_region(TINY)).region_code
