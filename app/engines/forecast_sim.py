"""The Monte Carlo part of the forecast: completion matrix, totals, sensitivity (numpy).

Matrices are samples × milestones booleans stored column-major (order "F"), so
one milestone's column is contiguous. A milestone completes in a sample when it
is done, or when its own draw succeeds and every predecessor completes in that
sample (columns filled in topological order). The same draws are reused for the
best/worst cases and for forcing one milestone done or late (common random
numbers), so differences come from the change, not from noise.
"""

from __future__ import annotations

import numpy as np

from app.engines.standards import stars_for


class Simulation:
    def __init__(self, *, std, p, done, topo, preds, models, constants, target_stars, samples, seed):
        self.std = std
        self.done = done
        self.topo = topo  # column indices, predecessors first
        self.preds = preds  # per column: predecessor columns
        self.models = models
        self.constants = constants  # standard number -> points entered directly
        self.target_stars = target_stars
        self.n = samples
        rng = np.random.default_rng(seed)
        # One run of draws per milestone, in input order (done ones too): a
        # milestone's draws do not change when another one is marked done.
        self.own = np.empty((samples, len(p)), dtype=bool, order="F")
        for j, pj in enumerate(p):
            self.own[:, j] = rng.random(samples) < pj
        self.groups = {}
        self.by_milestone = {}  # column -> scored models it delivers a value to
        for k, model in enumerate(models):
            if model.scored:
                self.groups.setdefault(model.ind.standard_number, []).append(k)
                for j, _ in model.deliveries:
                    self.by_milestone.setdefault(j, set()).add(k)
        self._lut = np.zeros(0, dtype=np.int8)

    # -- completion -------------------------------------------------------
    def complete(self):
        c = np.empty(self.own.shape, dtype=bool, order="F")
        for j in self.topo:
            if self.done[j]:
                c[:, j] = True
                continue
            col = self.own[:, j].copy()
            for q in self.preds[j]:
                col &= c[:, q]
            c[:, j] = col
        return c

    # -- points and stars -------------------------------------------------
    def number_points(self, number, model_points, n):
        """Points of a standard number: the best of its plan indicators and any direct value."""
        pts = np.full(n, self.constants.get(number, 0), dtype=np.int32)
        first = number not in self.constants
        for k in self.groups.get(number, ()):
            pts = model_points(k) if first else np.maximum(pts, model_points(k))
            first = False
        return pts

    def stars(self, totals):
        top = int(totals.max(initial=0))
        if top >= len(self._lut):
            self._lut = np.array([stars_for(self.std, t) for t in range(top + 1)], dtype=np.int8)
        return self._lut[totals]

    def evaluate(self, column, n):
        """(points per model, per standard number, raw total, total floored at 0, stars)."""
        by_model = [model.points(column, n) for model in self.models]
        numbers = sorted(set(self.groups) | set(self.constants), key=int)
        per = {number: self.number_points(number, by_model.__getitem__, n) for number in numbers}
        raw = sum(per.values(), np.zeros(n, dtype=np.int32))
        totals = np.maximum(raw, 0)
        return by_model, per, raw, totals, self.stars(totals)

    def case(self, complete_open):
        """Total and stars when every open milestone completes (True) or none does."""
        *_, totals, stars = self.evaluate(lambda j: np.array([complete_open or self.done[j]]), 1)
        return {"total": int(totals[0]), "stars": int(stars[0])}

    # -- sensitivity --------------------------------------------------------
    def run(self):
        self.c = self.complete()
        self.model_pts, self.per, self.raw, self.totals, self.star = self.evaluate(
            lambda j: self.c[:, j], self.n
        )
        self.hits = self.star >= self.target_stars
        return self

    def hits_forced(self, i, value, descendants):
        """Samples reaching the target when open milestone i is forced done (True) or late (False).

        Only samples where i's completion changes are recomputed, and in them only
        i's open descendants (topological order) and the indicators they deliver to.
        """
        c, rows = self.c, np.flatnonzero(self.c[:, i] != value)
        hits = int(self.hits.sum())
        if rows.size == 0:
            return hits
        local = {i: np.full(rows.size, value)}
        for j in descendants:
            col = self.own[rows, j]
            for q in self.preds[j]:
                col &= local[q] if q in local else c[rows, q]
            local[j] = col

        def column(j):
            return local[j] if j in local else c[rows, j]

        changed = set().union(*(self.by_milestone.get(j, ()) for j in local))
        new = {k: self.models[k].points(column, rows.size) for k in changed}

        def model_points(k):
            return new[k] if k in new else self.model_pts[k][rows]

        raw = self.raw[rows].copy()
        for number in sorted({self.models[k].ind.standard_number for k in changed}, key=int):
            raw += self.number_points(number, model_points, rows.size) - self.per[number][rows]
        new_hits = self.stars(np.maximum(raw, 0)) >= self.target_stars
        return hits - int(self.hits[rows].sum()) + int(new_hits.sum())

    def matters(self, i, descendants):
        """Whether forcing milestone i can change any indicator's points."""
        return i in self.by_milestone or any(j in self.by_milestone for j in descendants)
