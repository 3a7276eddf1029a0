"""The demo runs the batch scheduler in a thread: a re-plan asked for in the console gets solved."""

from __future__ import annotations

import time

import pytest

from dispatch.db import Database
from dispatch.models import Batch
from dispatch.phrases import english
from dispatch.planning import plan_batch
from dispatch.requests import ItemRequest
from dispatch.services.plans import request_ground
from tests.dispatch.test_planning import FAST, latest_plan, order_batch
from tests.web.test_drones import todays_cutoff
from web.cli import start_demo_scheduler

pytestmark = pytest.mark.db


def test_a_requested_re_plan_is_solved_by_the_demos_scheduler(db: Database, database_url: str,
                                                              tiny_region: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAKOBU_SOLVE_TIME_LIMIT_S", "1")  # the worker process reads the setting
    # Today's batch: the scheduler's sweep carries on (never re-plans) a batch of a past day.
    batch_id, ids = order_batch(db, {f"R{i}": [ItemRequest("パン", 1)] for i in range(1, 6)},
                                cutoff=todays_cutoff())
    plan_id = plan_batch(db, batch_id, **FAST)
    request_ground(db, plan_id, ids["R4"])
    stop = start_demo_scheduler(database_url, 1.0)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with db.read() as s:
                state = s.get(Batch, batch_id).state  # type: ignore[union-attr]
            if state in ("solved", "failed"):
                break
            time.sleep(0.5)
    finally:
        stop()
    assert state == "solved"
    plan = latest_plan(db, batch_id)
    assert plan.version == 2 and english(plan.note).startswith("force ground order #")
