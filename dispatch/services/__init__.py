"""Use cases, and the steps they are made of. Web views, SMS webhooks, scheduler jobs and the CLI
call them; nothing outside ``dispatch`` commits.

Two kinds of function, and no third:

* **A use case** takes ``db: Database`` first and opens its own ``with db.write() as session:``
  (or ``db.read()``) transaction. Everything else it needs is an explicit argument:
  ``settings: Settings`` when it needs settings, ``now: datetime`` (aware, UTC) as its clock. It
  never reads the environment: ``settings_from_env()`` is called only by entry points (the CLI
  commands, ``web.create_app``, the scheduler's process). Local times come from the region's
  timezone (:func:`dispatch.localtime.timezone_of`), never from a name in the code.
* **A step** runs inside its caller's transaction: it takes ``session: Session`` first and never
  commits (e.g. :func:`dispatch.services.pins.check_pin`, :func:`dispatch.services.ordering.cancel`,
  :func:`dispatch.services.handoffs.append_event`). A step has no public twin doing the same in a
  transaction of its own, and no use case hides its transaction in a wrapper taking a closure.

Texts to people are queued by :mod:`dispatch.services.notify` in the caller's transaction (the
outbox pattern: sent after commit by :mod:`sms.sender`). ``tests/dispatch/test_service_conventions.py``
checks these rules on the source.
"""
