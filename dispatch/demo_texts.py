"""The SMS texts residents typically send, shared by the demo day and the simulated day.

A module of its own because both :mod:`dispatch.demo` (which runs :mod:`dispatch.simulate` for
yesterday) and :mod:`dispatch.simulate` (whose residents text them) need them: kept in either,
the two modules would import each other (tests/test_import_graph.py forbids cycles).
"""

from __future__ import annotations

#: (SMS text) residents typically send; Japanese and English, in the parser's grammar.
DEMO_TEXTS = ("注文 米5kg 1、牛乳 2本", "注文 パン 2 午後", "注文 卵 1、豆腐 2", "注文 薬 1",
              "注文 トイレットペーパー 1 明日の午前", "ORDER milk 2, bread 1", "注文 お茶 2、野菜 1")
