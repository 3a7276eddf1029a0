"""``/metrics``: the deployment's queues in Prometheus text format, for the monitoring system.

Read from the database at each scrape (a custom collector, no counters kept in a web process), so
any web process answers for the whole deployment, whichever engine runs the tasks:

* ``hakobu_solve_queue_depth{state}``: batches ``waiting`` for a solve, ``solving``, ``failed``;
* ``hakobu_solve_queue_oldest_seconds``: how long the oldest waiting batch has waited;
* ``hakobu_solve_seconds``: histogram of the solve time of every solved batch;
* ``hakobu_task_jobs{queue,status}``: procrastinate's own jobs (absent with the local executor);
* ``hakobu_outbox_pending`` and ``hakobu_outbox_lag_seconds``: texts waiting to be sent;
* ``hakobu_webhook_latency_seconds``: histogram, order event → webhook delivered, last hour.

Who may read it: a scraper with ``Authorization: Bearer <HAKOBU_METRICS_TOKEN>`` (audience
``monitoring``), or an admin signed in to the console. Nothing personal is in it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

from flask import Blueprint, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from dispatch.tasks.stats import engine_jobs, outbox_lag_s, solve_queue, solve_seconds, webhook_latencies
from web.context import db, now
from web.security import access

bp = Blueprint("metrics", __name__)

SOLVE_BUCKETS = (1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)
WEBHOOK_BUCKETS = (0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0)


def histogram(name: str, documentation: str, values: Sequence[float],
              buckets: Sequence[float]) -> HistogramMetricFamily:
    """A Prometheus histogram of ``values`` (cumulative buckets, +Inf, sum)."""
    cumulative = [(f"{bound:g}", float(sum(1 for v in values if v <= bound))) for bound in buckets]
    return HistogramMetricFamily(name, documentation, buckets=[*cumulative, ("+Inf", float(len(values)))],
                                 sum_value=float(sum(values)))


class DeploymentCollector:
    """Every figure of the module docstring, read in one database session per scrape."""

    def __init__(self, moment: dt.datetime) -> None:
        self.moment = moment

    def collect(self) -> Iterator[Metric]:
        with db().read() as session:
            queue = solve_queue(session, None, self.moment)
            jobs = engine_jobs(session)
            solves = solve_seconds(session)
            pending, lag = outbox_lag_s(session, self.moment)
            latencies = webhook_latencies(session, self.moment - dt.timedelta(hours=1))
        depth = GaugeMetricFamily("hakobu_solve_queue_depth", "Batches by place in the solve queue",
                                  labels=["state"])
        for state, count in (("waiting", queue.waiting), ("solving", queue.solving),
                             ("failed", queue.failed)):
            depth.add_metric([state], count)
        yield depth
        yield GaugeMetricFamily("hakobu_solve_queue_oldest_seconds",
                                "Seconds the oldest batch waiting for a solve has waited",
                                value=queue.oldest_waiting_s or 0.0)
        yield histogram("hakobu_solve_seconds", "Solve time of solved batches", solves, SOLVE_BUCKETS)
        task_jobs = GaugeMetricFamily("hakobu_task_jobs", "Task engine jobs by queue and status",
                                      labels=["queue", "status"])
        for (queue_name, status), count in sorted(jobs.items()):
            task_jobs.add_metric([queue_name, status], count)
        yield task_jobs
        yield GaugeMetricFamily("hakobu_outbox_pending", "Text messages waiting to be sent", value=pending)
        yield GaugeMetricFamily("hakobu_outbox_lag_seconds", "Seconds the oldest unsent text has waited",
                                value=lag)
        yield histogram("hakobu_webhook_latency_seconds",
                        "Seconds from an order event to its webhook's delivery (last hour)", latencies,
                        WEBHOOK_BUCKETS)


@bp.route("/metrics")
@access("monitoring", "admin")
def metrics() -> Any:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DeploymentCollector(now()))  # type: ignore[arg-type]
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST,
                    headers={"Cache-Control": "no-store"})
