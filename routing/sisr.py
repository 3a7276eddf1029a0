"""Compiled kernels of the ruin-and-recreate search (SISR, numba) used by :mod:`routing.core`.

Slack induction by string removals (Christiaens & Vanden Berghe 2020): remove a few strings of
consecutive visits from routes near a random seed visit, re-insert every removed visit at its
cheapest feasible position (skipping each position with a small "blink" probability), accept the
result under simulated annealing. One ruin in fifty instead empties a whole route (the smaller of
two) and re-inserts its visits without opening a route of the same kind unless nothing else fits:
string removals alone cannot empty a long route, and a solution with one route too many stayed
there (Solomon C2 instances: +6.4 % in two of eight runs at 10 s, 0 % with this move). Slots of
another kind may open (a car's visits onto a bicycle and a drone sortie). Its strength is the
number of iterations: hundreds of thousands in a few seconds; compiled with numba the algorithm
runs 26 to 50 times more iterations than the numpy-vectorised Python of its first version
(benchmarks/README.md, tuning log).

The fleet is a set of *slots*, one per vehicle, each with its own start and end node, travel
profile, capacities, shift, fixed cost (paid when the route is not empty) and route-duration
limit; a visit may be restricted to some slots and may be optional behind a drop penalty (it is
then left out whenever inserting it costs more than its penalty or nothing fits). Pickup and
delivery pairs are not modelled here, except those loaded at the start (see :class:`Fleet` and
``routing.core.loaded_at_start``); chained sorties come as slots with their own shifts.

State of a solution: ``seq[r, :rlen[r]]`` the visits of slot ``r``; along its path (start,
visits..., end) ``est``/``lst`` the earliest and latest feasible service start, ``cumt`` the travel
time from the start and ``pmin`` the running minimum of ``late - cumt``. With these, inserting a
visit anywhere is checked exactly in O(1): capacity, time windows (waiting allowed) and the
shortest possible route duration, ``max(end - latest departure, travel time)``.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time

import numba as nb
import numpy as np

_AVG_REMOVED = 10.0  # c-bar of the paper: visits removed per ruin on average
_MAX_STRING = 10.0  # L-max of the paper: longest string removed from one route
_SPLIT_RATE = 0.5  # share of ruins of a route that keep a substring in the middle (split string)
_BLINK = 0.01  # probability of skipping a position in the recreate step
_ELIMINATE = 0.02  # share of ruins that empty a whole route and re-insert without opening one
_T0 = 0.3  # initial annealing temperature, per unit of cost per visit
_T_RATIO = 30.0  # initial / final temperature
_CHUNK_S = 0.02  # wall-clock seconds between two looks at the clock and the temperature
_FIXED_CHUNK = 100  # iterations per temperature step in the deterministic mode
_INF = np.int64(2**62)
NO_LIMIT = int(_INF)  # max_duration of a slot without a duration limit


@dataclasses.dataclass(frozen=True)
class Fleet:
    """An instance as the kernels read it (prepared by :class:`routing.core._Sisr`).

    ``cost[p]`` and ``travel[p]`` are profile ``p``'s arc cost and time from the service start at
    ``a`` to arrival at ``b`` (service of ``a`` included); ``load`` holds absolute demands (loads
    of one sign); per slot ``r``: ``start``/``end`` nodes, ``profile``, ``capacity[r]``,
    ``fixed``, ``shift`` = (earliest start, latest start, earliest end, latest end) and
    ``max_duration`` (:data:`NO_LIMIT` = none); ``allowed[i, r]`` whether visit ``i`` may go on slot
    ``r``; ``penalty[i]`` the drop penalty of an optional visit, -1 for a mandatory one.

    Loaded at the start (parcels a shuttle brings to the hub, goods released late at a depot):
    ``release[i]``, the earliest time a route serving ``i`` may leave, and ``loading[i]``, the
    time spent at the start loading ``i`` (the route leaves after ``max(shift, releases) + sum of
    loadings``). ``distance[p]`` and ``max_distance[r]``: a slot's range (a drone sortie's).
    """

    visits: np.ndarray
    cost: np.ndarray
    travel: np.ndarray
    early: np.ndarray
    late: np.ndarray
    load: np.ndarray
    start: np.ndarray
    end: np.ndarray
    profile: np.ndarray
    capacity: np.ndarray
    fixed: np.ndarray
    shift: np.ndarray
    max_duration: np.ndarray
    allowed: np.ndarray
    penalty: np.ndarray
    release: np.ndarray | None = None
    loading: np.ndarray | None = None
    distance: np.ndarray | None = None
    max_distance: np.ndarray | None = None

    def extras(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """release, loading, distance and max_distance, zero / unlimited when not given."""
        n, slots = self.cost.shape[1], self.start.shape[0]
        zeros = np.zeros(n, np.int64)
        return (zeros if self.release is None else self.release,
                zeros if self.loading is None else self.loading,
                np.zeros_like(self.cost) if self.distance is None else self.distance,
                np.full(slots, NO_LIMIT, np.int64) if self.max_distance is None
                else self.max_distance)


@dataclasses.dataclass(frozen=True)
class Schedule:
    """One slot's times: departure, service start at each visit, return."""

    depart: int
    arrival: tuple[int, ...]
    back: int


