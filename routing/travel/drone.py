"""Drone flight distances around no-fly zones, in the problem's metric CRS (metres).

A leg is the straight segment unless it meets an obstacle; then it is the shortest path around the
obstacles. Obstacles are convex hulls of the buffered zones, built so that they contain the
canonical buffered zone (:meth:`routing.problem.Zone.buffered`): the Minkowski sum of each zone
part's convex hull with a 16-gon circumscribing the buffer circle (see :func:`_grown_hull`), which
contains the exact round buffer and so every polygonal approximation of it. Path vertices are the
hull vertices pushed ``clearance_m`` outward (a mitred offset), so every path stays at least about
``clearance_m`` away from every hull and touches nothing. The shortest path around convex
obstacles bends only at their vertices, so the visibility graph over these vertices gives the
exact shortest detour around the hulls.

The whole matrix is computed in bulk:

1. one bulk ``STRtree.query`` for all point-point, point-vertex and vertex-vertex segments against
   the obstacles, then the exact ``intersects`` test on the candidate pairs with the prepared
   obstacle as subject (2-3x faster than ``query(..., predicate="intersects")``, which prepares
   every two-point segment instead),
2. all-pairs shortest paths among the vertices once (``scipy.sparse.csgraph.shortest_path``),
3. two min-plus products: ``A = vis(P, V) (+) D(V, V)`` then ``A (+) vis(V, P)`` for the blocked
   pairs only.

Do not replace this with ``pyvisgraph``: its hard-coded 10,000 "infinity" yields paths through
zones when coordinates are in metres.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from scipy.sparse.csgraph import shortest_path

from routing.geo import geometry_to_metric, to_metric, to_wgs84
from routing.problem import Problem, Zone

#: Sides of the regular polygon that stands for the buffer's circle (circumscribing it).
_PLAN_SIDES = 16
_CHUNK_ELEMENTS = 4_000_000


class DroneSpace:
    """Obstacles and their visibility graph for one problem (metres in ``crs``).

    Parameters
    ----------
    zones
        Active zones (WGS84 geometry, buffer in metres).
    crs
        Metric CRS of every computation.
    clearance_m
        How far path vertices are pushed outside the obstacles (metres).
    """

    def __init__(self, zones: Sequence[Zone], crs: str, clearance_m: float = 1.0) -> None:
        self.crs = crs
        self.clearance_m = float(clearance_m)
        hulls: list[shapely.Polygon] = []
        owner: list[str] = []
        for zone in zones:
            metric = geometry_to_metric(crs, zone.geometry)
            for part in getattr(metric, "geoms", [metric]):
                hull = _grown_hull(part, max(zone.buffer_m, 0.0))
                if hull is not None:
                    hulls.append(hull)
                    owner.append(zone.id)
        self.hulls: tuple[shapely.Polygon, ...] = tuple(hulls)
        self.hull_zone: tuple[str, ...] = tuple(owner)
        self._hull_array = np.array(hulls, dtype=object)
        shapely.prepare(self._hull_array)
        self._tree = shapely.STRtree(self._hull_array) if hulls else None
        self._build_vertex_graph()

    @classmethod
    def from_problem(cls, problem: Problem, clearance_m: float = 1.0) -> DroneSpace:
        """The drone space of ``problem``'s obstacles (zones not cleared by permits) in its CRS."""
        return cls(problem.obstacles, problem.crs, clearance_m)

    # --- construction ----------------------------------------------------------------------
    def _build_vertex_graph(self) -> None:
        verts: list[np.ndarray] = []
        for hull in self.hulls:
            grown = hull.buffer(self.clearance_m, join_style="mitre", mitre_limit=10.0)
            ring = np.asarray(grown.exterior.coords)[:-1]
            verts.append(ring)
        xy = np.vstack(verts) if verts else np.zeros((0, 2))
        if len(xy) and self._tree is not None:
            inside, _ = self._tree.query(shapely.points(xy), predicate="intersects")
            keep = np.ones(len(xy), dtype=bool)
            keep[inside] = False
            xy = xy[keep]
        self.vertices = xy
        n = len(xy)
        if n == 0:
            self._vv = np.zeros((0, 0))
            self._pred = np.zeros((0, 0), dtype=np.int32)
            return
        i, j = np.triu_indices(n, k=1)
        vis = np.full((n, n), np.inf)
        free = ~self._blocked(xy[i], xy[j])
        d = np.hypot(*(xy[i] - xy[j]).T)
        vis[i[free], j[free]] = d[free]
        vis[j[free], i[free]] = d[free]
        np.fill_diagonal(vis, 0.0)
        graph = np.where(np.isfinite(vis), vis, 0.0)
        dist, pred = shortest_path(graph, method="D", directed=False, return_predecessors=True)
        self._vv = dist
        self._pred = pred

    def _blocked(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Boolean mask: does segment a[k]-b[k] meet any obstacle (closed hull)?"""
        out = np.zeros(len(a), dtype=bool)
        if self._tree is None or len(a) == 0:
            return out
        segs = shapely.linestrings(np.stack([a, b], axis=1))
        # Bounding-box candidates from the tree, then the exact test with the (prepared) hull as
        # the predicate's subject: GEOS would otherwise prepare each two-point segment.
        seg_idx, hull_idx = self._tree.query(segs)
        hit = shapely.intersects(self._hull_array[hull_idx], segs[seg_idx])
        out[seg_idx[hit]] = True
        return out

    # --- queries ---------------------------------------------------------------------------
    def inside(self, points_xy: np.ndarray) -> list[str | None]:
        """For each point (metres), the id of the zone whose obstacle contains it, else None."""
        pts = np.asarray(points_xy, dtype=float).reshape(-1, 2)
        out: list[str | None] = [None] * len(pts)
        if self._tree is None or len(pts) == 0:
            return out
        idx, hull = self._tree.query(shapely.points(pts), predicate="intersects")
        for i, h in sorted(zip(idx.tolist(), hull.tolist(), strict=True), reverse=True):
            out[i] = self.hull_zone[h]
        return out

    def inside_lonlat(self, points_lonlat: np.ndarray) -> list[str | None]:
        """:meth:`inside` for WGS84 points."""
        return self.inside(self.to_metric(points_lonlat))

    def to_metric(self, points_lonlat: np.ndarray) -> np.ndarray:
        """Project (N, 2) WGS84 points to this space's metres."""
        return to_metric(self.crs, np.asarray(points_lonlat, dtype=float))

    def _visibility(self, pts: np.ndarray) -> np.ndarray:
        """(P, V) straight distances from points to vertices, inf where blocked."""
        n_p, n_v = len(pts), len(self.vertices)
        if n_v == 0 or n_p == 0:
            return np.full((n_p, n_v), np.inf)
        pi, vi = np.divmod(np.arange(n_p * n_v), n_v)
        blocked = self._blocked(pts[pi], self.vertices[vi])
        d = np.hypot(*(pts[pi] - self.vertices[vi]).T)
        return np.where(blocked, np.inf, d).reshape(n_p, n_v)

    def matrix_xy(self, points_xy: np.ndarray) -> np.ndarray:
        """(P, P) flight distances in metres between points given in metres; inf = no path."""
        pts = np.asarray(points_xy, dtype=float).reshape(-1, 2)
        n = len(pts)
        out: np.ndarray = np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1))
        if self._tree is None or n == 0:
            return out
        i, j = np.triu_indices(n, k=1)
        moved = np.any(pts[i] != pts[j], axis=1)
        i, j = i[moved], j[moved]
        blocked = self._blocked(pts[i], pts[j])
        bi, bj = i[blocked], j[blocked]
        if len(bi) == 0:
            return out
        rows = np.unique(np.concatenate([bi, bj]))
        vis = self._visibility(pts[rows])  # (R, V)
        a = _min_plus(vis, self._vv)  # (R, V): point -> any vertex, around obstacles
        pos = np.full(n, -1)
        pos[rows] = np.arange(len(rows))
        detour = _pair_min(a[pos[bi]], vis[pos[bj]])
        out[bi, bj] = detour
        out[bj, bi] = detour
        return out

    def matrix(self, points_lonlat: np.ndarray) -> np.ndarray:
        """(P, P) flight distances in metres between WGS84 points; inf = no path."""
        return self.matrix_xy(to_metric(self.crs, points_lonlat))

    def path_xy(self, a_xy: np.ndarray, b_xy: np.ndarray) -> np.ndarray | None:
        """Vertices (metres) of the shortest flight path from a to b, or None if none exists."""
        a = np.asarray(a_xy, dtype=float).reshape(2)
        b = np.asarray(b_xy, dtype=float).reshape(2)
        if np.all(a == b) or not self._blocked(a[None], b[None])[0]:
            return np.array([a, b])
        vis = self._visibility(np.array([a, b]))
        if vis.shape[1] == 0:
            return None
        total = vis[0][:, None] + self._vv + vis[1][None, :]
        u, v = np.unravel_index(np.argmin(total), total.shape)
        if not np.isfinite(total[u, v]):
            return None
        chain = [int(v)]
        while chain[-1] != u:
            chain.append(int(self._pred[u, chain[-1]]))
        chain.reverse()
        return np.vstack([a, self.vertices[chain], b])

    def path(self, a_lonlat: Sequence[float], b_lonlat: Sequence[float]) -> shapely.LineString | None:
        """WGS84 LineString of the shortest flight path between two WGS84 points, or None."""
        ab = to_metric(self.crs, np.array([a_lonlat, b_lonlat], dtype=float))
        xy = self.path_xy(ab[0], ab[1])
        if xy is None:
            return None
        return shapely.LineString(to_wgs84(self.crs, xy))


