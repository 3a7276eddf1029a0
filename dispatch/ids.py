"""Identifiers exposed in URLs: 128 random bits, so they cannot be guessed or enumerated."""

from __future__ import annotations

import secrets


def new_id() -> str:
    """Return a fresh URL-safe id carrying 128 bits from the OS CSPRNG (22 characters)."""
    return secrets.token_urlsafe(16)
