"""Running a test's work in several threads at once, for the races the database must settle
(one order per message SID, one send per queued message, one chain of custody)."""

from __future__ import annotations

import threading
from collections.abc import Callable


def at_once(threads: int, work: Callable[[int], object]) -> None:
    """Run ``work(i)`` for ``i`` in ``range(threads)``, each in its own thread, released together by
    a barrier so that they really race; wait for all of them. The first exception a thread raised
    is raised here, since a failed assert inside a thread would otherwise pass unnoticed."""
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            start.wait()
            work(i)
        except BaseException as error:  # re-raised below, in the test's own thread
            errors.append(error)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if errors:
        raise errors[0]
