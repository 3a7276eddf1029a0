"""The app the procrastinate workers load: ``procrastinate --app=dispatch.tasks.worker.app worker``.

Built on first access (not at import: nothing is built at import time) from the deployment's
settings, ``HAKOBU_DATABASE_URL`` first of all, and kept for the life of the worker process.
"""

from __future__ import annotations

from typing import Any

_app: Any = None


def __getattr__(name: str) -> Any:
    global _app
    if name != "app":
        raise AttributeError(name)
    if _app is None:
        from dispatch.config import settings_from_env
        from dispatch.db import Database
        from dispatch.tasks import check_engine
        from dispatch.tasks.engine import build_app

        settings = settings_from_env()
        db = Database(settings.database_url)
        try:
            check_engine(db, settings.with_overrides({"task_engine": "procrastinate"}))
            _app = build_app(settings.database_url)
        finally:
            db.dispose()
    return _app
