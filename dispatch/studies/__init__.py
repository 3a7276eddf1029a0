"""Planners' studies (issue 7): KPIs, replay data, what-if scenarios and privacy-safe study packs.

Everything here only *reads* the operational database (a scenario re-plans on a scratch copy), so
studies can run beside a live hub without touching its data. This sub-package is the studies'
**domain part**; it returns plain data (dataclasses, dicts, GeoDataFrames, CSV text) and never
HTML. Modules:

- :mod:`dispatch.studies.facts`: one read of the database → plain facts per order and per route;
- :mod:`dispatch.studies.kpis`: KPIs per hub, per day and over a range, with their formulas;
- :mod:`dispatch.studies.replay`: what happened (events, positions) beside what was planned;
- :mod:`dispatch.studies.scenario_spec`, :mod:`dispatch.studies.scenarios`: scenario TOML,
  re-planning on a copy, sweeps;
- :mod:`dispatch.studies.runs`: scenario runs of the planner page, in worker processes;
- :mod:`dispatch.studies.studypack`: the anonymous export for public study sessions (what may
  leave, and its data files).

The **presentation part** (self-contained HTML documents, SVG charts, the pack's words in Japanese
or English, and the ``hakobu kpis`` / ``scenario run`` / ``export study-pack`` commands) is
:mod:`web.studies`. Why there: what it embeds are web's own files (the console's vendored Leaflet
and its message catalogue, which already holds the KPI labels the planner pages show), and the
domain reading another package's files by path would make ``dispatch`` depend on ``web`` in
secret. Functions that write files take the rendered HTML as an argument
(:func:`dispatch.studies.scenarios.write_outputs`, :func:`dispatch.studies.studypack.write_built`).
No Flask, no folium and no ``web`` here (tests/test_import_graph.py checks it).
"""
