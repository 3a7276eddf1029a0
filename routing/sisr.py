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
time from the start and ``pmin`` the running minimum of ``late - cumt``; the load on leaving each
position and its running maxima from both ends. With these, inserting a visit anywhere is checked
exactly in O(1): capacity, time windows (waiting allowed), a later departure (a release), the range
and the shortest possible route duration, ``max(end - latest departure, travel time)``; a pair in
O(n^2) per route. (The per-slot total load ``rload`` is kept only for the state's layout: since the
load profile, capacities are checked along the route.)
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

    Pickup and delivery pairs (a supply point's parcel picked up on the way): ``mate[i]`` the
    other node of ``i``'s pair (-1: none; the pickup is the node whose ``change`` is not negative),
    both on one route, the pickup first. The load along a route starts at the sum of its visits'
    ``at_start`` and changes by ``change[i]`` at each visit (a delivery from the hub: ``load`` on
    board at the start, minus at the visit; a pair: plus at the pickup, minus at the delivery);
    it must stay within the capacity everywhere.
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
    at_start: np.ndarray | None = None
    change: np.ndarray | None = None
    mate: np.ndarray | None = None

    def extras(self) -> tuple[np.ndarray, ...]:
        """release, loading, distance, max_distance, at_start, change and mate, by default:
        no release or loading, no range, every load on board from the start, no pairs."""
        n, slots = self.cost.shape[1], self.start.shape[0]
        zeros = np.zeros(n, np.int64)
        return (zeros if self.release is None else self.release,
                zeros if self.loading is None else self.loading,
                np.zeros_like(self.cost) if self.distance is None else self.distance,
                np.full(slots, NO_LIMIT, np.int64) if self.max_distance is None
                else self.max_distance,
                self.load if self.at_start is None else self.at_start,
                -self.load if self.change is None else self.change,
                np.full(n, -1, np.int64) if self.mate is None else self.mate)


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
    """seq, rlen, est, lst, load, cost, cumt, pmin (see the module docstring), per slot
    (latest release, loading time, distance) of its visits, and along the path the load on
    leaving each position, its running maximum from the start and from the end."""
    wide = [np.zeros((n_slots, width), np.int64) for _ in range(5)]
    loads = [np.zeros((n_slots, width, dims), np.int64) for _ in range(3)]
    return (wide[0], np.zeros(n_slots, np.int64), wide[1], wide[2],
            np.zeros((n_slots, dims), np.int64), np.zeros(n_slots, np.int64), wide[3], wide[4],
            np.zeros((n_slots, 3), np.int64), loads[0], loads[1], loads[2])


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
    release, loading, distance, max_distance, at_start, change, mate = fleet.extras()
    keys = np.column_stack([keys, max_distance])
    kind = np.unique(keys, axis=0, return_inverse=True)[1].reshape(-1).astype(np.int64)
    return (visits, neighbours, weight, remote, arr(fleet.penalty), arr(fleet.allowed, np.bool_),
            arr(fleet.cost), arr(fleet.travel), arr(fleet.early), arr(fleet.late), load,
            arr(fleet.start), arr(fleet.end), arr(fleet.profile), arr(fleet.capacity),
            arr(fleet.fixed), arr(fleet.shift), arr(fleet.max_duration), kind,
            (arr(release), arr(loading), arr(distance), arr(max_distance), arr(at_start),
             arr(change), arr(mate), arr(fleet.capacity)))


@nb.njit(cache=True)
def _seed(seed: int) -> None:
    np.random.seed(seed)


@nb.njit(cache=True)
def _refresh(r, state, route_of, cost, travel, early, late, load, start, end, profile, fixed,
             shift, max_duration, ext):
    """Recompute slot ``r``'s times, load and cost; False when a window, the shift, the
    duration limit or the range is missed."""
    seq, rlen, est, lst, rload, rcost, cumt, pmin, aux, cload, pmaxl, smaxl = state
    release, loading, distance, max_distance, at_start, change = ext[:6]
    capacity = ext[7]
    size = rlen[r]
    p = profile[r]
    for d in range(load.shape[1]):
        rload[r, d] = 0
        cload[r, 0, d] = 0
    rel, wait, metres = 0, 0, 0
    prev = start[r]
    for k in range(size):
        node = seq[r, k]
        rel = max(rel, release[node])
        wait += loading[node]
        for d in range(load.shape[1]):
            cload[r, 0, d] += at_start[node, d]
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
            cload[r, k + 1, d] = cload[r, k, d] + change[node, d]
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
    for d in range(load.shape[1]):
        high = 0
        for k in range(size + 1):
            high = max(high, cload[r, k, d])
            pmaxl[r, k, d] = high
        if high > capacity[r, d]:
            ok = False
        high = 0
        for k in range(size, -1, -1):
            high = max(high, cload[r, k, d])
            smaxl[r, k, d] = high
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
    for k in range(size + 1):
        for d in range(src[9].shape[2]):
            dst[9][r, k, d] = src[9][r, k, d]
            dst[10][r, k, d] = src[10][r, k, d]
            dst[11][r, k, d] = src[11][r, k, d]
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
def _with_pair(route, size, i, j, c, m, out):
    """``route[:size]`` with pickup ``c`` after path position ``i`` and delivery ``m`` after
    path position ``j >= i`` (path position k + 1 is ``route[k]``) into ``out``; its length."""
    n = 0
    for k in range(size + 1):
        if k == i:
            out[n] = c
            n += 1
            if j == i:
                out[n] = m
                n += 1
        if k < size:
            out[n] = route[k]
            n += 1
            if k + 1 == j and j > i:
                out[n] = m
                n += 1
    return n


@nb.njit(cache=True)
def _duration_ok(r, path, n_path, leave, wait, travel, early, late, start, end, shift,
                 max_duration, p):
    """Whether slot ``r`` driving ``path[:n_path]`` (visits only), leaving at ``leave`` at the
    earliest, meets its windows, shift end and duration limit (the exact O(n) check behind a
    pair insertion on a slot with a duration limit)."""
    t = leave
    cum = 0
    low = shift[r, 1]
    for k in range(n_path + 1):
        a = path[k - 1] if k > 0 else start[r]
        b = path[k] if k < n_path else end[r]
        step = travel[p, a, b]
        t = max(early[b] if k < n_path else shift[r, 2], t + step)
        cum += step
        hi = late[b] if k < n_path else shift[r, 3]
        if t > hi:
            return False
        low = min(low, hi - cum)
    return max(t - low, cum) + wait <= max_duration[r]


@nb.njit(cache=True)
def _best_pair(r, c, m, best, blink, state, cost, travel, early, late, start, end, profile,
               fixed, shift, max_duration, ext):
    """Cheapest feasible insertion of the pair (pickup ``c``, delivery ``m``) into slot ``r``
    below ``best``: (cost, pickup position, delivery position) or (best, -1, -1). The pickup goes
    after path position ``i``, the delivery after path position ``j >= i`` of the route as it is
    (right after the pickup when ``j == i``); the times pushed by the pickup are carried along
    ``j``, so the scan is exact and O(size^2) per slot."""
    seq, rlen, est, lst = state[0], state[1], state[2], state[3]
    aux, cload, pmaxl = state[8], state[9], state[10]
    distance, max_distance, at_start, change = ext[2], ext[3], ext[4], ext[5]
    capacity = ext[7]
    size = rlen[r]
    p = profile[r]
    dims = cload.shape[2]
    wait = aux[r, 1]
    leave = est[r, 0]
    best_i, best_j = -1, -1
    path = np.empty(size + 2, np.int64)
    for i in range(size + 1):
        a = start[r] if i == 0 else seq[r, i - 1]
        a1 = seq[r, i] if i < size else end[r]
        if blink > 0.0 and np.random.random() < blink:
            continue
        fits = True
        for d in range(dims):
            if pmaxl[r, i, d] + at_start[c, d] + at_start[m, d] > capacity[r, d]:
                fits = False
        if not fits:
            continue
        tp = max(early[c], est[r, i] + travel[p, a, c])
        if tp > late[c]:
            continue
        d_in = cost[p, a, c] + cost[p, c, a1] - cost[p, a, a1]
        m_in = distance[p, a, c] + distance[p, c, a1] - distance[p, a, a1]
        if size == 0:
            d_in += fixed[r] + cost[p, a, a1]
            m_in += distance[p, a, a1]
        # j == i: the delivery right after the pickup.
        run = np.empty(dims, np.int64)
        for d in range(dims):
            run[d] = cload[r, i, d]
        t_prev = tp  # service start at the node the delivery would follow
        for j in range(i, size + 1):
            if j > i:
                # Path position j (a visit) pushed by the pickup before it.
                node = seq[r, j - 1]
                before = seq[r, j - 2] if j - 1 > i else c
                t_prev = max(early[node], t_prev + travel[p, before, node])
                if t_prev > late[node]:
                    break
                for d in range(dims):
                    run[d] = max(run[d], cload[r, j, d])
            fits = True
            for d in range(dims):
                if run[d] + at_start[c, d] + at_start[m, d] + change[c, d] > capacity[r, d]:
                    fits = False
            if not fits:
                break  # the load between pickup and delivery only grows with j
            b = seq[r, j - 1] if j > i else c  # the node the delivery follows
            b1 = seq[r, j] if j < size else end[r]
            if j == i:
                delta = (cost[p, a, c] + cost[p, c, m] + cost[p, m, a1] - cost[p, a, a1])
                metres = (distance[p, a, c] + distance[p, c, m] + distance[p, m, a1]
                          - distance[p, a, a1])
                if size == 0:
                    delta += fixed[r] + cost[p, a, a1]
                    metres += distance[p, a, a1]
            else:
                delta = d_in + cost[p, b, m] + cost[p, m, b1] - cost[p, b, b1]
                metres = m_in + distance[p, b, m] + distance[p, m, b1] - distance[p, b, b1]
            if delta >= best:
                continue
            if aux[r, 2] + metres > max_distance[r]:
                continue
            td = max(early[m], t_prev + travel[p, b, m])
            if td > late[m]:
                continue
            nxt_early = early[b1] if j < size else shift[r, 2]
            if max(nxt_early, td + travel[p, m, b1]) > lst[r, j + 1]:
                continue
            if max_duration[r] < _INF:
                n_path = _with_pair(seq[r], size, i, j, c, m, path)
                if not _duration_ok(r, path, n_path, leave, wait, travel, early, late, start,
                                    end, shift, max_duration, p):
                    continue
            best, best_i, best_j = delta, i, j
    return best, best_i, best_j


@nb.njit(cache=True)
def _insert(order, blink, closed, state, route_of, touched, unserved, n_unserved, penalty, allowed,
            cost, travel, early, late, load, start, end, profile, capacity, fixed, shift,
            max_duration, kind, ext):
    """Insert the visits of ``order`` one by one at their cheapest feasible position (a pair's
    pickup with its delivery; the delivery itself is skipped); optional visits that fit nowhere
    or cost more than their penalty are appended to ``unserved``. No empty slot of kind
    ``closed`` (that of a route just emptied; -1: none) is opened while a route in use or a slot
    of another kind has room.
    Returns the new length of ``unserved``, or -1 when a mandatory visit fits nowhere."""
    seq, rlen, est, lst = state[0], state[1], state[2], state[3]
    cumt, pmin, aux, pmaxl, smaxl = state[6], state[7], state[8], state[10], state[11]
    release, loading, distance, max_distance, at_start, change, mate, _ = ext
    n_slots = rlen.shape[0]
    dims = load.shape[1]
    tried = np.zeros(kind.max() + 1, np.bool_)
    buf = np.empty(seq.shape[1], np.int64)
    for i in range(order.shape[0]):
        c = order[i]
        m = mate[c]
        paired = m >= 0
        if paired and change[c, 0] < 0:
            continue  # a delivery: inserted with its pickup
        best, best_r, best_k, best_j = _INF, -1, -1, -1
        tried[:] = False
        for i_pass in range(2 * n_slots):  # routes in use first, then empty slots
            empty_pass = i_pass >= n_slots
            r = i_pass % n_slots
            size = rlen[r]
            if (size == 0) != empty_pass or not allowed[c, r] or (paired and not allowed[m, r]):
                continue
            if empty_pass and kind[r] == closed and best_r >= 0:
                continue
            if size == 0:
                if tried[kind[r]]:
                    continue
                tried[kind[r]] = True
            if paired:
                found, k_i, k_j = _best_pair(r, c, m, best, blink, state, cost, travel, early,
                                             late, start, end, profile, fixed, shift,
                                             max_duration, ext)
                if k_i >= 0:
                    best, best_r, best_k, best_j = found, r, k_i, k_j
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
                    for d in range(dims):
                        after = at_start[c, d] + change[c, d]
                        if (pmaxl[r, k, d] + at_start[c, d] > capacity[r, d]
                                or (after > 0 and smaxl[r, k, d] + after > capacity[r, d])):
                            feasible = False
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
        bar = penalty[c] if not paired else (
            penalty[c] + penalty[m] if penalty[c] >= 0 and penalty[m] >= 0 else -1)
        if bar >= 0 and (best_r < 0 or best >= bar):
            unserved[n_unserved] = c
            n_unserved += 1
            if paired:
                unserved[n_unserved] = m
                n_unserved += 1
            continue
        if best_r < 0:
            return -1
        size = rlen[best_r]
        if paired:  # pickup after path position best_k, delivery after position best_j
            n_path = _with_pair(seq[best_r], size, best_k, best_j, c, m, buf)
            for k in range(n_path):
                seq[best_r, k] = buf[k]
            rlen[best_r] = n_path
        else:
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
    mate = ext[6]
    gone = np.zeros(route_of.shape[0], np.bool_)
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
        for k in range(first, first + span):
            if not (kept_at <= k < kept_at + keep):
                gone[seq[r, k]] = True
                if mate[seq[r, k]] >= 0:  # a pair leaves its route whole
                    gone[mate[seq[r, k]]] = True
        w = 0
        for k in range(size):
            node = seq[r, k]
            if gone[node]:
                gone[node] = False
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
