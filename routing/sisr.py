"""Compiled kernels of the ruin-and-recreate search on plain instances (SISR, numba).

Slack induction by string removals (Christiaens & Vanden Berghe 2020): remove a few strings of
consecutive customers from routes near a random seed customer, re-insert every removed customer
at its cheapest feasible position (skipping each position with a small "blink" probability),
accept the result under simulated annealing. Its strength is the number of iterations: hundreds
of thousands in a few seconds. The first version of this search was numpy-vectorised Python and
managed about a thousand iterations per second on 100 customers; compiled with numba the same
algorithm runs 50-100 times more (benchmarks/README.md, tuning log), which is what closes most of
the gap to VROOM and PyVRP.

Only :mod:`routing.core` calls this module; the arrays are prepared there (:class:`Plain`).
State of a solution: ``seq[r, :rlen[r]]`` the customers of route slot ``r`` (slots with
``rlen == 0`` are unused vehicles), ``est[r, k]`` / ``lst[r, k]`` the earliest and latest
feasible service start at position ``k`` of the path depot, customers..., depot, ``load[r]`` and
``cost[r]``. With the earliest start before and the latest start after a position, inserting a
customer there is checked exactly in O(1) (time windows with waiting allowed).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time

import numba as nb
import numpy as np

_AVG_REMOVED = 10.0  # c-bar of the paper: customers removed per ruin on average
_MAX_STRING = 10.0  # L-max of the paper: longest string removed from one route
_SPLIT_RATE = 0.5  # share of ruins of a route that keep a substring in the middle (split string)
_BLINK = 0.01  # probability of skipping a position in the recreate step
_T0 = 0.3  # initial annealing temperature, per unit of cost per customer
_T_RATIO = 30.0  # initial / final temperature
_CHUNK_S = 0.02  # wall-clock seconds between two looks at the clock and the temperature
_INF = np.int64(2**62)


@dataclasses.dataclass(frozen=True)
class Plain:
    """A plain instance as the kernels read it (one depot, identical vehicles, all mandatory).

    ``travel[a, b]`` is the time from the service start at ``a`` to arrival at ``b`` (service of
    ``a`` included); ``load`` holds absolute demands (every load has one sign on a plain
    instance); ``early``/``late`` of the depot are the vehicles' shift.
    """

    depot: int
    cost: np.ndarray
    travel: np.ndarray
    early: np.ndarray
    late: np.ndarray
    load: np.ndarray
    capacity: np.ndarray
    fleet: int

    @property
    def customers(self) -> np.ndarray:
        return np.array([i for i in range(self.cost.shape[0]) if i != self.depot], dtype=np.int64)


def schedule(plain: Plain, route: list[int]) -> list[int]:
    """Earliest service starts along depot, ``route``, depot (the result's arrival times)."""
    path = [plain.depot, *route, plain.depot]
    starts = [int(plain.early[plain.depot])]
    for a, b in itertools.pairwise(path):
        starts.append(max(int(plain.early[b]), starts[-1] + int(plain.travel[a, b])))
    return starts


def search(plain: Plain, routes: list[list[int]], deadline: float, seed: int
           ) -> tuple[list[list[int]], int] | None:
    """Improve feasible ``routes`` (customers may be missing: they are inserted first) until the
    ``time.time()`` instant ``deadline``; returns the best routes and their cost, or None when the
    missing customers do not fit the fleet (greedy insertion found no feasible position)."""
    n = plain.cost.shape[0]
    customers = plain.customers
    fleet = max(plain.fleet, len(routes))
    width = n + 2
    state = _empty_state(fleet, width, plain.load.shape[1])
    route_of = np.full(n, -1, dtype=np.int64)
    for r, route in enumerate(routes):
        state[0][r, :len(route)] = route
        state[1][r] = len(route)
    statics = _statics(plain, customers)
    served = {c for route in routes for c in route}
    missing = np.array([c for c in customers if int(c) not in served], dtype=np.int64)
    _seed(seed)
    if not _start(missing, state, route_of, *statics):
        return None
    work = tuple(a.copy() for a in state)
    best = tuple(a.copy() for a in state)
    cur_cost = int(state[5].sum())
    best_cost = cur_cost
    # Temperatures relative to the cost per customer (measured on X and Solomon at 10 s).
    t0 = _T0 * max(1.0, cur_cost / max(1, len(customers)))
    t1 = t0 / _T_RATIO
    begin = time.time()
    span = max(1e-3, deadline - begin)
    chunk = 50
    while True:  # at least one chunk, so that warm_up() compiles every kernel
        now = time.time()
        temp = t0 * (t1 / t0) ** min(1.0, (now - begin) / span)
        cur_cost, best_cost = _run(chunk, temp, cur_cost, best_cost, state, work, best,
                                   route_of, *statics)
        left = deadline - time.time()
        if left <= 0:
            break
        # Aim at _CHUNK_S per call, and never far past the deadline.
        rate = chunk / max(time.time() - now, 1e-6)
        chunk = int(max(1, min(rate * _CHUNK_S, rate * left, 2 * chunk + 1)))
    seq, rlen = best[0], best[1]
    found = [seq[r, :rlen[r]].tolist() for r in range(fleet) if rlen[r]]
    return found, best_cost


def warm_up() -> None:
    """Compile every kernel (about 5 s) or load it from numba's cache beside this file.

    Run once when the environment is set up (``make``), so that no solve pays the compilation
    inside its time budget.
    """
    n = 6
    coords = np.arange(n, dtype=np.int64)
    cost = np.abs(coords[:, None] - coords[None, :])
    plain = Plain(depot=0, cost=cost, travel=cost, early=np.zeros(n, np.int64),
                  late=np.full(n, 100, np.int64), load=np.ones((n, 1), np.int64),
                  capacity=np.array([3], np.int64), fleet=3)
    search(plain, [], time.time() + 0.05, 0)


def _empty_state(fleet: int, width: int, dims: int) -> tuple[np.ndarray, ...]:
    return (np.zeros((fleet, width), np.int64), np.zeros(fleet, np.int64),
            np.zeros((fleet, width), np.int64), np.zeros((fleet, width), np.int64),
            np.zeros((fleet, dims), np.int64), np.zeros(fleet, np.int64))


def _statics(plain: Plain, customers: np.ndarray) -> tuple:
    """The read-only arrays every kernel takes, in the kernels' argument order."""
    cost = np.ascontiguousarray(plain.cost, dtype=np.int64)
    travel = np.ascontiguousarray(plain.travel, dtype=np.int64)
    early = np.ascontiguousarray(plain.early, dtype=np.int64)
    late = np.ascontiguousarray(plain.late, dtype=np.int64)
    load = np.ascontiguousarray(plain.load, dtype=np.int64)
    capacity = np.ascontiguousarray(plain.capacity, dtype=np.int64)
    order = np.argsort(cost[np.ix_(customers, customers)], axis=1, kind="stable")
    neighbours = np.zeros((cost.shape[0], len(customers)), dtype=np.int64)
    neighbours[customers] = customers[order]
    depot = plain.depot
    solo = np.zeros(cost.shape[0], dtype=np.bool_)
    for c in customers:
        starts = schedule(plain, [int(c)])
        solo[c] = (starts[1] <= late[c] and starts[2] <= late[depot]
                   and bool((load[c] <= capacity).all()))
    weight = load.sum(axis=1)
    remote = cost[depot].copy()
    return (depot, customers, neighbours, solo, weight, remote, cost, travel, early, late, load,
            capacity)


@nb.njit(cache=True)
def _seed(seed: int) -> None:
    np.random.seed(seed)


@nb.njit(cache=True)
def _refresh(r, state, route_of, depot, cost, travel, early, late, load):
    """Recompute slot ``r``'s starts, load and cost; False when a window or the shift is missed."""
    seq, rlen, est, lst, rload, rcost = state
    size = rlen[r]
    for d in range(load.shape[1]):
        rload[r, d] = 0
    prev = depot
    t = early[depot]
    est[r, 0] = t
    total = 0
    ok = True
    for k in range(size):
        node = seq[r, k]
        route_of[node] = r
        t = max(early[node], t + travel[prev, node])
        if t > late[node]:
            ok = False
        est[r, k + 1] = t
        total += cost[prev, node]
        for d in range(load.shape[1]):
            rload[r, d] += load[node, d]
        prev = node
    t = max(early[depot], t + travel[prev, depot])
    if t > late[depot]:
        ok = False
    est[r, size + 1] = t
    total += cost[prev, depot]
    nxt = depot
    latest = late[depot]
    lst[r, size + 1] = latest
    for k in range(size - 1, -1, -1):
        node = seq[r, k]
        latest = min(late[node], latest - travel[node, nxt])
        lst[r, k + 1] = latest
        nxt = node
    lst[r, 0] = min(late[depot], latest - travel[depot, nxt])
    rcost[r] = total if size > 0 else 0
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
    for d in range(src[4].shape[1]):
        dst[4][r, d] = src[4][r, d]
    dst[1][r] = size
    dst[5][r] = src[5][r]


@nb.njit(cache=True)
def _start(missing, state, route_of, depot, customers, neighbours, solo, weight, remote,
           cost, travel, early, late, load, capacity):
    """Schedule the given routes, then insert ``missing`` greedily (no blinks)."""
    for r in range(state[1].shape[0]):
        if not _refresh(r, state, route_of, depot, cost, travel, early, late, load):
            return False
        for d in range(load.shape[1]):
            if state[4][r, d] > capacity[d]:
                return False
    touched = np.zeros(state[1].shape[0], np.bool_)
    order = missing[np.argsort(-weight[missing], kind="mergesort")]
    return _insert(order, 0.0, state, route_of, touched, depot, solo, cost, travel, early, late,
                   load, capacity)


@nb.njit(cache=True)
def _insert(order, blink, state, route_of, touched, depot, solo, cost, travel, early, late,
            load, capacity):
    """Insert the customers of ``order`` one by one at their cheapest feasible position (a new
    route when cheaper and a vehicle is free); False when one has no feasible position."""
    seq, rlen, est, lst, rload = state[0], state[1], state[2], state[3], state[4]
    fleet = rlen.shape[0]
    for i in range(order.shape[0]):
        c = order[i]
        best, best_r, best_k = _INF, -1, -1
        for r in range(fleet):
            size = rlen[r]
            if size == 0:
                continue
            fits = True
            for d in range(load.shape[1]):
                if rload[r, d] + load[c, d] > capacity[d]:
                    fits = False
                    break
            if not fits:
                continue
            prev = depot
            for k in range(size + 1):
                nxt = seq[r, k] if k < size else depot
                if blink > 0.0 and np.random.random() < blink:
                    prev = nxt
                    continue
                delta = cost[prev, c] + cost[c, nxt] - cost[prev, nxt]
                if delta < best:
                    tc = max(early[c], est[r, k] + travel[prev, c])
                    if tc <= late[c] and max(early[nxt], tc + travel[c, nxt]) <= lst[r, k + 1]:
                        best, best_r, best_k = delta, r, k
                prev = nxt
        if solo[c]:
            fresh = cost[depot, c] + cost[c, depot]
            if fresh < best:
                for r in range(fleet):
                    if rlen[r] == 0:
                        best, best_r, best_k = fresh, r, 0
                        break
        if best_r < 0:
            return False
        size = rlen[best_r]
        for k in range(size, best_k, -1):
            seq[best_r, k] = seq[best_r, k - 1]
        seq[best_r, best_k] = c
        rlen[best_r] = size + 1
        _refresh(best_r, state, route_of, depot, cost, travel, early, late, load)
        touched[best_r] = True
    return True


@nb.njit(cache=True)
def _ruin(state, route_of, touched, removed, depot, customers, neighbours, cost, travel, early,
          late, load):
    """Remove strings near a random seed customer; returns how many customers went into
    ``removed`` (-1 when a shortened route broke a window: travel times need not obey the
    triangle inequality, e.g. after DIMACS truncation)."""
    seq, rlen = state[0], state[1]
    used = 0
    for r in range(rlen.shape[0]):
        if rlen[r] > 0:
            used += 1
    ls_max = min(_MAX_STRING, customers.shape[0] / max(1, used))
    ks_max = 4.0 * _AVG_REMOVED / (1.0 + ls_max) - 1.0
    ks = int(1.0 + np.random.random() * ks_max)
    seed = customers[np.random.randint(0, customers.shape[0])]
    n_removed = 0
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
        if not _refresh(r, state, route_of, depot, cost, travel, early, late, load):
            ok = False
        touched[r] = True
        ruined += 1
    return n_removed if ok else -1


@nb.njit(cache=True)
def _run(iterations, temp, cur_cost, best_cost, cur, work, best, route_of, depot, customers,
         neighbours, solo, weight, remote, cost, travel, early, late, load, capacity):
    """``iterations`` of ruin, recreate and annealing acceptance at temperature ``temp``.

    ``work`` equals ``cur`` on entry and on exit; only the slots an iteration touched are copied
    back (accepted: work -> cur; rejected: cur -> work). ``best`` is copied whole on a new best.
    """
    fleet = cur[1].shape[0]
    touched = np.zeros(fleet, np.bool_)
    removed = np.empty(customers.shape[0], np.int64)
    for _ in range(iterations):
        touched[:] = False
        n_removed = _ruin(work, route_of, touched, removed, depot, customers, neighbours, cost,
                          travel, early, late, load)
        ok = n_removed >= 0
        if ok:
            order = removed[:max(0, n_removed)].copy()
            pick = np.random.random()
            if pick < 4.0 / 11.0:
                np.random.shuffle(order)
            elif pick < 8.0 / 11.0:
                order = order[np.argsort(-weight[order], kind="mergesort")]
            elif pick < 10.0 / 11.0:
                order = order[np.argsort(-remote[order], kind="mergesort")]
            else:
                order = order[np.argsort(remote[order], kind="mergesort")]
            ok = _insert(order, _BLINK, work, route_of, touched, depot, solo, cost, travel, early,
                         late, load, capacity)
        cost_new = cur_cost
        if ok:
            for r in range(fleet):
                if touched[r]:
                    cost_new += work[5][r] - cur[5][r]
            ok = cost_new < cur_cost - temp * math.log(1.0 - np.random.random())
        for r in range(fleet):
            if touched[r]:
                if ok:
                    _copy_route(r, work, cur, route_of)
                else:
                    _copy_route(r, cur, work, route_of)
        if ok:
            cur_cost = cost_new
            if cost_new < best_cost:
                best_cost = cost_new
                for r in range(fleet):
                    _copy_route(r, cur, best, route_of)
    return cur_cost, best_cost