def schedule(fleet: Fleet, r: int, route: list[int]) -> Schedule:
    """Slot ``r`` driving ``route``: it leaves as late as it can without returning later
    (``max(earliest return - travel time, ...)`` capped by the latest feasible departure), which
    also gives the shortest route duration; then every service starts as early as it can.
    ``depart`` is the moment it leaves the start, loading done (see :class:`Fleet`)."""
    p, s_early, s_late, e_early, e_late = (int(fleet.profile[r]), *(int(x) for x in fleet.shift[r]))
    release, loading = fleet.extras()[:2]
    if route:
        s_early = max(s_early, *(int(release[c]) for c in route)) + sum(int(loading[c])
                                                                         for c in route)
    path = [int(fleet.start[r]), *route, int(fleet.end[r])]
    travel = [int(fleet.travel[p, a, b]) for a, b in itertools.pairwise(path)]
    early = [s_early, *(int(fleet.early[c]) for c in route), e_early]
    late = [s_late, *(int(fleet.late[c]) for c in route), e_late]
    est, cum = [s_early], [0]
    for k, t in enumerate(travel, start=1):
        est.append(max(early[k], est[-1] + t))
        cum.append(cum[-1] + t)
    depart = min(min(lt - c for lt, c in zip(late, cum, strict=True)), est[-1] - cum[-1])
    depart = max(s_early, depart) if route else s_early
    times = [max(e, depart + c) for e, c in zip(est, cum, strict=True)]
    return Schedule(depart, tuple(times[1:-1]), times[-1] if route else s_early)


