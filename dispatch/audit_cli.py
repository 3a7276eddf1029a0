"""``hakobu audit``: verify the chain of custody and record anchors of its head.

``verify`` exits 0 when the chain is intact, 1 naming the first broken link, 2 on a usage error
(e.g. an unreadable anchor file). ``anchor`` writes the current head to a JSON file kept outside
the database; if the file already holds an anchor the chain is verified against it first, so an
anchor is never moved forward over a truncated or rewritten chain.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from dispatch.cli import database_option, fail, open_db
from dispatch.custody import Anchor, VerifyResult, anchor_from_json, anchor_to_json


def _load_anchor(path: Path) -> Anchor:
    try:
        return anchor_from_json(path.read_text(encoding="utf-8"))
    except OSError as error:
        fail(f"cannot read anchor {path}: {error.strerror}")
    except ValueError as error:
        fail(f"{path}: {error}")
    raise AssertionError("unreachable")  # fail() exits


def _report_broken(result: VerifyResult) -> None:
    click.echo(f"BROKEN at seq {result.first_broken_seq}: {result.reason}", err=True)
    click.echo(f"{result.checked} event(s) intact before it (up to seq {result.head_seq})", err=True)
    raise SystemExit(1)


def _write_atomically(path: Path, content: str) -> None:
    """Write to a temporary file beside ``path`` and rename it over, so a crash leaves the old anchor."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@click.group("audit")
def audit() -> None:
    """Chain of custody: verify the handoff events, record anchors of the chain's head."""


@audit.command("verify")
@click.option("--anchor", "anchor_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Anchor file written by 'audit anchor'; detects a truncated or rewritten chain.")
@database_option
def verify(anchor_path: Path | None, database_url: str | None) -> None:
    """Check every handoff event's hash and link; exit 1 naming the first broken link."""
    from dispatch.services.handoffs import verify_custody

    anchor = _load_anchor(anchor_path) if anchor_path is not None else None
    db = open_db(database_url)
    try:
        result = verify_custody(db, anchor)
    finally:
        db.dispose()
    if not result.ok:
        _report_broken(result)
    against = f", consistent with the anchor at seq {anchor.seq}" if anchor is not None else ""
    click.echo(f"ok: {result.checked} event(s), head seq {result.head_seq} hash {result.head_hash}{against}")
    if anchor is None:
        click.echo("note: without --anchor a cut-off tail cannot be detected", err=True)


@audit.command("anchor")
@click.option("--out", "out_path", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Anchor file to write (if it exists, the chain must still match it).")
@database_option
def anchor(out_path: Path, database_url: str | None) -> None:
    """Verify the chain and record its head (seq, hash) in a JSON file kept off the database host."""
    from dispatch.models import utcnow
    from dispatch.services.handoffs import take_anchor

    previous = _load_anchor(out_path) if out_path.exists() else None
    db = open_db(database_url)
    try:
        result, new_anchor = take_anchor(db, previous, now=utcnow())
    finally:
        db.dispose()
    if new_anchor is None:
        _report_broken(result)
        return
    _write_atomically(out_path, anchor_to_json(new_anchor))
    click.echo(f"anchor written to {out_path}: seq {new_anchor.seq} hash {new_anchor.hash}")


commands = [audit]
