"""``hakobu backup`` and ``hakobu restore`` (docs/backups.md): exit 0 when done and the custody chain
verifies, 1 when a restored chain is broken, 2 on a usage error."""

from __future__ import annotations

from pathlib import Path

import click

from dispatch.cli import database_option, fail, open_db
from dispatch.errors import DomainError


@click.command("backup")
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The backup file to write (SQLite copy, or pg_dump's custom format on PostgreSQL).",
)
@database_option
def backup_command(out_path: Path, database_url: str | None) -> None:
    """Back up the whole database while it runs (SQLite online backup; pg_dump on PostgreSQL)."""
    from dispatch.backup import backup

    try:
        report = backup(open_db(database_url), out_path)
    except DomainError as error:
        fail(str(error))
    chain = report.custody
    click.echo(
        f"backup written to {report.path} ({report.bytes} bytes); custody chain "
        f"{'ok' if chain.ok else 'BROKEN'}: {chain.checked} event(s), head seq {chain.head_seq} "
        f"hash {chain.head_hash}"
    )


@click.command("restore")
@click.argument("backup_path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--replace", is_flag=True, help="Restore over a database that already has Hakobu's tables.")
@database_option
def restore_command(backup_path: Path, replace: bool, database_url: str | None) -> None:
    """Restore a backup into a fresh database (or over one with --replace), then verify custody."""
    from dispatch.backup import restore

    try:
        chain = restore(backup_path, open_db(database_url), replace=replace)
    except DomainError as error:
        fail(str(error))
    if not chain.ok:
        click.echo(
            f"restored, but the custody chain is BROKEN at seq {chain.first_broken_seq}: {chain.reason}",
            err=True,
        )
        raise SystemExit(1)
    click.echo(
        f"restored {backup_path}; custody chain ok: {chain.checked} event(s), head seq "
        f"{chain.head_seq} hash {chain.head_hash}"
    )


commands = [backup_command, restore_command]