def search(fleet: Fleet, deadline: float, seed: int,
           iterations: int | None = None) -> tuple[list[list[int]], int] | None:
    """Search from nothing until the ``time.time()`` instant ``deadline``; returns the best
    routes (one list per slot) and their cost (arcs, fixed costs, penalties of left-out
    visits), or None when a mandatory visit fits nowhere (greedy insertion).

    With ``iterations`` the search is deterministic: exactly that many ruin-and-recreate
    iterations in fixed chunks, the annealing temperature following the share of iterations done
    instead of the clock, so a seed gives the same routes on any machine (simulated days, study
    scenarios, tests). The deadline still stops it early, as a safeguard on a very slow machine.
    """
    n = fleet.cost.shape[1]
    n_slots = fleet.start.shape[0]
    if not len(fleet.visits):
        return [[] for _ in range(n_slots)], 0
    state = _empty_state(n_slots, n + 2, fleet.load.shape[1])
    route_of = np.full(n, -1, dtype=np.int64)
    statics = _statics(fleet)
    _seed(seed)
    unserved = np.empty(n, np.int64)
    n_unserved = _start(state, route_of, unserved, *statics)
    if n_unserved < 0:
        return None
    work = tuple(a.copy() for a in state)
    best = tuple(a.copy() for a in state)
    penalty = fleet.penalty
    cur_cost = int(state[5].sum()) + int(penalty[unserved[:n_unserved]].sum())
    best_cost = cur_cost
    # Temperatures relative to the cost per visit (measured on X and Solomon at 10 s).
    t0 = _T0 * max(1.0, cur_cost / max(1, len(fleet.visits)))
    t1 = t0 / _T_RATIO
    begin = time.time()
    span = max(1e-3, deadline - begin)
    chunk = 50 if iterations is None else max(1, min(_FIXED_CHUNK, iterations))
    done = 0
    while True:  # at least one chunk, so that warm_up() compiles every kernel
        now = time.time()
        progress = (now - begin) / span if iterations is None else done / iterations
        temp = t0 * (t1 / t0) ** min(1.0, progress)
        cur_cost, best_cost, n_unserved = _run(
            chunk, temp, cur_cost, best_cost, n_unserved, unserved, state, work, best, route_of,
            *statics)
        done += chunk
        left = deadline - time.time()
        if left <= 0:
            break
        if iterations is not None:
            if done >= iterations:
                break
            chunk = min(chunk, iterations - done)
            continue
        # Aim at _CHUNK_S per call, and never far past the deadline.
        rate = chunk / max(time.time() - now, 1e-6)
        chunk = int(max(1, min(rate * _CHUNK_S, rate * left, 2 * chunk + 1)))
    seq, rlen = best[0], best[1]
    return [seq[r, :rlen[r]].tolist() for r in range(n_slots)], best_cost


_warm = False


def warm_up() -> None:
    """Compile every kernel (about 10 s) or load it from numba's cache beside this file (about
    1 s on a loaded machine); once per process.

    Run once when the environment is set up (``make``), so that no solve pays the compilation,
    and by ``routing.core.solve_core`` before its clock starts, so that a short budget (1 s in a
    test, 2 s for a simulated day) is not spent loading the cache.
    """
    global _warm
    if _warm:
        return
    _warm = True
    n = 6
    coords = np.arange(n, dtype=np.int64)
    cost = np.abs(coords[:, None] - coords[None, :])[None]
    slots = 3
    fleet = Fleet(
        visits=coords[1:], cost=cost, travel=cost, early=np.zeros(n, np.int64),
        late=np.full(n, 100, np.int64), load=np.ones((n, 1), np.int64),
        start=np.zeros(slots, np.int64), end=np.zeros(slots, np.int64),
        profile=np.zeros(slots, np.int64), capacity=np.full((slots, 1), 3, np.int64),
        fixed=np.zeros(slots, np.int64), shift=np.tile(np.array([0, 100, 0, 100]), (slots, 1)),
        max_duration=np.full(slots, NO_LIMIT, np.int64), allowed=np.ones((n, slots), np.bool_),
        penalty=np.full(n, -1, np.int64),
    )
    search(fleet, time.time() + 0.05, 0)


def _empty_state(n_slots: int, width: int, dims: int) -> tuple[np.ndarray, ...]:
    """seq, rlen, est, lst, load, cost, cumt, pmin (see the module docstring) and per slot
    (latest release, loading time, distance) of its visits."""
    wide = [np.zeros((n_slots, width), np.int64) for _ in range(5)]
    return (wide[0], np.zeros(n_slots, np.int64), wide[1], wide[2],
            np.zeros((n_slots, dims), np.int64), np.zeros(n_slots, np.int64), wide[3], wide[4],
            np.zeros((n_slots, 3), np.int64))


