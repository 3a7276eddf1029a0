"""The presentation of planners' studies: HTML documents, charts and words over :mod:`dispatch.studies`.

:mod:`dispatch.studies` computes (facts, KPIs, replay data, scenarios, runs, the anonymous pack);
this package turns its plain data into what people read, and holds the commands that write it:

- :mod:`web.studies.html`: self-contained HTML documents with inline Leaflet maps (offline, inert);
- :mod:`web.studies.charts`: small hand-made SVG bar charts (console pages and documents);
- :mod:`web.studies.i18n`: the documents' words from the console's catalogue, without Flask;
- :mod:`web.studies.reports`: KPI tables, charts and CO2 notes; the scenario report;
- :mod:`web.studies.pack_page`: the study pack's page, and :func:`~web.studies.pack_page.write_pack`;
- :mod:`web.studies.cli`: ``hakobu kpis``, ``hakobu scenario run``, ``hakobu export study-pack``.

It lives in ``web`` because the files it embeds are web's: Leaflet vendored for the console
(``web/static/vendor/leaflet``) and the message catalogue (``web/translations``), read as package
data. One copy of each serves the console and the documents, and ``dispatch`` never reads ``web``.
Nothing here needs a Flask app or request: the command line renders the same documents.
"""
