"""Ground travel on the road graph: fastest paths per mode with scipy's Dijkstra.

All geometry is computed in the problem's metric CRS (metres); inputs and returned path geometries
are WGS84 (lon, lat). Travel times are seconds, distances metres, both rounded to integers in the
matrices; :data:`UNREACHABLE` marks pairs with no path.

The graph's nodes are road vertices (shared coordinates, to the centimetre, join roads; a road
whose end lies on another road's segment, within 0.5 m, joins it there). A query
point is snapped to the nearest point of the nearest road segment (``shapely.STRtree``) and joined
to both ends of that segment with the partial lengths plus the access distance from the point to
the road; points on the same segment are also joined directly. One shortest-path tree is grown per
query point (``scipy.sparse.csgraph.dijkstra`` with ``indices``), never one search per pair.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from routing.geo import to_metric, to_wgs84
from routing.problem import GROUND_MODES, ProblemError, Road

UNREACHABLE: int = 10**9
#: A road end point this close to another road's segment joins it (T junction), in metres.
_JUNCTION_M = 0.5

#: Default speeds in km/h by mode and road kind. Cars never use roads with ``car`` false and the
#: car speed is capped by ``maxspeed_kmh``; walkers and cyclists ignore ``oneway``.
DEFAULT_SPEEDS_KMH: Mapping[str, Mapping[str, float]] = {
    "walk": {"primary": 4.5, "secondary": 4.5, "local": 4.5, "track": 4.0, "path": 4.0},
    "bicycle": {"primary": 12.0, "secondary": 12.0, "local": 12.0, "track": 8.0, "path": 6.0},
    "car": {"primary": 50.0, "secondary": 40.0, "local": 30.0, "track": 15.0, "path": 10.0},
}


@dataclass(frozen=True)
class _Snap:
    segment: np.ndarray  # (K,) index of the segment each point snaps to
    t: np.ndarray  # (K,) position along the segment in [0, 1]
    access: np.ndarray  # (K,) metres from the point to the road
    xy: np.ndarray  # (K, 2) snapped point, metres


class RoadTable:
    """Travel matrices between query points, per mode, with the trees to extract leg paths.

    ``distance[mode]`` and ``duration[mode]`` are (K, K) int64 arrays (metres, seconds).
    """

    def __init__(
        self,
        network: RoadNetwork,
        points_xy: np.ndarray,
        snaps: dict[str, _Snap | None],
        trees: dict[str, tuple[np.ndarray, np.ndarray]],
        distance: dict[str, np.ndarray],
        duration: dict[str, np.ndarray],
    ) -> None:
        self._network = network
        self._points_xy = points_xy
        self._snaps = snaps
        self._trees = trees
        self.distance = distance
        self.duration = duration

    def path_xy(self, mode: str, i: int, j: int) -> np.ndarray | None:
        """Vertices (metres) of the fastest ``mode`` path from point i to point j, or None."""
        if i == j:
            return np.array([self._points_xy[i], self._points_xy[j]])
        pred, _ = self._trees[mode]
        snap = self._snaps[mode]
        assert snap is not None
        n_base = len(self._network._nodes_xy)
        target = n_base + j
        if self.duration[mode][i, j] >= UNREACHABLE:
            return None
        chain = [target]
        node = target
        while True:
            node = int(pred[i, node])
            if node < 0:
                break
            chain.append(node)
        chain.reverse()
        coords = [self._points_xy[i]]
        for node in chain:
            if node >= n_base:
                coords.append(snap.xy[node - n_base])
            else:
                coords.append(self._network._nodes_xy[node])
        coords.append(self._points_xy[j])
        return _dedupe(np.array(coords))

    def path(self, mode: str, i: int, j: int) -> shapely.LineString | None:
        """WGS84 LineString of the fastest ``mode`` path from point i to point j, or None."""
        xy = self.path_xy(mode, i, j)
        if xy is None:
            return None
        lonlat = to_wgs84(self._network.crs, xy)
        if len(lonlat) == 1:
            lonlat = np.vstack([lonlat, lonlat])
        return shapely.LineString(lonlat)


def _dedupe(xy: np.ndarray) -> np.ndarray:
    keep = np.ones(len(xy), dtype=bool)
    keep[1:] = np.any(np.abs(np.diff(xy, axis=0)) > 1e-6, axis=1)
    return xy[keep]


class RoadNetwork:
    """The road graph of a problem, in ``crs`` metres.

    Parameters
    ----------
    roads
        Road segments (WGS84 coordinates).
    crs
        Metric CRS used for every length (e.g. ``"EPSG:6673"``).
    speeds_kmh
        Speed table by mode and road kind (km/h); defaults to :data:`DEFAULT_SPEEDS_KMH`.
    snap_max_m
        A query point farther than this from every road is an error naming the point.
    """

    def __init__(
        self,
        roads: Sequence[Road],
        crs: str,
        speeds_kmh: Mapping[str, Mapping[str, float]] = DEFAULT_SPEEDS_KMH,
        snap_max_m: float = 500.0,
    ) -> None:
        self.crs = crs
        self.snap_max_m = float(snap_max_m)
        a_list, b_list, kinds, maxs, oneway, car = [], [], [], [], [], []
        for road in roads:
            xy = to_metric(crs, np.asarray(road.coords, dtype=float))
            a_list.append(xy[:-1])
            b_list.append(xy[1:])
            m = len(xy) - 1
            kinds += [road.kind] * m
            maxs += [road.maxspeed_kmh if road.maxspeed_kmh is not None else np.inf] * m
            oneway += [bool(road.oneway)] * m
            car += [bool(road.car)] * m
        if not a_list:
            raise ProblemError("roads: the problem has ground vehicles but no roads")
        a = np.vstack(a_list)
        b = np.vstack(b_list)
        ends = np.vstack([np.vstack([x[:1], y[-1:]]) for x, y in zip(a_list, b_list, strict=True)])
        a, b, src = _split_at_junctions(a, b, ends)
        length = np.hypot(*(b - a).T)
        keep = length > 1e-6
        a, b, length, src = a[keep], b[keep], length[keep], src[keep]
        kinds_arr = np.asarray(kinds)[src]
        maxspeed = np.asarray(maxs, dtype=float)[src]
        self._oneway = np.asarray(oneway)[src]
        self._car = np.asarray(car)[src]
        # Join vertices that coincide to the centimetre.
        keys = np.round(np.vstack([a, b]) * 100).astype(np.int64)
        uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        self._nodes_xy = uniq.astype(float) / 100.0
        m = len(a)
        self._u = inverse[:m]
        self._v = inverse[m:]
        self._a, self._b, self._length = a, b, length
        self._speed_mps: dict[str, np.ndarray] = {}
        for mode in GROUND_MODES:
            table = speeds_kmh[mode]
            kmh = np.array([table[k] for k in kinds_arr], dtype=float)
            self._speed_mps[mode] = np.minimum(kmh, maxspeed) / 3.6
        self._segments = shapely.linestrings(np.stack([a, b], axis=1))
        self._tree_all = shapely.STRtree(self._segments)
        car_idx = np.flatnonzero(self._car)
        self._car_index = car_idx
        self._tree_car = shapely.STRtree(self._segments[car_idx]) if len(car_idx) else None

    @property
    def n_segments(self) -> int:
        """Number of straight road segments in the graph."""
        return len(self._length)

    # --- snapping --------------------------------------------------------------------------
    def check_snapping(self, points_lonlat: np.ndarray, names: Sequence[str]) -> None:
        """Raise :class:`ProblemError` naming every point farther than ``snap_max_m`` from a road."""
        xy = to_metric(self.crs, points_lonlat)
        if len(xy) == 0:
            return
        _, dist = self._tree_all.query_nearest(
            shapely.points(xy), return_distance=True, all_matches=False
        )
        problems = [
            f"{name} at ({lon:.6f}, {lat:.6f}) is {d:.0f} m from the nearest road "
            f"(snapping limit {self.snap_max_m:g} m)"
            for name, (lon, lat), d in zip(names, np.asarray(points_lonlat), dist, strict=True)
            if d > self.snap_max_m
        ]
        if problems:
            raise ProblemError(problems)

    def _snap(self, xy: np.ndarray, mode: str) -> _Snap | None:
        if mode == "car":
            if self._tree_car is None:
                return None
            local, dist = self._tree_car.query_nearest(
                shapely.points(xy), return_distance=True, all_matches=False
            )
            seg = self._car_index[local[1]]
        else:
            local, dist = self._tree_all.query_nearest(
                shapely.points(xy), return_distance=True, all_matches=False
            )
            seg = local[1]
        order = np.argsort(local[0])
        seg, dist = seg[order], dist[order]
        a, b = self._a[seg], self._b[seg]
        ab = b - a
        t = np.einsum("ij,ij->i", xy - a, ab) / np.einsum("ij,ij->i", ab, ab)
        t = np.clip(t, 0.0, 1.0)
        snapped = a + ab * t[:, None]
        access = np.hypot(*(xy - snapped).T)
        # Points too far from any road of this mode (cars: from a car road) are unreachable.
        access = np.where(dist > self.snap_max_m, np.inf, access)
        return _Snap(segment=seg, t=t, access=access, xy=snapped)

    # --- graph -----------------------------------------------------------------------------
    def _edges(self, mode: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Directed base edges (u, v, seconds, metres) for ``mode``."""
        u, v, length = self._u, self._v, self._length
        speed = self._speed_mps[mode]
        if mode == "car":
            fwd = self._car
            back = self._car & ~self._oneway
        else:
            fwd = back = np.ones(len(u), dtype=bool)
        uu = np.concatenate([u[fwd], v[back]])
        vv = np.concatenate([v[fwd], u[back]])
        ll = np.concatenate([length[fwd], length[back]])
        ss = np.concatenate([speed[fwd], speed[back]])
        return uu, vv, ll / ss, ll

    def _stop_edges(
        self, snap: _Snap, mode: str
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        n_base = len(self._nodes_xy)
        ok = np.isfinite(snap.access)
        idx = np.flatnonzero(ok)
        seg = snap.segment[idx]
        s = n_base + idx
        seg_len = self._length[seg]
        speed = self._speed_mps[mode][seg]
        to_a = snap.access[idx] + snap.t[idx] * seg_len
        to_b = snap.access[idx] + (1 - snap.t[idx]) * seg_len
        two_way = np.ones(len(idx), dtype=bool) if mode != "car" else ~self._oneway[seg]
        ua, ub = self._u[seg], self._v[seg]
        # a -> s (forward), s -> b (forward), s -> a and b -> s only on two-way roads.
        parts_u = [ua, s, s[two_way], ub[two_way]]
        parts_v = [s, ub, ua[two_way], s[two_way]]
        parts_l = [to_a, to_b, to_a[two_way], to_b[two_way]]
        parts_sp = [speed, speed, speed[two_way], speed[two_way]]
        # Direct links between points snapped to the same segment.
        by_seg: dict[int, list[int]] = {}
        for i in idx:
            by_seg.setdefault(int(snap.segment[i]), []).append(int(i))
        du, dv, dl, ds = [], [], [], []
        for sg, members in by_seg.items():
            if len(members) < 2:
                continue
            L = self._length[sg]
            sp = self._speed_mps[mode][sg]
            bidir = mode != "car" or not self._oneway[sg]
            for p in members:
                for q in members:
                    if p == q:
                        continue
                    forward = snap.t[q] >= snap.t[p]
                    if not forward and not bidir:
                        continue
                    du.append(n_base + p)
                    dv.append(n_base + q)
                    dl.append(snap.access[p] + snap.access[q] + abs(snap.t[q] - snap.t[p]) * L)
                    ds.append(sp)
        if du:
            parts_u.append(np.array(du))
            parts_v.append(np.array(dv))
            parts_l.append(np.array(dl))
            parts_sp.append(np.array(ds))
        uu = np.concatenate(parts_u).astype(np.int64)
        vv = np.concatenate(parts_v).astype(np.int64)
        ll = np.concatenate(parts_l)
        sp = np.concatenate(parts_sp)
        return uu, vv, ll / sp, ll

    def table(
        self,
        points_lonlat: np.ndarray,
        names: Sequence[str] | None = None,
        modes: Sequence[str] = GROUND_MODES,
        required: Sequence[bool] | None = None,
    ) -> RoadTable:
        """Fastest-path matrices between ``points_lonlat`` for each of ``modes``.

        Points farther than ``snap_max_m`` from every road raise :class:`ProblemError` naming them
        (``names[i]``, default ``point i``) unless ``required[i]`` is False (then the point is
        just unreachable); a point reachable by some modes only (e.g. beside a path closed to
        cars) gets :data:`UNREACHABLE` entries in the other modes' matrices.
        """
        pts = np.asarray(points_lonlat, dtype=float).reshape(-1, 2)
        names = list(names) if names is not None else [f"point {i}" for i in range(len(pts))]
        need = np.ones(len(pts), dtype=bool) if required is None else np.asarray(required, bool)
        self.check_snapping(pts[need], [n for n, r in zip(names, need, strict=True) if r])
        xy = to_metric(self.crs, pts)
        k = len(xy)
        n_base = len(self._nodes_xy)
        snaps: dict[str, _Snap | None] = {}
        trees: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        distance: dict[str, np.ndarray] = {}
        duration: dict[str, np.ndarray] = {}
        for mode in modes:
            snap = self._snap(xy, mode) if k else None
            snaps[mode] = snap
            if snap is None:
                full = np.full((k, k), UNREACHABLE, dtype=np.int64)
                np.fill_diagonal(full, 0)
                distance[mode], duration[mode] = full, full.copy()
                continue
            bu, bv, bt, bl = self._edges(mode)
            su, sv, st, sl = self._stop_edges(snap, mode)
            u = np.concatenate([bu, su])
            v = np.concatenate([bv, sv])
            secs = np.concatenate([bt, st])
            metres = np.concatenate([bl, sl])
            n = n_base + k
            u, v, secs, metres = _min_parallel(u, v, secs, metres, n)
            graph = coo_matrix((secs, (u, v)), shape=(n, n)).tocsr()
            sources = n_base + np.arange(k)
            time, pred = dijkstra(graph, directed=True, indices=sources, return_predecessors=True)
            lengths = _tree_lengths(pred, u, v, metres, n)
            t_k = time[:, sources]
            l_k = lengths[:, sources]
            reach = np.isfinite(t_k)
            dur = np.where(reach, np.rint(np.where(reach, t_k, 0)), UNREACHABLE).astype(np.int64)
            dis = np.where(reach, np.rint(np.where(reach, l_k, 0)), UNREACHABLE).astype(np.int64)
            np.fill_diagonal(dur, 0)
            np.fill_diagonal(dis, 0)
            distance[mode], duration[mode] = dis, dur
            trees[mode] = (pred, sources)
        return RoadTable(self, xy, snaps, trees, distance, duration)


def _split_at_junctions(
    a: np.ndarray, b: np.ndarray, ends: np.ndarray, tol_m: float = _JUNCTION_M
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split segments where a road's end point lies on their interior (a T junction).

    Returns the new segment ends and, for each new segment, the index of the segment it comes
    from. The end point itself becomes the shared vertex, so the roads join.
    """
    src = np.arange(len(a))
    if len(ends) == 0:
        return a, b, src
    segments = shapely.linestrings(np.stack([a, b], axis=1))
    pt_idx, seg_idx = shapely.STRtree(segments).query(
        shapely.points(ends), predicate="dwithin", distance=tol_m
    )
    cuts: dict[int, list[tuple[float, np.ndarray]]] = {}
    for p, sg in zip(pt_idx.tolist(), seg_idx.tolist(), strict=True):
        point = ends[p]
        if min(np.hypot(*(point - a[sg])), np.hypot(*(point - b[sg]))) <= tol_m:
            continue  # at the segment's own end: joined by the shared vertex already
        ab = b[sg] - a[sg]
        t = float(np.dot(point - a[sg], ab) / np.dot(ab, ab))
        cuts.setdefault(sg, []).append((t, point))
    if not cuts:
        return a, b, src
    new_a, new_b, new_src = [], [], []
    for sg in range(len(a)):
        if sg not in cuts:
            new_a.append(a[sg])
            new_b.append(b[sg])
            new_src.append(sg)
            continue
        chain = [a[sg], *(pt for _, pt in sorted(cuts[sg], key=lambda c: c[0])), b[sg]]
        for x, y in itertools.pairwise(chain):
            new_a.append(x)
            new_b.append(y)
            new_src.append(sg)
    return np.array(new_a), np.array(new_b), np.array(new_src)


def _min_parallel(
    u: np.ndarray, v: np.ndarray, secs: np.ndarray, metres: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Keep only the fastest of parallel edges (scipy would add their weights up)."""
    key = u * n + v
    order = np.lexsort((secs, key))
    key, u, v, secs, metres = key[order], u[order], v[order], secs[order], metres[order]
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    secs = secs[first]
    # csgraph treats explicit zeros as missing edges: keep a tiny positive weight instead.
    secs = np.maximum(secs, 1e-9)
    return u[first], v[first], secs, metres[first]


def _tree_lengths(
    pred: np.ndarray, u: np.ndarray, v: np.ndarray, metres: np.ndarray, n: int
) -> np.ndarray:
    """Metres from each tree's root to every node along the tree (pointer jumping)."""
    key = u * n + v
    order = np.argsort(key)
    key_sorted, metres_sorted = key[order], metres[order]
    rows = pred.shape[0]
    p = pred.astype(np.int64)
    has = p >= 0
    cols = np.broadcast_to(np.arange(n), p.shape)
    edge_key = np.where(has, p * n + cols, -1)
    pos = np.searchsorted(key_sorted, edge_key)
    pos = np.clip(pos, 0, len(key_sorted) - 1)
    length = np.where(has, metres_sorted[pos], 0.0)
    # Roots and unreachable nodes point to themselves with length 0.
    ptr = np.where(has, p, cols)
    row_idx = np.arange(rows)[:, None]
    while True:
        if (ptr == ptr[row_idx, ptr]).all():
            break
        length = length + length[row_idx, ptr]
        ptr = ptr[row_idx, ptr]
    return length


#: Road networks by road set: a region's roads are the same in every plan version of a day, and
#: a network costs a quarter of a second to build (issue 16, item 8: a plan edit built three).
_SHARED: OrderedDict[tuple[tuple[Road, ...], str, float], RoadNetwork] = OrderedDict()
_SHARED_LOCK = threading.Lock()
SHARED_NETWORKS = 4


def shared_network(roads: Sequence[Road], crs: str, snap_max_m: float = 500.0) -> RoadNetwork:
    """The :class:`RoadNetwork` of ``roads`` (default speeds), built once per road set and process
    and shared: a network is never changed after it is built. Keyed by the roads' content, so a
    problem read again from its JSON finds the network of the first reading."""
    key = (tuple(roads), crs, float(snap_max_m))
    with _SHARED_LOCK:
        network = _SHARED.get(key)
        if network is not None:
            _SHARED.move_to_end(key)
            return network
    network = RoadNetwork(roads, crs, snap_max_m=snap_max_m)
    with _SHARED_LOCK:
        _SHARED[key] = network
        while len(_SHARED) > SHARED_NETWORKS:
            _SHARED.popitem(last=False)
    return network