def _statics(fleet: Fleet) -> tuple:
    """The read-only arrays every kernel takes, in the kernels' argument order."""
    def arr(a: np.ndarray, dtype: type = np.int64) -> np.ndarray:
        return np.ascontiguousarray(a, dtype=dtype)

    n = fleet.cost.shape[1]
    visits = arr(fleet.visits)
    # Neighbours of each visit: every visit by increasing cost (first profile) from it.
    order = np.argsort(fleet.cost[0][np.ix_(visits, visits)], axis=1, kind="stable")
    neighbours = np.zeros((n, len(visits)), dtype=np.int64)
    neighbours[visits] = visits[order]
    load = arr(fleet.load)
    weight = load.sum(axis=1)
    remote = fleet.cost[0][int(fleet.start[0])].astype(np.int64)
    # Slots alike in everything are interchangeable: an insertion is tried on one empty slot of
    # each kind only.
    keys = np.column_stack([fleet.start, fleet.end, fleet.profile, fleet.capacity, fleet.fixed,
                            fleet.shift, fleet.max_duration, fleet.allowed.T])
    release, loading, distance, max_distance = fleet.extras()
    keys = np.column_stack([keys, max_distance])
    kind = np.unique(keys, axis=0, return_inverse=True)[1].reshape(-1).astype(np.int64)
    return (visits, neighbours, weight, remote, arr(fleet.penalty), arr(fleet.allowed, np.bool_),
            arr(fleet.cost), arr(fleet.travel), arr(fleet.early), arr(fleet.late), load,
            arr(fleet.start), arr(fleet.end), arr(fleet.profile), arr(fleet.capacity),
            arr(fleet.fixed), arr(fleet.shift), arr(fleet.max_duration), kind,
            (arr(release), arr(loading), arr(distance), arr(max_distance)))


@nb.njit(cache=True)
def _seed(seed: int) -> None:
    np.random.seed(seed)


@nb.njit(cache=True)
def _refresh(r, state, route_of, cost, travel, early, late, load, start, end, profile, fixed,
             shift, max_duration, ext):
    """Recompute slot ``r``'s times, load and cost; False when a window, the shift, the
    duration limit or the range is missed."""
    seq, rlen, est, lst, rload, rcost, cumt, pmin, aux = state
    release, loading, distance, max_distance = ext
    size = rlen[r]
    p = profile[r]
    for d in range(load.shape[1]):
        rload[r, d] = 0
    rel, wait, metres = 0, 0, 0
    prev = start[r]
    for k in range(size):
        node = seq[r, k]
        rel = max(rel, release[node])
        wait += loading[node]
        metres += distance[p, prev, node]
        prev = node
    if size > 0:
        metres += distance[p, prev, end[r]]
    aux[r, 0], aux[r, 1], aux[r, 2] = rel, wait, metres
    prev = start[r]
    t = max(shift[r, 0], rel) + wait
    est[r, 0] = t
    cumt[r, 0] = 0
    pmin[r, 0] = shift[r, 1]
    total = fixed[r] if size > 0 else 0
    ok = t <= shift[r, 1] and metres <= max_distance[r]
    for k in range(size):
        node = seq[r, k]
        route_of[node] = r
        step = travel[p, prev, node]
        t = max(early[node], t + step)
        if t > late[node]:
            ok = False
        est[r, k + 1] = t
        cumt[r, k + 1] = cumt[r, k] + step
        pmin[r, k + 1] = min(pmin[r, k], late[node] - cumt[r, k + 1])
        total += cost[p, prev, node]
        for d in range(load.shape[1]):
            rload[r, d] += load[node, d]
        prev = node
    step = travel[p, prev, end[r]]
    t = max(shift[r, 2], t + step)
    if t > shift[r, 3]:
        ok = False
    est[r, size + 1] = t
    cumt[r, size + 1] = cumt[r, size] + step
    pmin[r, size + 1] = min(pmin[r, size], shift[r, 3] - cumt[r, size + 1])
    if size > 0:
        total += cost[p, prev, end[r]]
        if max(t - pmin[r, size + 1], cumt[r, size + 1]) + wait > max_duration[r]:
            ok = False
    nxt = end[r]
    latest = shift[r, 3]
    lst[r, size + 1] = latest
    for k in range(size - 1, -1, -1):
        node = seq[r, k]
        latest = min(late[node], latest - travel[p, node, nxt])
        lst[r, k + 1] = latest
        nxt = node
    lst[r, 0] = min(shift[r, 1], latest - travel[p, start[r], nxt])
    rcost[r] = total
    return ok


