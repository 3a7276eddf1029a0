"""Backups of the whole database, and restores that prove themselves by verifying the custody chain.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies a consistent snapshot while
the server keeps writing (WAL mode), page by page, into a temporary file renamed over the target.
PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore`` (the tools of the server's own version),
so a dump is portable between machines and restorable table by table if ever needed.

A restore goes into a database without Hakobu's tables (a fresh file, or an empty database), or over
one when ``replace`` is asked. Afterwards the chain of custody is verified: the restored handoff
events must hash up to the same head as when the backup was taken (docs/backups.md).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from dispatch.custody import VerifyResult
from dispatch.db import Database
from dispatch.errors import ConfigError, DomainError
from dispatch.services.handoffs import verify_custody


class BackupError(DomainError):
    """A backup or restore that could not be done (messages for the operator's shell, in English)."""


@dataclass(frozen=True)
class BackupReport:
    path: Path
    bytes: int
    custody: VerifyResult  # of the database backed up, when the backup was taken


def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise ConfigError(f"cannot back up an in-memory SQLite database ({url})")
    return Path(parsed.database)


def _libpq(url: str) -> str:
    """The SQLAlchemy URL as a libpq connection URI for pg_dump / pg_restore (``options`` kept)."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def _schema_args(url: str) -> list[str]:
    """``--schema NAME`` when the URL pins Hakobu to one schema (``options=-csearch_path=NAME``):
    a database shared with other applications is backed up for Hakobu's part only."""
    options = make_url(url).query.get("options", "")
    text = options if isinstance(options, str) else " ".join(options)
    for part in text.split():
        if part.startswith("-csearch_path="):
            return ["--schema", part.removeprefix("-csearch_path=").split(",")[0]]
    return []


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise ConfigError(
            f"{name} is not installed: install the PostgreSQL client tools of the server's version"
        )
    return found


def backup(db: Database, out: Path) -> BackupReport:
    """Write a consistent copy of ``db`` to ``out`` (replaced atomically); returns what was written
    and the custody chain's state at that moment."""
    custody = verify_custody(db)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        source = _sqlite_path(db.url)
        if source is not None:
            _sqlite_copy(source, tmp)
        else:
            subprocess.run(
                [
                    _pg_tool("pg_dump"),
                    "--format=custom",
                    "--no-owner",
                    "--file",
                    str(tmp),
                    *_schema_args(db.url),
                    "--dbname",
                    _libpq(db.url),
                ],
                check=True,
                capture_output=True,
            )
        tmp.chmod(0o600)  # a backup holds residents' names and phones
        tmp.replace(out)
    except subprocess.CalledProcessError as error:
        tmp.unlink(missing_ok=True)
        raise BackupError("pg_dump failed: %(reason)s",
                          reason=error.stderr.decode(errors="replace").strip()) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return BackupReport(out, out.stat().st_size, custody)


def restore(source: Path, db: Database, *, replace: bool = False) -> VerifyResult:
    """Restore the backup ``source`` into ``db`` and verify the custody chain it holds.

    Refuses a database that already has Hakobu's tables unless ``replace``."""
    if not source.is_file():
        raise BackupError("no backup file at %(path)s", path=str(source))
    target = _sqlite_path(db.url)
    if not replace and _has_tables(db):
        raise BackupError(
            "the database %(url)s is not empty: restore into a fresh one, or pass --replace",
            url=make_url(db.url).render_as_string(hide_password=True),
        )
    db.dispose()
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        _sqlite_copy(source, target)
    else:
        command = [_pg_tool("pg_restore"), "--no-owner", "--exit-on-error", "--dbname", _libpq(db.url)]
        if replace:
            command[1:1] = ["--clean", "--if-exists"]
        done = subprocess.run([*command, str(source)], capture_output=True)
        if done.returncode != 0:
            raise BackupError(
                "pg_restore failed: %(reason)s", reason=done.stderr.decode(errors="replace").strip()
            )
    return verify_custody(db)


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup of ``source`` into ``target``; both connections closed after."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def _has_tables(db: Database) -> bool:
    with db.engine.connect() as conn:
        return bool(inspect(conn).get_table_names())
