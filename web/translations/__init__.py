"""The UI's message catalogues (``<lang>/LC_MESSAGES/messages.po``) and their compilation.

Only the ``.po`` files are kept in git; :func:`compile_catalogues` turns each into the ``.mo`` that
Flask-Babel reads, at app start, when the ``.mo`` is missing or older than its ``.po``. So a fresh
clone, ``make test`` and ``make demo`` need no extra build step, and an edited ``.po`` is picked
up at the next start. Updating the catalogue after adding strings (see docs/console.md)::

    .venv/bin/pybabel extract -F babel.cfg -o web/translations/messages.pot --sort-output \\
        -k Phrase -k phrase -k DomainError -k PastEtas -k _review:2 .
    .venv/bin/pybabel update -i web/translations/messages.pot -d web/translations --no-fuzzy-matching

:data:`DYNAMIC_TERMS` lists the words templates translate from data (``_(order.state)``): the
extractor cannot see those, so they are marked here with ``N_`` (one of its default keywords).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
log = logging.getLogger(__name__)


def N_(message: str) -> str:  # the conventional gettext_noop name the extractor knows
    """Mark ``message`` for extraction without translating it here."""
    return message


DYNAMIC_TERMS = (
    # order states (dispatch.lifecycle)
    N_("received"), N_("confirmed"), N_("batched"), N_("planned"), N_("dispatched"), N_("in_transit"),
    N_("delivered"), N_("cancelled"), N_("failed"), N_("returned"), N_("parked"),
    # console roles
    N_("operator"), N_("planner"), N_("admin"),
    # batch, plan and route states
    N_("closed"), N_("solving"), N_("solved"), N_("proposed"), N_("superseded"), N_("active"), N_("done"),
    # travel modes and stop kinds
    N_("walk"), N_("bicycle"), N_("car"), N_("drone"), N_("bus"),
    N_("pickup"), N_("delivery"), N_("load"), N_("transfer"),
    # why an order is unserved (routing.REASONS and the planning layer's own)
    N_("no_eligible_vehicle"), N_("time_window"), N_("capacity"), N_("range"), N_("zone"),
    N_("dropped"), N_("invalid"), N_("replanned"), N_("returning"),
    # how a handoff was proven (dispatch.custody.PROOFS)
    N_("operator_confirm"), N_("courier_scan"), N_("resident_pin"), N_("resident_consent"), N_("drone_log"),
    # handoff kinds (dispatch.custody.KIND_PARTIES), shown in the planners' replay
    N_("supply_to_drone"), N_("supply_to_courier"), N_("supply_to_hub"), N_("drone_to_hub"),
    N_("courier_to_hub"), N_("hub_to_courier"), N_("hub_to_drone"), N_("courier_to_resident"),
    N_("drone_to_resident"), N_("courier_to_neighbour"), N_("courier_to_hall"),
    N_("hub_to_bus"), N_("bus_to_resident"), N_("bus_to_courier"),
    # order channels (dispatch.services.ordering.CHANNELS)
    N_("sms"), N_("web"), N_("proxy"), N_("phone"), N_("import"), N_("api"), N_("standing"),
    # planners: KPI labels (dispatch.studies.kpis.HEADLINE), bases, unserved reasons of the KPIs,
    # chart titles and legends (web.studies.reports.kpi_charts), CO2 factor names (FACTORS)
    N_("orders"), N_("on-time share"), N_("lead time median (min)"), N_("lead time p90 (min)"),
    N_("km walk"), N_("km bicycle"), N_("km car"), N_("km drone"), N_("courier hours"), N_("drone sorties"),
    N_("drone flight km"), N_("parcels by community bus"),
    N_("parcels per courier hour"), N_("CO2 service (kg)"), N_("CO2 baseline (kg)"),
    N_("CO2 saved (kg)"), N_("residents reached"), N_("unserved"),
    N_("recorded"), N_("not delivered"), N_("not planned"),
    N_("Orders and delivered"), N_("Kilometres by mode"), N_("CO2: service vs household trips"),
    N_("Lead time order → door (median)"), N_("service"), N_("baseline"), N_("median"), N_("min"),
    N_("private car, household shopping trip"), N_("volunteer's kei car"), N_("multicopter energy use"),
    N_("grid electricity"), N_("road distance / straight distance"),
    # why a courier could not deliver (dispatch.services.delivery.FAIL_REASONS), hand-over places
    N_("nobody_home"), N_("refused"), N_("address_not_found"), N_("other"), N_("neighbour"), N_("hall"),
    # why a text was not understood (the codes of sms.parser's refusals) and a detail it gives
    N_("typo"), N_("no_items"), N_("no_command"), N_("empty"), N_("too_long"), N_("markup"),
    N_("internal_error"), N_("cancel_unclear"), N_("courtesy"), N_("item_name_too_long"),
    N_("proxy_nested"), N_("proxy_without_code"), N_("proxy_without_command"),
    N_("quantity_out_of_range"), N_("quantity_without_item"), N_("too_many_items"),
    N_("not every item has a quantity"),
    N_("standing_without_weekday"), N_("standing_two_weekdays"), N_("standing_day_word"),
    # zone types (dispatch.region.reader.ZONE_TYPES) and a zone's validity without time windows
    N_("PROHIBITED"), N_("REQ_AUTHORIZATION"), N_("CONDITIONAL"), N_("NO_RESTRICTION"), N_("permanent"),
    N_("USPACE"), N_("daily"), N_("mon"), N_("tue"), N_("wed"), N_("thu"), N_("fri"), N_("sat"), N_("sun"),
    N_("BMCT"), N_("SR"), N_("SS"), N_("EECT"),
    # hub kinds, drone statuses, parts of the day
    N_("hub"), N_("supply"), N_("available"), N_("grounded"), N_("maintenance"),
    N_("morning"), N_("afternoon"), N_("any"),
    # the free-text fields a refusal names (dispatch.services.free_text.checked_text)
    N_("note"), N_("reason"), N_("permit reference"), N_("welfare note"), N_("name"), N_("consent note"),
    N_("name of who consented"), N_("pilot"), N_("events affecting safety"), N_("defect and its handling"),
    N_("skill certificate number"),
    # a plan version's note when the solver made it; alert kinds (dispatch.models.OperatorAlert)
    N_("solver"), N_("weather hold"), N_("welfare"), N_("pin_locked"), N_("delivery_failed"),
    N_("order_parked"), N_("sortie_late"), N_("overdue"), N_("drone_defect"),
    # the 特定飛行 categories a permit covers (routing.CATEGORIES)
    N_("did"), N_("airport"), N_("high_altitude"), N_("bvlos"), N_("night"), N_("under_30m"), N_("event"),
    N_("dangerous_goods"), N_("drop"),
    # weather quantities beyond a drone's limits (dispatch.weather.limits), the unserved reason
    N_("wind_ms"), N_("gust_ms"), N_("precip_mmh"), N_("temp_c"), N_("visibility_m"), N_("weather"),
)


def compile_catalogues(root: Path = HERE) -> list[Path]:
    """Compile every ``*.po`` under ``root`` whose ``.mo`` is missing or stale; return those written.

    Written to a temporary file and renamed, so concurrent starts never read a half-written file.
    A read-only installation that shipped its ``.mo`` files is left alone (logged, not fatal).
    """
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po in sorted(root.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalogue = read_po(source, locale=po.parent.parent.name)
        tmp = mo.with_name(f".{mo.name}.{os.getpid()}.tmp")
        try:
            with tmp.open("wb") as target:
                write_mo(target, catalogue, use_fuzzy=False)
            tmp.replace(mo)
        except OSError as error:
            log.warning("could not compile %s: %s", po, error)
            continue
        written.append(mo)
    return written
