"""Back-test the star forecast on simulated plans: is P(stars >= k) calibrated?

Each simulated plan has departments that differ in on-time rate and in how late
they are, milestones with dependencies and planned durations, and indicators of
the provincial standard that grow noisily and jump when a delivering milestone
finishes. The simulation runs to the target date (the outcome); the forecast
sees only the state on an earlier as_of (what was known then), through the same
engine as `flask forecast --state`. Scored: the Brier score of P(stars >= k)
for the band in play (k = the plan's target stars, chosen near its outcome),
the base-rate Brier (always saying the observed frequency), and a reliability
table (forecasts in tenths: mean forecast vs observed frequency).

    .venv/bin/python scripts/backtest_forecast.py                 # 600 plans, default mix
    .venv/bin/python scripts/backtest_forecast.py --plans 300 --variant exponential
    .venv/bin/python scripts/backtest_forecast.py --write-states DIR   # states + outcomes as JSON

Variants change the generator, not the engine: `mixed` (default: every
plan draws its lateness law, progress reporting and indicator dynamics),
`lognormal`, `exponential`, `uniform` (lateness laws), `noisy-progress`
(percent unrelated to the true finish), `flat` (indicators without drift),
`steep` (fast drifts).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.engines.forecast import forecast  # noqa: E402
from app.engines.scoring import score  # noqa: E402
from app.engines.standards import load_standard  # noqa: E402

PLAN_START = date(2020, 1, 1)
TARGET = date(2021, 10, 31)
VARIANTS = (
    "mixed",
    "lognormal",
    "exponential",
    "uniform",
    "noisy-progress",
    "flat",
    "steep",
    "measurement-noise",
    "sparse",
    "bare",
    "big",
)


def _d(day: date) -> str:
    return day.isoformat()


class Generator:
    """One simulated plan: the truth up to the target date, and the state on as_of."""

    def __init__(self, rng: np.random.Generator, variant: str):
        self.rng = rng
        self.variant = variant
        v = variant
        if v == "mixed":
            v = str(
                rng.choice(
                    [
                        "lognormal",
                        "exponential",
                        "uniform",
                        "noisy-progress",
                        "steep",
                        "sparse",
                        "measurement-noise",
                        "bare",
                        "flat",
                    ]
                )
            )
        self.law = v if v in ("lognormal", "exponential", "uniform") else "lognormal"
        self.noisy_progress = v == "noisy-progress"
        self.drift_scale = 0.0 if v == "flat" else 0.35 if v == "steep" else 0.12
        self.measurement_noise = v == "measurement-noise"
        self.sparse = v == "sparse"
        self.bare = v == "bare"  # no start dates, no progress reported
        self.big = v == "big"
        # Finish-to-start read strictly (a late predecessor pushes the whole successor) or
        # loosely (the successor only cannot finish before it): plans draw one or the other.
        self.strict_fs = bool(rng.random() < 0.5)

    # -- milestones -----------------------------------------------------------------
    def lateness(self, dept) -> float:
        rng, law = self.rng, self.law
        if law == "exponential":
            return 1 + rng.exponential(dept["median"] / math.log(2))
        if law == "uniform":
            return rng.uniform(1, 2 * dept["median"])
        return math.exp(rng.normal(math.log(dept["median"]), dept["sigma"]))

    def milestones(self):
        rng = self.rng
        n_dept = int(rng.integers(3, 10))
        depts = [
            {
                "name": f"d{k}",
                "on_time": float(rng.uniform(0.2, 0.95)),
                "median": float(rng.uniform(5, 120)),
                "sigma": float(rng.uniform(0.4, 1.1)),
            }
            for k in range(n_dept)
        ]
        n = int(rng.integers(150, 400)) if self.big else int(rng.integers(20, 80))
        ms = []
        for i in range(n):
            dept = depts[int(rng.integers(n_dept))]
            start = PLAN_START + timedelta(days=int(rng.integers(0, 600)))
            duration = int(rng.integers(45, 365))
            due = start + timedelta(days=duration)
            preds = []
            earlier = [m for m in ms if m["due"] <= start + timedelta(days=30)]
            for m in rng.permutation(len(earlier))[: int(rng.integers(0, 3))] if earlier else []:
                preds.append({"id": earlier[int(m)]["id"], "lag_days": int(rng.choice([0, 0, 0, 7, 15]))})
            if rng.random() < dept["on_time"]:
                own = due - timedelta(days=int(rng.integers(0, max(1, duration // 5))))
            else:
                own = due + timedelta(days=math.ceil(self.lateness(dept)))
            finish, actual_start = own, start
            for p in preds:
                pm = next(m for m in ms if m["id"] == p["id"])
                ready = pm["finish"] + timedelta(days=p["lag_days"])
                if self.strict_fs:
                    actual_start = max(actual_start, ready)
                else:
                    finish = max(finish, ready)
            if actual_start > start:
                finish = own + (actual_start - start)
            ms.append(
                {
                    "id": f"m{i + 1}",
                    "dept": dept["name"],
                    "start": start,
                    "actual_start": actual_start,
                    "due": due,
                    "finish": finish,
                    "preds": preds,
                    "delivers": [],
                }
            )
        return ms

    def percent(self, m, as_of) -> int:
        rng = self.rng
        if as_of <= m["actual_start"] or self.bare:
            return 0
        if self.noisy_progress:
            elapsed = (as_of - m["start"]).days / max(1, (m["due"] - m["start"]).days)
            true = min(0.95, elapsed) * rng.uniform(0.3, 1.2)
        else:
            true = (as_of - m["actual_start"]).days / max(1, (m["finish"] - m["actual_start"]).days)
            true *= rng.uniform(0.85, 1.15)
        return int(min(90, max(0, round(true * 10) * 10)))

    # -- indicators -----------------------------------------------------------------
    def indicators(self, std, ms):
        """{number: truth(day) -> value} for the tracked indicators, and delivery links."""
        rng = self.rng
        tracked = {}
        plan_drift = rng.normal(self.drift_scale, self.drift_scale / 2 + 0.02)
        for spec in std["indicators"]:
            if rng.random() < 0.15:
                continue  # untracked
            tracked[spec["number"]] = self.series(spec, plan_drift)
        numeric = [n for n, s in tracked.items() if s["kind"] in ("number", "level")]
        for m in ms:
            if numeric and rng.random() < 0.3:
                number = numeric[int(rng.integers(len(numeric)))]
                ser = tracked[number]
                value = ser["deliver"]()
                if value is not None:
                    m["delivers"].append({"indicator": number, "value": value})
                    ser["jumps"].append((m["finish"], value))
        return tracked

    def series(self, spec, plan_drift):
        rng = self.rng
        kind = spec["input"]
        cells = [c for c in spec["cells"] if c["condition"] and "op" in c["condition"]]
        thresholds = [c["condition"]["value"] for c in cells]
        jumps = []
        if kind == "level-only":
            level = int(rng.integers(1, 5))
            return {
                "kind": "level",
                "value": lambda day, level=level: {"level": level},
                "deliver": lambda: {"level": int(rng.integers(3, 6))},
                "jumps": jumps,
                "better": lambda a, b: a["level"] >= b["level"],
            }
        if kind == "deduction":
            return {"kind": "fixed", "value": lambda day: 0, "deliver": lambda: None, "jumps": jumps}
        if kind in ("pilots", "parks"):
            a = {
                k: int(rng.integers(0, 3))
                for k in (("national", "provincial") if kind == "pilots" else ("municipal", "provincial"))
            }
            return {
                "kind": "fixed",
                "value": lambda day, a=a: dict(a),
                "deliver": lambda: None,
                "jumps": jumps,
            }
        lower_better = kind == "rank"
        hi = max(thresholds) if thresholds else 100
        lo = min(thresholds) if thresholds else 0
        span = max(hi - lo, hi * 0.3, 1.0)
        unit = spec["unit"]
        cap = 100.0 if unit == "%" else (16.0 if kind == "rank" else None)
        x0 = rng.uniform(lo - 0.4 * span, hi + 0.1 * span)
        drift = rng.normal(plan_drift, 0.1) * hi / 365 * (-1 if lower_better else 1)
        vol = rng.uniform(0.002, 0.012) * hi
        steps = np.cumsum(rng.normal(0, 1, 800))  # daily random walk from PLAN_START
        whole = unit in ("种", "项", "家", "个", "名", "起") or (kind == "rank" and unit != "%")

        def raw(day, jumps=jumps):
            t = (day - PLAN_START).days
            x = x0 + drift * t + vol * steps[min(t, 799)]
            for when, val in jumps:
                if when <= day and isinstance(val, int | float):
                    x = min(x, val) if lower_better else max(x, val)
            if lower_better:
                x = min(max(x, 1.0 if unit != "%" else 0.5), cap or 1e9)
            else:
                x = max(0.0, x if cap is None else min(x, cap))
            return float(round(x)) if whole else round(float(x), 1)

        def deliver():
            target = rng.choice(thresholds) if thresholds else hi
            return float(target)

        if kind in ("coverage_intact", "contribution_departments"):
            second = rng.uniform(60, 100) if kind == "coverage_intact" else int(rng.integers(1, 9))
            names = ("coverage", "intact") if kind == "coverage_intact" else ("contribution", "departments")

            def value(day, second=second, names=names):
                return {names[0]: min(100.0, raw(day)), names[1]: second}

            return {"kind": "struct", "value": value, "deliver": lambda: None, "jumps": jumps}
        if kind == "parts":
            return {
                "kind": "number",
                "value": lambda day: min(100.0, raw(day)),
                "deliver": deliver,
                "jumps": jumps,
            }
        return {
            "kind": "number",
            "value": raw,
            "deliver": deliver,
            "jumps": jumps,
            "vol": vol,
            "drift": drift,
            "bounds": ((1.0 if unit != "%" else 0.5) if lower_better else 0.0, cap),
            "whole": whole,
        }

    def measured(self, ser, day):
        """A measurement: the true value, or (measurement-noise) the true value read with error."""
        value = ser["value"](day)
        if not self.measurement_noise or ser["kind"] != "number" or "vol" not in ser:
            return value
        noisy = value + self.rng.normal(0, ser["vol"] * 6)
        lo, hi = ser.get("bounds", (0.0, None))
        noisy = max(lo, noisy) if hi is None else min(hi, max(lo, noisy))
        return float(round(noisy)) if ser.get("whole") else round(float(noisy), 1)

    # -- the plan ------------------------------------------------------------------------
    def plan(self):
        rng = self.rng
        code = "sd-city-2019" if rng.random() < 0.5 else "sd-county-2019"
        std = load_standard(code)
        ms = self.milestones()
        tracked = self.indicators(std, ms)
        as_of = PLAN_START + timedelta(days=int(rng.integers(240, 640)))
        every = int(rng.choice([91, 122, 183])) if self.sparse else int(rng.choice([30, 30, 61, 91]))
        outcome_values = {}
        indicators = {}
        for number, ser in tracked.items():
            outcome_values[number] = ser["value"](TARGET)
            rows = []
            day = PLAN_START + timedelta(days=int(rng.integers(20, every + 20)))
            while day <= as_of:
                if rng.random() > 0.1:
                    rows.append({"date": _d(day), "value": self.measured(ser, day)})
                day += timedelta(days=every)
            if rows:
                indicators[number] = rows
        for m in ms:  # a delivery jump is part of the truth at the target date
            for d in m["delivers"]:
                if m["finish"] <= TARGET:
                    val, cur = d["value"], outcome_values.get(d["indicator"])
                    if isinstance(val, dict):
                        if cur is None or val["level"] > cur.get("level", 0):
                            outcome_values[d["indicator"]] = val
        outcome = score(std, outcome_values)
        state_ms = []
        for m in ms:
            done = m["finish"] <= as_of
            state_ms.append(
                {
                    "id": m["id"],
                    "department": m["dept"],
                    "start": None if self.bare else _d(m["start"]),
                    "due": _d(m["due"]),
                    "finished": _d(m["finish"]) if done else None,
                    "percent": 100 if done else self.percent(m, as_of),
                    "predecessors": m["preds"],
                    "delivers": m["delivers"],
                }
            )
        # The band in play: the star band whose lower edge is nearest the plan's score on
        # as_of (known then; the outcome plays no part in choosing it).
        now = score(std, {n: rows[-1]["value"] for n, rows in indicators.items()})["total"]
        edges = [b for b in std["star_bands"] if b["stars"] >= 1]
        target = min(edges, key=lambda b: abs(b["min_total"] - now - 15))["stars"]
        state = {
            "standard": code,
            "as_of": _d(as_of),
            "target_date": _d(TARGET),
            "target_stars": target,
            "samples": 2000,
            "seed": int(rng.integers(1, 2**31)),
            "milestones": state_ms,
            "indicators": indicators,
        }
        return state, outcome


def reliability(pairs, bins=10):
    rows = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        sel = [(p, o) for p, o in pairs if lo <= p < hi or (b == bins - 1 and p == 1.0)]
        if sel:
            rows.append(
                {
                    "bin": f"{lo:.1f}–{hi:.1f}",
                    "plans": len(sel),
                    "mean_forecast": round(sum(p for p, _ in sel) / len(sel), 3),
                    "observed": round(sum(o for _, o in sel) / len(sel), 3),
                }
            )
    return rows


def evaluate(pairs):
    n = len(pairs)
    brier = sum((p - o) ** 2 for p, o in pairs) / n
    base = sum(o for _, o in pairs) / n
    base_brier = sum((base - o) ** 2 for _, o in pairs) / n
    table = reliability(pairs)
    worst = max((abs(r["mean_forecast"] - r["observed"]) for r in table if r["plans"] >= 30), default=0.0)
    return {
        "plans": n,
        "brier": round(brier, 4),
        "base_rate": round(base, 3),
        "base_rate_brier": round(base_brier, 4),
        "worst_bin_gap_30plus": round(worst, 3),
        "reliability": table,
    }


def run(plans=600, seed=7, variant="mixed", samples=2000, write=None):
    rng = np.random.default_rng(seed)
    pairs, started = [], time.perf_counter()
    for i in range(plans):
        state, outcome = Generator(rng, variant).plan()
        state["samples"] = samples
        result = forecast(state, details=False)
        hit = int(outcome["stars"] >= state["target_stars"])
        pairs.append((result["p_target"], hit))
        if write:
            Path(write).mkdir(parents=True, exist_ok=True)
            (Path(write) / f"plan-{i:04d}.json").write_text(
                json.dumps(
                    {"state": state, "outcome": {"total": outcome["total"], "stars": outcome["stars"]}}
                )
            )
    report = evaluate(pairs)
    report.update(variant=variant, seed=seed, seconds=round(time.perf_counter() - started, 1))
    return report


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plans", type=int, default=600)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--variant", choices=VARIANTS, default="mixed")
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--write-states", metavar="DIR")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    report = run(args.plans, args.seed, args.variant, args.samples, args.write_states)
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
        return report
    print(
        f"variant {report['variant']}, {report['plans']} plans, seed {report['seed']}, {report['seconds']} s"
    )
    print(
        f"Brier P(stars >= target) {report['brier']:.4f}   base-rate Brier {report['base_rate_brier']:.4f}"
        f"   (base rate {report['base_rate']:.3f})"
    )
    print(f"worst reliability gap in bins of 30+ plans: {report['worst_bin_gap_30plus']:.3f}")
    print(f"{'forecast':>10} {'plans':>6} {'mean':>6} {'observed':>9}")
    for r in report["reliability"]:
        print(f"{r['bin']:>10} {r['plans']:>6} {r['mean_forecast']:>6.3f} {r['observed']:>9.3f}")
    return report


if __name__ == "__main__":
    main()