def _grown_hull(part: shapely.Geometry, buffer_m: float) -> shapely.Polygon | None:
    """Convex obstacle containing ``part`` buffered by ``buffer_m`` (metres).

    The Minkowski sum of the part's convex hull with a regular polygon circumscribing the circle of
    radius ``buffer_m``: the convex hull of every sum of their vertices. It contains the exact
    round buffer, hence every polygonal approximation of it (whose vertices lie on the curve), with
    at most (hull vertices + polygon sides) vertices.
    """
    hull = part.convex_hull
    if buffer_m <= 0:
        return hull if hull.geom_type == "Polygon" and hull.area > 0 else None
    k = np.arange(_PLAN_SIDES)
    angles = (2 * k + 1) * np.pi / _PLAN_SIDES
    radius = buffer_m / np.cos(np.pi / _PLAN_SIDES)
    disk = np.column_stack([np.cos(angles), np.sin(angles)]) * radius
    corners = shapely.get_coordinates(hull)
    sums = (corners[:, None, :] + disk[None, :, :]).reshape(-1, 2)
    grown = shapely.MultiPoint(sums).convex_hull
    return grown if grown.geom_type == "Polygon" else None


def _min_plus(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """(R, V) (+) (V, W) -> (R, W): out[r, w] = min_v left[r, v] + right[v, w], chunked."""
    r, v = left.shape
    w = right.shape[1]
    out = np.empty((r, w))
    step = max(1, _CHUNK_ELEMENTS // max(1, v * w))
    for s in range(0, r, step):
        out[s : s + step] = np.min(left[s : s + step, :, None] + right[None, :, :], axis=1)
    return out


def _pair_min(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Row-wise min of left[k] + right[k] for (K, V) arrays, chunked."""
    out = np.empty(len(left))
    step = max(1, _CHUNK_ELEMENTS // max(1, left.shape[1]))
    for s in range(0, len(left), step):
        out[s : s + step] = np.min(left[s : s + step] + right[s : s + step], axis=1)
    return out
