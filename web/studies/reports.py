"""HTML pieces shared by the scenario report and the study pack: KPI tables, charts, factor notes."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from dispatch.studies.kpis import FACTORS, HEADLINE, MODES, Kpis
from dispatch.studies.scenarios import DEFAULT_SOLUTION_LIMIT, ScenarioResult
from web.studies.charts import bar_chart
from web.studies.html import MapSpec, document, plan_layers, table_html
from web.studies.i18n import Translate, english


def factors_html(tr: Translate = english) -> str:
    """The CO2 factors and their sources, to print next to every CO2 figure (sources stay as
    published: titles of Japanese publications, with their English gloss)."""
    rows = [[tr(f.name), f.value, f.unit, f.source] for f in FACTORS.values()]
    return (f"<h3>{escape(tr('CO2 factors and sources'))}</h3>"
            + table_html([tr("Factor"), tr("Value"), tr("Unit"), tr("Source")], rows)
            + f'<p class="note">{escape(tr(BASELINE_NOTE))}</p>')


BASELINE_NOTE = ("Baseline: each delivered order replaces one household return trip by car to the nearest "
                 "supply point (straight distance × circuity × 2). Service: km by mode × factor (walk and "
                 "bicycle 0; drone = energy per km × grid factor).")


def kpi_rows_html(rows: list[Kpis], caption: str = "", tr: Translate = english) -> str:
    """One column per scope (hub/day), one row per headline KPI."""
    flat = [r.row() for r in rows]
    headers = [tr("KPI"), *(scope_label(r, tr) for r in rows)]
    body = [[tr(label), *(r.get(key, 0) for r in flat)] for label, key in HEADLINE]
    return table_html(headers, body, caption, na=tr("n/a"))


def _same(text: str) -> str:
    return text


def scope_label(k: Kpis, tr: Callable[[str], str] = _same) -> str:
    """"IZUSHI", "all hubs", or with the day when the row is one day ("IZUSHI 2026-03-03")."""
    hub = tr("all hubs") if k.hub == "all" else k.hub
    return hub if k.day == "range" else f"{hub} {k.day}"


def kpi_charts(rows: list[Kpis], tr: Callable[[str], str] = _same) -> str:
    """Pictures for what people would rather look at than read: per scope. ``tr`` translates the
    titles and legends (the console passes gettext; the words are in web/translations; reports
    and study packs stay English)."""
    labels = [scope_label(r, tr) for r in rows]
    charts = [
        bar_chart(tr("Orders and delivered"), labels, [(tr("orders"), [r.orders for r in rows]),
                                                        (tr("delivered"), [r.delivered for r in rows])]),
        bar_chart(tr("Kilometres by mode"), labels,
                  [(tr(m), [r.km_by_mode.get(m, 0.0) for r in rows]) for m in MODES], unit="km"),
        bar_chart(tr("CO2: service vs household trips"), labels,
                  [(tr("service"), [r.co2_service_kg for r in rows]),
                   (tr("baseline"), [r.co2_baseline_kg for r in rows])], unit="kg"),
        bar_chart(tr("Lead time order → door (median)"), labels,
                  [(tr("median"), [r.lead_median_min for r in rows])], unit=tr("min")),
    ]
    return '<div class="charts">' + "".join(charts) + "</div>"


def scenario_report(result: ScenarioResult) -> str:
    """The self-contained scenario report: comparison table, charts, two maps."""
    sc = result.scenario
    comparison = table_html(["KPI", "base", "scenario", "difference"],
                            [list(row) for row in result.comparison()])
    base, changed = result.base.kpis, result.changed.kpis
    labels = ["drone sorties", "courier hours", "delivered", "unserved"]
    values = {label: (b, s) for label, b, s, _ in result.comparison()}
    chart = bar_chart("Base vs scenario", labels,
                      [("base", [_num(values[k][0]) for k in labels]),
                       ("scenario", [_num(values[k][1]) for k in labels])])
    limit = sc.data.get("solve", {}).get("solution_limit", DEFAULT_SOLUTION_LIMIT)
    body = (f"<p>Base day {escape(sc.date.isoformat())}, "
            f"{escape('hub ' + sc.hub if sc.hub else 'whole region')}. Both sides re-planned from the same "
            f"snapshot with seed 0 and solution limit {escape(str(limit))} "
            "(planned basis: no on-time share). "
            f"Base {result.base.batches} batches in {result.base.seconds} s; "
            f"scenario {result.changed.batches} batches in {result.changed.seconds} s.</p>"
            f"<h2>Comparison</h2>{comparison}<div class=\"charts\">{chart}</div>{factors_html()}")
    if sc.data.get("description"):
        body = f"<p>{escape(str(sc.data['description']))}</p>" + body
    maps = [MapSpec("map-base", "Base (re-planned)", plan_layers(result.base.plan_geojson)),
            MapSpec("map-scenario", f"Scenario: {sc.name}", plan_layers(result.changed.plan_geojson))]
    del base, changed
    return document(f"Scenario: {sc.name}", body, maps)


def _num(v: object) -> float | None:
    return float(v) if isinstance(v, int | float) else None


__all__ = ["document", "factors_html", "kpi_charts", "kpi_rows_html", "scenario_report"]
