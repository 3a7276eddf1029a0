"""Planners' studies (issue 7): KPIs, replay data, what-if scenarios and privacy-safe study packs.

Everything here only *reads* the operational database (a scenario re-plans on a scratch copy), so
studies can run beside a live hub without touching its data. Modules:

- :mod:`dispatch.studies.facts`: one read of the database → plain facts per order and per route;
- :mod:`dispatch.studies.kpis`: KPIs per hub, per day and over a range, with their formulas;
- :mod:`dispatch.studies.charts`: small self-made SVG charts (no plotting dependency);
- :mod:`dispatch.studies.replay`: what happened (events, positions) beside what was planned;
- :mod:`dispatch.studies.scenarios`: scenario TOML, re-planning on a copy, sweeps;
- :mod:`dispatch.studies.studypack`: the anonymous export for public study sessions.

No Flask and no folium here (see docs/architecture.md): the web layer draws the maps.
"""