@nb.njit(cache=True)
def _copy_route(r, src, dst, route_of):
    """Slot ``r`` of ``src`` into ``dst`` (``route_of`` follows ``dst``)."""
    size = src[1][r]
    for k in range(size):
        dst[0][r, k] = src[0][r, k]
        route_of[src[0][r, k]] = r
    for k in range(size + 2):
        dst[2][r, k] = src[2][r, k]
        dst[3][r, k] = src[3][r, k]
        dst[6][r, k] = src[6][r, k]
        dst[7][r, k] = src[7][r, k]
    for d in range(src[4].shape[1]):
        dst[4][r, d] = src[4][r, d]
    for d in range(3):
        dst[8][r, d] = src[8][r, d]
    dst[1][r] = size
    dst[5][r] = src[5][r]


@nb.njit(cache=True)
def _start(state, route_of, unserved, visits, neighbours, weight, remote, penalty, allowed,
           cost, travel, early, late, load, start, end, profile, capacity, fixed, shift,
           max_duration, kind, ext):
    """Insert every visit greedily, heaviest first (no blinks); the number left out, or -1
    when a mandatory visit fits nowhere."""
    n_slots = state[1].shape[0]
    for r in range(n_slots):
        _refresh(r, state, route_of, cost, travel, early, late, load, start, end, profile, fixed,
                 shift, max_duration, ext)
    touched = np.zeros(n_slots, np.bool_)
    order = visits[np.argsort(-weight[visits], kind="mergesort")]
    return _insert(order, 0.0, -1, state, route_of, touched, unserved, 0, penalty, allowed, cost,
                   travel, early, late, load, start, end, profile, capacity, fixed, shift,
                   max_duration, kind, ext)


@nb.njit(cache=True)
def _insert(order, blink, closed, state, route_of, touched, unserved, n_unserved, penalty, allowed,
            cost, travel, early, late, load, start, end, profile, capacity, fixed, shift,
            max_duration, kind, ext):
    """Insert the visits of ``order`` one by one at their cheapest feasible position; optional
    visits that fit nowhere or cost more than their penalty are appended to ``unserved``. No
    empty slot of kind ``closed`` (that of a route just emptied; -1: none) is opened while a
    route in use or a slot of another kind has room.
    Returns the new length of ``unserved``, or -1 when a mandatory visit fits nowhere."""
    seq, rlen, est, lst, rload = state[0], state[1], state[2], state[3], state[4]
    cumt, pmin, aux = state[6], state[7], state[8]
    release, loading, distance, max_distance = ext
    n_slots = rlen.shape[0]
    tried = np.zeros(kind.max() + 1, np.bool_)
    for i in range(order.shape[0]):
        c = order[i]
        best, best_r, best_k = _INF, -1, -1
        tried[:] = False
        for i_pass in range(2 * n_slots):  # routes in use first, then empty slots
            empty_pass = i_pass >= n_slots
            r = i_pass % n_slots
            size = rlen[r]
            if (size == 0) != empty_pass or not allowed[c, r]:
                continue
            if empty_pass and kind[r] == closed and best_r >= 0:
                continue
            if size == 0:
                if tried[kind[r]]:
                    continue
                tried[kind[r]] = True
            fits = True
            for d in range(load.shape[1]):
                if rload[r, d] + load[c, d] > capacity[r, d]:
                    fits = False
                    break
            if not fits:
                continue
            p = profile[r]
            e = size + 1
            # Leaving later (c released late, or loaded at the start) shifts every earliest
            # service start to max(est, new start + travel time so far).
            wait = aux[r, 1] + loading[c]
            leave = max(shift[r, 0], aux[r, 0], release[c]) + wait
            if leave > shift[r, 1]:
                continue
            prev = start[r]
            for k in range(size + 1):
                nxt = seq[r, k] if k < size else end[r]
                if blink > 0.0 and np.random.random() < blink:
                    prev = nxt
                    continue
                delta = cost[p, prev, c] + cost[p, c, nxt] - cost[p, prev, nxt]
                if size == 0:
                    delta += fixed[r] + cost[p, prev, nxt]
                if delta < best:
                    feasible = leave <= pmin[r, k]
                    if feasible and max_distance[r] < _INF:
                        metres = (distance[p, prev, c] + distance[p, c, nxt]
                                  - distance[p, prev, nxt])
                        if size == 0:
                            metres += distance[p, prev, nxt]
                        feasible = aux[r, 2] + metres <= max_distance[r]
                    t_ac = travel[p, prev, c]
                    t_cb = travel[p, c, nxt]
                    tc = max(early[c], max(est[r, k], leave + cumt[r, k]) + t_ac)
                    nxt_early = early[nxt] if k < size else shift[r, 2]
                    tb = max(nxt_early, tc + t_cb)
                    feasible = feasible and tc <= late[c] and tb <= lst[r, k + 1]
                    if feasible and max_duration[r] < _INF:
                        extra = t_ac + t_cb - travel[p, prev, nxt]
                        depart = min(pmin[r, k], late[c] - cumt[r, k] - t_ac,
                                     lst[r, k + 1] - cumt[r, k + 1] - extra)
                        back = max(est[r, e], leave + cumt[r, e] + extra,
                                   tb + cumt[r, e] - cumt[r, k + 1])
                        feasible = (max(back - depart, cumt[r, e] + extra) + wait
                                    <= max_duration[r])
                    if feasible:
                        best, best_r, best_k = delta, r, k
                prev = nxt
        if penalty[c] >= 0 and (best_r < 0 or best >= penalty[c]):
            unserved[n_unserved] = c
            n_unserved += 1
            continue
        if best_r < 0:
            return -1
        size = rlen[best_r]
        for k in range(size, best_k, -1):
            seq[best_r, k] = seq[best_r, k - 1]
        seq[best_r, best_k] = c
        rlen[best_r] = size + 1
        _refresh(best_r, state, route_of, cost, travel, early, late, load, start, end, profile,
                 fixed, shift, max_duration, ext)
        touched[best_r] = True
    return n_unserved


