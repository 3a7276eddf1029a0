"""Validated solver settings."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from routing.core import CoreParams

#: Own-search iterations per unit of ``solution_limit`` in the deterministic mode: a limit of 30
#: (the planner's web runs) gives 6,000 iterations, well under a second on a 50-order batch.
ITERATIONS_PER_SOLUTION = 200


class ParamsError(ValueError):
    """An invalid :class:`SolveParams` field (the message names it and its value)."""


@dataclass(frozen=True)
class SolveParams:
    """Settings of :func:`routing.solve`.

    Parameters
    ----------
    time_limit_s
        Wall-clock budget of the search in seconds (travel matrices come on top).
    seed
        Random seed of the search. With ``solution_limit`` set, a run is deterministic.
    solution_limit
        Deterministic mode (None: only the time limit stops the search). OR-Tools stops after
        this many improving solutions; the own search (which plans every batch it can model, see
        :func:`routing.core.sisr_applies`) runs :attr:`iterations` ruin-and-recreate iterations,
        by default :data:`ITERATIONS_PER_SOLUTION` times this limit. The time limit still stops
        either early on a machine too slow for the limit.
    iterations
        Iterations of the own search in the deterministic mode (default: from ``solution_limit``).
    engine
        ``"auto"`` (the own search wherever it models the batch, else OR-Tools) or ``"ortools"``
        (OR-Tools alone: the reference it is measured against).
    workers
        Parallel starts (separate processes), at most one per first-solution strategy.
    snap_max_m
        A home or place farther than this from every road is an error naming it (metres).
    first_solution
        First-solution strategy names tried as starts (``"auto"``: chosen per problem).
    metaheuristic
        OR-Tools local search metaheuristic name.
    clearance_m
        Drone paths keep at least about this distance from the buffered zones' hulls (metres).
    """

    time_limit_s: float = 10.0
    seed: int = 0
    solution_limit: int | None = None
    workers: int = 1
    snap_max_m: float = 500.0
    first_solution: tuple[str, ...] = ("auto",)
    metaheuristic: str = "GUIDED_LOCAL_SEARCH"
    clearance_m: float = 1.0
    iterations: int | None = None
    engine: str = "auto"

    def __post_init__(self) -> None:
        def number(name: str) -> float:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ParamsError(f"{name} must be a number, got {value!r}")
            return float(value)

        if not (math.isfinite(number("time_limit_s")) and self.time_limit_s > 0):
            raise ParamsError(f"time_limit_s must be > 0, got {self.time_limit_s!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise ParamsError(f"seed must be an integer >= 0, got {self.seed!r}")
        limit = self.solution_limit
        if limit is not None and (not isinstance(limit, int) or limit < 1):
            raise ParamsError(f"solution_limit must be None or an integer >= 1, got {limit!r}")
        its = self.iterations
        if its is not None and (not isinstance(its, int) or isinstance(its, bool) or its < 1):
            raise ParamsError(f"iterations must be None or an integer >= 1, got {its!r}")
        if not isinstance(self.workers, int) or self.workers < 1:
            raise ParamsError(f"workers must be an integer >= 1, got {self.workers!r}")
        if not (math.isfinite(number("snap_max_m")) and self.snap_max_m > 0):
            raise ParamsError(f"snap_max_m must be > 0 metres, got {self.snap_max_m!r}")
        if not (math.isfinite(number("clearance_m")) and self.clearance_m > 0):
            raise ParamsError(f"clearance_m must be > 0 metres, got {self.clearance_m!r}")
        if isinstance(self.first_solution, str) or not self.first_solution:
            raise ParamsError(
                f"first_solution must be a non-empty tuple of names, got {self.first_solution!r}"
            )
        try:
            self.core()  # the strategy names are the core's
        except ValueError as exc:
            raise ParamsError(str(exc)) from None

    def core(self) -> CoreParams:
        """The core's settings for these (the deterministic mode covers both searches)."""
        from routing.core import CoreParams

        iterations = self.iterations
        if iterations is None and self.solution_limit is not None:
            iterations = ITERATIONS_PER_SOLUTION * self.solution_limit
        return CoreParams(
            time_limit_s=self.time_limit_s,
            seed=self.seed,
            solution_limit=self.solution_limit,
            first_solution=tuple(self.first_solution),
            metaheuristic=self.metaheuristic,
            workers=self.workers,
            iterations=iterations,
            engine=self.engine,
        )
