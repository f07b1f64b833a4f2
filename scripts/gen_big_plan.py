"""Write a big synthetic plan YAML (provincial scale) in the format `flask plans load` reads.

    python scripts/gen_big_plan.py --milestones 6000 --out /tmp/big.yaml
    python scripts/gen_big_plan.py --milestones 6000 --load      # also load it and add reports

The tree has four levels (体系 → 工程 → 项目 → 任务) with milestones on the
last two; departments, dependencies (chains inside a task and cross-links to
earlier milestones, always from an earlier to a later milestone, so acyclic) and
indicators linked from some milestones. Seeded: the same arguments give the same file.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import yaml

SYSTEMS = ["数字政府", "数字经济", "数字社会", "城市治理", "基础设施", "数据资源", "安全保障", "创新生态"]
VERBS = ["建成", "完成", "上线", "推广", "升级", "验收", "接入", "覆盖"]
OBJECTS = ["平台", "系统", "数据库", "应用场景", "感知网络", "服务专区", "指挥中心", "共享接口", "试点工程"]
KINDS = ["government"] * 4 + ["enterprise", "public_institution"]
START, END = date(2020, 1, 1), date(2023, 12, 31)


def _dumper():
    class Dumper(yaml.SafeDumper):
        pass

    return Dumper


def build(n_milestones: int, code: str = "big-plan", seed: int = 1) -> dict:
    rnd = random.Random(seed)
    departments = [{"name": f"省测试部门{i:02d}", "kind": KINDS[i % len(KINDS)]} for i in range(1, 61)]
    names = [d["name"] for d in departments]
    n_indicators = 60
    indicators = []
    for i in range(1, n_indicators + 1):
        value = rnd.choice([60, 70, 80, 90])
        indicators.append(
            {
                "key": f"bp-i{i:03d}",
                "category": SYSTEMS[i % len(SYSTEMS)],
                "number": str(i),
                "name": f"{SYSTEMS[i % len(SYSTEMS)]}指标{i}（覆盖率）",
                "unit": "%",
                "star": i % 7 == 0,
                "four_star": {
                    "target": f"达到 {value}%",
                    "op": ">=",
                    "value": value,
                    "due": "2021-12-31",
                },
                "five_star": None,
                "departments": rnd.sample(names, 2),
            }
        )
    # Level sizes: 8 systems × 6 programmes × 5 projects × k tasks, milestones spread over them.
    leaves_wanted = max(1, n_milestones // 25)
    per_project = max(1, -(-leaves_wanted // (len(SYSTEMS) * 6 * 5)))
    milestones_left = n_milestones
    all_keys: list[str] = []
    dependencies = []
    nodes = []
    project_slots = []  # (milestone list, key prefix) in document order
    for s, system in enumerate(SYSTEMS, 1):
        programmes = []
        for p in range(1, 7):
            projects = []
            for q in range(1, 6):
                tasks = []
                for t in range(1, per_project + 1):
                    task = {
                        "key": f"bp-{s}-{p}-{q}-{t}",
                        "kind": "task",
                        "number": f"{s}.{p}.{q}.{t}",
                        "title": f"{system}任务 {s}.{p}.{q}.{t}",
                        "milestones": [],
                    }
                    tasks.append(task)
                    project_slots.append(task)
                project = {
                    "key": f"bp-{s}-{p}-{q}",
                    "kind": "project",
                    "number": f"{s}.{p}.{q}",
                    "title": f"{system}重点项目 {s}.{p}.{q}",
                    "departments": rnd.sample(names, 2),
                    "milestones": [],
                    "children": tasks,
                }
                project_slots.append(project)
                projects.append(project)
            programmes.append(
                {
                    "key": f"bp-{s}-{p}",
                    "kind": "program",
                    "number": f"{s}.{p}",
                    "title": f"{system}示范工程 {s}.{p}",
                    "children": projects,
                }
            )
        nodes.append(
            {
                "key": f"bp-{s}",
                "kind": "system",
                "number": str(s),
                "title": f"{system}体系",
                "text": f"{system}体系建设（合成数据，用于性能测试）。",
                "children": programmes,
            }
        )
    # Spread milestones: uneven, some nodes hold long lists.
    weights = [rnd.choice([1, 1, 2, 3, 8]) for _ in project_slots]
    total_w = sum(weights)
    counter = 0
    for slot, w in zip(project_slots, weights, strict=True):
        k = min(milestones_left, max(1, round(n_milestones * w / total_w)))
        chain_prev = None
        for _ in range(k):
            counter += 1
            key = f"bp-m{counter:05d}"
            due = START + timedelta(days=rnd.randrange((END - START).days))
            ms = {
                "key": key,
                "title": f"{rnd.choice(OBJECTS)}{rnd.choice(VERBS)}（{slot['number']}-{counter}）",
                "text": f"合成里程碑 {counter}：按计划推进并提交佐证材料。",
                "due": due.isoformat(),
                "lead": rnd.choice(names),
            }
            if rnd.random() < 0.4:
                ms["co"] = [n for n in rnd.sample(names, rnd.randint(1, 3)) if n != ms["lead"]]
            if rnd.random() < 0.05:
                ms["indicators"] = [rnd.choice(indicators)["key"]]
            slot["milestones"].append(ms)
            if chain_prev is not None and rnd.random() < 0.6:
                dependencies.append({"predecessor": chain_prev, "successor": key, "lag_days": 0})
            if all_keys and rnd.random() < 0.15:
                pred = rnd.choice(all_keys)
                if pred == chain_prev:
                    pred = all_keys[0]
                if pred == chain_prev or any(
                    d["predecessor"] == pred and d["successor"] == key for d in dependencies[-2:]
                ):
                    pred = None
            else:
                pred = None
            if pred is not None:
                dependencies.append(
                    {
                        "predecessor": pred,
                        "successor": key,
                        "lag_days": rnd.choice([0, 0, 7, 15]),
                        "inferred": True,
                        "reason": "合成交叉依赖",
                    }
                )
            chain_prev = key
            all_keys.append(key)
        milestones_left -= k
        if milestones_left <= 0:
            break
    # Any remainder goes to the last task.
    while milestones_left > 0:
        counter += 1
        key = f"bp-m{counter:05d}"
        project_slots[-1]["milestones"].append(
            {"key": key, "title": f"补充里程碑 {counter}", "due": "2022-06-30", "lead": names[0]}
        )
        milestones_left -= 1
    _prune_empty(nodes)
    return {
        "code": code,
        "title": f"省级规模测试计划（{n_milestones} 个里程碑）",
        "issued": "2020-01-01",
        "source": "scripts/gen_big_plan.py",
        "period": {"start": START.isoformat(), "end": END.isoformat()},
        "region": {"name": "测试市", "kind": "city", "parent": None},
        "standard": "sd-city-2019",
        "targets": [{"stars": 4, "due": "2021-10-31"}, {"stars": 5, "due": "2023-12-31"}],
        "departments": departments,
        "nodes": nodes,
        "dependencies": dependencies,
        "indicators": indicators,
    }


def _prune_empty(nodes: list[dict]) -> None:
    for node in nodes:
        if node.get("children"):
            _prune_empty(node["children"])
            node["children"] = [c for c in node["children"] if c.get("milestones") or c.get("children")]
            if not node["children"]:
                del node["children"]
        if "milestones" in node and not node["milestones"]:
            del node["milestones"]


def write(data: dict, out: Path) -> None:
    text = yaml.dump(data, Dumper=_dumper(), allow_unicode=True, sort_keys=False, width=200)
    out.write_text(text, encoding="utf-8")


def load(out: Path, code: str, reports: int) -> None:
    """Load the file with the public loader and add a few progress reports."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from sqlalchemy import select

    from app import create_app
    from app.extensions import db
    from app.models import Milestone, Plan, ProgressReport, User
    from app.planio.loader import load_files

    app = create_app()
    with app.app_context():
        t0 = time.perf_counter()
        report = load_files([out])
        if report.errors:
            for e in report.errors[:20]:
                print(e, file=sys.stderr)
            raise SystemExit(2)
        print(f"loaded in {time.perf_counter() - t0:.1f} s")
        plan = db.session.scalar(select(Plan).where(Plan.code == code))
        ms = db.session.scalars(
            select(Milestone).where(Milestone.plan_id == plan.id).order_by(Milestone.id)
        ).all()
        author = db.session.scalar(select(User).order_by(User.id).limit(1))
        rnd = random.Random(2)
        added = 0
        done = set(
            db.session.scalars(
                select(ProgressReport.milestone_id).join(Milestone).where(Milestone.plan_id == plan.id)
            )
        )
        for m in rnd.sample(ms, min(reports, len(ms))):
            if m.id in done:
                continue
            pct = rnd.choice([20, 50, 80, 100])
            state = rnd.choice(["submitted", "approved", "approved"])
            if author is not None:
                db.session.add(
                    ProgressReport(
                        milestone_id=m.id,
                        department_id=m.lead_department_id,
                        author_id=author.id,
                        text=f"合成进展：已完成 {pct}%。",
                        percent=pct,
                        claimed_status="done" if pct == 100 else "in_progress",
                        state=state,
                        submitted_at=datetime.now(UTC).replace(tzinfo=None),
                    )
                )
            if state == "approved":
                m.percent = pct
                m.status = "done" if pct == 100 else "in_progress"
                if pct == 100:
                    m.actual_finish = m.due_date
            added += 1
        db.session.commit()
        print(f"added {added} progress reports")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--milestones", type=int, default=6000)
    ap.add_argument("--out", type=Path, default=Path("instance/big-plan.yaml"))
    ap.add_argument("--code", default="big-plan")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--load", action="store_true", help="load into DATABASE_URL and add progress reports")
    ap.add_argument("--reports", type=int, default=300)
    args = ap.parse_args(argv)
    data = build(args.milestones, args.code, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write(data, args.out)
    print(f"wrote {args.out}: {args.milestones} milestones, {len(data['dependencies'])} dependencies")
    if args.load:
        load(args.out, args.code, args.reports)


if __name__ == "__main__":
    main()