@nb.njit(cache=True)
def _ruin(state, route_of, touched, removed, visits, neighbours, cost, travel, early, late,
          load, start, end, profile, fixed, shift, max_duration, ext):
    """Remove strings near a random seed visit, or (one time in fifty) a whole route; returns
    how many visits went into ``removed`` (-1 when a shortened route broke a window or its
    duration limit: travel times need not obey the triangle inequality, e.g. after DIMACS
    truncation or on road matrices) and the slot of the route emptied (-1: none)."""
    seq, rlen = state[0], state[1]
    used = 0
    served = 0
    for r in range(rlen.shape[0]):
        if rlen[r] > 0:
            used += 1
            served += rlen[r]
    ls_max = min(_MAX_STRING, served / max(1, used))
    ks_max = 4.0 * _AVG_REMOVED / (1.0 + ls_max) - 1.0
    ks = int(1.0 + np.random.random() * ks_max)
    n_removed = 0
    if used > 1 and np.random.random() < _ELIMINATE:
        # Empty the smaller of two random routes (the caller opens none of its kind).
        pick = np.random.randint(0, used, 2)
        found = -1
        for r in range(rlen.shape[0]):
            if rlen[r] > 0:
                if (pick[0] == 0 or pick[1] == 0) and (found < 0 or rlen[r] < rlen[found]):
                    found = r
                pick -= 1
        for k in range(rlen[found]):
            removed[n_removed] = seq[found, k]
            route_of[seq[found, k]] = -1
            n_removed += 1
        rlen[found] = 0
        _refresh(found, state, route_of, cost, travel, early, late, load, start, end, profile,
                 fixed, shift, max_duration, ext)
        touched[found] = True
        return n_removed, found
    seed = visits[np.random.randint(0, visits.shape[0])]
    ruined = 0
    ok = True
    for i in range(neighbours.shape[1]):
        if ruined >= ks:
            break
        c = neighbours[seed, i]
        r = route_of[c]
        if r < 0 or touched[r]:
            continue
        size = rlen[r]
        length = int(1.0 + np.random.random() * min(float(size), ls_max))
        pos = 0
        while seq[r, pos] != c:
            pos += 1
        keep = 0
        if length < size and np.random.random() < _SPLIT_RATE:
            keep = 1
            while length + keep < size and np.random.random() < 0.5:
                keep += 1
        span = length + keep
        lo, hi = max(0, pos - span + 1), min(pos, size - span)
        first = lo + np.random.randint(0, hi - lo + 1)
        kept_at = first + np.random.randint(0, length + 1) if keep else first + span
        w = first
        for k in range(first, size):
            node = seq[r, k]
            if k < first + span and not (kept_at <= k < kept_at + keep):
                removed[n_removed] = node
                n_removed += 1
                route_of[node] = -1
            else:
                seq[r, w] = node
                w += 1
        rlen[r] = w
        if not _refresh(r, state, route_of, cost, travel, early, late, load, start, end, profile,
                        fixed, shift, max_duration, ext):
            ok = False
        touched[r] = True
        ruined += 1
    return (n_removed if ok else -1), -1


@nb.njit(cache=True)
def _run(iterations, temp, cur_cost, best_cost, n_unserved, unserved, cur, work, best, route_of,
         visits, neighbours, weight, remote, penalty, allowed, cost, travel, early, late, load,
         start, end, profile, capacity, fixed, shift, max_duration, kind, ext):
    """``iterations`` of ruin, recreate and annealing acceptance at temperature ``temp``.

    ``work`` equals ``cur`` on entry and on exit; only the slots an iteration touched are copied
    back (accepted: work -> cur; rejected: cur -> work). ``best`` is copied whole on a new best.
    ``unserved[:n_unserved]`` (optional visits left out of ``cur``) are offered again every
    iteration. Returns the current and best costs and the new ``n_unserved``.
    """
    n_slots = cur[1].shape[0]
    touched = np.zeros(n_slots, np.bool_)
    removed = np.empty(visits.shape[0] + 1, np.int64)
    left_out = np.empty(visits.shape[0] + 1, np.int64)
    for _ in range(iterations):
        touched[:] = False
        n_removed, emptied = _ruin(work, route_of, touched, removed, visits, neighbours, cost, travel,
                          early, late, load, start, end, profile, fixed, shift, max_duration, ext)
        n_left = -1
        if n_removed >= 0:
            order = np.concatenate((removed[:n_removed], unserved[:n_unserved]))
            pick = np.random.random()
            if pick < 4.0 / 11.0:
                np.random.shuffle(order)
            elif pick < 8.0 / 11.0:
                order = order[np.argsort(-weight[order], kind="mergesort")]
            elif pick < 10.0 / 11.0:
                order = order[np.argsort(-remote[order], kind="mergesort")]
            else:
                order = order[np.argsort(remote[order], kind="mergesort")]
            closed = kind[emptied] if emptied >= 0 else -1
            n_left = _insert(order, _BLINK, closed, work, route_of, touched, left_out, 0, penalty,
                             allowed, cost, travel, early, late, load, start, end, profile,
                             capacity, fixed, shift, max_duration, kind, ext)
        ok = n_left >= 0
        cost_new = cur_cost
        if ok:
            for r in range(n_slots):
                if touched[r]:
                    cost_new += work[5][r] - cur[5][r]
            for i in range(n_unserved):
                cost_new -= penalty[unserved[i]]
            for i in range(n_left):
                cost_new += penalty[left_out[i]]
            ok = cost_new < cur_cost - temp * math.log(1.0 - np.random.random())
        for r in range(n_slots):
            if touched[r]:
                if ok:
                    _copy_route(r, work, cur, route_of)
                else:
                    _copy_route(r, cur, work, route_of)
        if not ok:  # visits left out of cur may sit in a rejected route
            for i in range(n_unserved):
                route_of[unserved[i]] = -1
        if ok:
            cur_cost = cost_new
            n_unserved = n_left
            unserved[:n_left] = left_out[:n_left]
            if cost_new < best_cost:
                best_cost = cost_new
                for r in range(n_slots):
                    _copy_route(r, cur, best, route_of)
    return cur_cost, best_cost, n_unserved
