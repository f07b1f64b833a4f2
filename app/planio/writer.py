"""Write one validated plan file into the session, upserting by stable keys.

Rules (removals: prune.py):
- every object is compared before writing: an unchanged file writes no row,
  bumps no milestone version and records no audit event;
- a milestone's progress (status, percent, actual_finish) is never touched; the
  file's due date always sets `baseline_due_date`, and sets `due_date` only when
  no extension was granted (a granted extension is the plan office's decision);
- link lists (departments, co-departments, indicators) are replaced as a whole
  when they differ, keeping the file's order.
"""

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import audit
from app.extensions import db
from app.models import Department, Dependency, Indicator, Milestone, Plan, PlanNode, Region
from app.models.indicator import indicator_department, milestone_indicator
from app.models.plan import milestone_co_department, node_department
from app.planio.checker import as_date
from app.planio.links import apply, plain, sync_links_many
from app.planio.prune import prune
from app.planio.report import PlanResult

KIND_LABELS = {
    "Region": "地区",
    "Department": "部门",
    "Plan": "计划",
    "PlanNode": "节点",
    "Milestone": "里程碑",
    "Indicator": "指标",
    "Dependency": "依赖",
}
VERBS = {"create": "新建", "update": "更新", "delete": "删除"}


def _parts(parts) -> list[dict] | None:
    """Parts as stored: each {key, name, unit}, in the file's order."""
    return [{"key": p["key"], "name": p["name"], "unit": p.get("unit")} for p in parts] if parts else None


def _conditions(conds) -> list[dict] | None:
    return [{"part": c["part"], "op": c["op"], "value": c["value"]} for c in conds] if conds else None


class PlanWriter:
    def __init__(self, data: dict, filename: str):
        self.data = data
        self.result = PlanResult(code=data["code"], file=filename)
        self.region: Region | None = None
        self.plan: Plan | None = None
        self.depts: dict[str, Department] = {}
        self.dept_names: dict[int, str] = {}
        self.nodes: dict[str, PlanNode] = {}
        self.indicators: dict[str, Indicator] = {}
        self.milestones: dict[str, Milestone] = {}

    def run(self) -> PlanResult:
        self._region()
        self._departments()
        self._plan()
        self._nodes()
        self._indicators()
        self._milestones()
        self._dependencies()
        prune(self)
        if self.result.changed:
            audit.record(None, "plan_load.summary", self.plan, self.result.summary())
        db.session.flush()
        return self.result

    # -- bookkeeping ------------------------------------------------------------

    def audit(self, action: str, obj, label: str, before=None, after=None) -> None:
        name = type(obj).__name__
        r = self.result
        counts = {"create": r.created, "update": r.updated, "delete": r.deleted}[action]
        counts[name] = counts.get(name, 0) + 1
        summary = f"计划文件{VERBS[action]}{KIND_LABELS[name]} {label}（{self.result.code}）"
        # Regions and plan parts carry no region of their own (a new region needs its id first).
        if isinstance(obj, Region) and obj.id is None:
            db.session.flush()
        region_id = obj.id if isinstance(obj, Region) else self.region.id
        audit.record(
            None, f"plan_load.{action}", obj, summary[:512], before=before, after=after, region_id=region_id
        )

    def write(self, model, obj, values: dict, label: str, links=()):
        """Create or update one object and its link lists; one audit row if anything changed.

        links: (attribute, table, owner column, other column, ids, {id: name}).
        """
        return self.write_all(model, [(obj, values, label, links)])[0]

    def write_all(self, model, items) -> list:
        """write() for many objects of one kind: one flush for the rows, a few set-based
        statements per link table, one audit row per changed object. A plan of thousands
        of milestones loads in seconds instead of a flush and three queries per row.

        items: (existing object or None, values, label, links) each."""
        staged = []
        for obj, values, label, _links in items:
            created = obj is None
            if created:
                obj = model(**values)
                db.session.add(obj)
                changes = {}
            else:
                changes = apply(obj, values)
            staged.append((obj, created, changes, values, label))
        db.session.flush()
        by_table: dict = {}
        for (obj, _, changes, _, _), (_, _, _, links) in zip(staged, items, strict=True):
            for attr, table, owner_col, other_col, ids, names in links:
                spec = by_table.setdefault((attr, table, owner_col, other_col), ({}, names, {}))
                spec[0][obj.id] = ids
                spec[2][obj.id] = (obj, changes)
        for (attr, table, owner_col, other_col), (wanted, names, owners) in by_table.items():
            for owner_id, changed in sync_links_many(table, owner_col, other_col, wanted).items():
                obj, changes = owners[owner_id]
                changes[attr] = tuple([names.get(i, i) for i in side] for side in changed)
                db.session.expire(obj, [attr])
        for obj, created, changes, values, label in staged:
            if created:
                after = {k: plain(v) for k, v in values.items() if not k.endswith("_id")}
                self.audit("create", obj, label, after=after)
            elif changes:
                before = {k: plain(old) for k, (old, _) in changes.items()}
                after = {k: plain(new) for k, (_, new) in changes.items()}
                self.audit("update", obj, label, before=before, after=after)
        return [obj for obj, *_ in staged]

    def _existing(self, model, *options) -> dict:
        query = select(model).where(model.plan_id == self.plan.id).options(*options)
        return {obj.key: obj for obj in db.session.scalars(query)}

    # -- the objects, in dependency order ---------------------------------------

    def _region(self) -> None:
        spec = self.data["region"]
        parent = None
        if spec.get("parent"):
            parent = db.session.scalar(select(Region).where(Region.name == spec["parent"]))
            if parent is None:  # a county's parent is a city, a city's a province
                kind = "city" if spec["kind"] == "county" else "province"
                parent = self.write(Region, None, {"name": spec["parent"], "kind": kind}, spec["parent"])
        region = db.session.scalar(select(Region).where(Region.name == spec["name"]))
        values = {"name": spec["name"], "kind": spec["kind"], "parent_id": parent.id if parent else None}
        self.region = self.write(Region, region, values, spec["name"])

    def _departments(self) -> None:
        query = select(Department).where(Department.region_id == self.region.id)
        existing = {d.name: d for d in db.session.scalars(query)}
        items = [
            (
                existing.get(spec["name"]),
                {"region_id": self.region.id, "name": spec["name"], "kind": spec["kind"]},
            )
            for spec in self.data["departments"]
        ]
        written = self.write_all(Department, [(obj, values, values["name"], ()) for obj, values in items])
        self.depts = {d.name: d for d in written}
        self.dept_names = {d.id: name for name, d in self.depts.items()}

    def _plan(self) -> None:
        d = self.data
        targets = [{"stars": t["stars"], "due": as_date(t["due"]).isoformat()} for t in d["targets"]]
        first = min(d["targets"], key=lambda t: (as_date(t["due"]), t["stars"]), default=None)
        values = {
            "code": d["code"],
            "region_id": self.region.id,
            "title": d["title"],
            "standard_code": d["standard"],
            "issued": as_date(d.get("issued")),
            "period_start": as_date(d["period"]["start"]),
            "period_end": as_date(d["period"]["end"]),
            "target_stars": first["stars"] if first else None,
            "target_date": as_date(first["due"]) if first else None,
            "targets": targets,
            "source": d.get("source"),
        }
        plan = db.session.scalar(select(Plan).where(Plan.code == d["code"]))
        self.plan = self.write(Plan, plan, values, d["code"])

    def _dept_ids(self, names) -> list[int]:
        return [self.depts[name].id for name in names or []]

    def _nodes(self) -> None:
        """Written level by level (a child needs its parent's id): one flush per level."""
        existing = self._existing(PlanNode)
        levels: list[list[tuple[dict, str | None, int]]] = []
        position = 0

        def walk(specs, parent_key, depth):
            nonlocal position
            for spec in specs or []:
                if len(levels) <= depth:
                    levels.append([])
                levels[depth].append((spec, parent_key, position))
                position += 1
                walk(spec.get("children"), spec["key"], depth + 1)

        walk(self.data["nodes"], None, 0)
        for level in levels:
            items = []
            for spec, parent_key, pos in level:
                values = {
                    "plan_id": self.plan.id,
                    "parent_id": self.nodes[parent_key].id if parent_key else None,
                    "key": spec["key"],
                    "kind": spec["kind"],
                    "number": spec.get("number"),
                    "title": spec["title"],
                    "text": spec.get("text") or "",
                    "position": pos,
                }
                ids = self._dept_ids(spec.get("departments"))
                links = [("departments", node_department, "node_id", "department_id", ids, self.dept_names)]
                items.append((existing.get(spec["key"]), values, spec["key"], links))
            for node in self.write_all(PlanNode, items):
                self.nodes[node.key] = node

    def _indicators(self) -> None:
        existing = self._existing(Indicator)
        items = []
        for position, spec in enumerate(self.data.get("indicators") or []):
            values = {
                "plan_id": self.plan.id,
                "key": spec["key"],
                "table_name": spec.get("table"),
                "category": spec.get("category"),
                "number": spec.get("number"),
                "name": spec["name"],
                "definition": spec.get("definition") or "",
                "unit": spec.get("unit"),
                "star": bool(spec.get("star", False)),
                "weight_four_star": spec.get("weight_four_star"),
                "weight_five_star": spec.get("weight_five_star"),
                "parts": _parts(spec.get("parts")),
                "position": position,
            }
            link = spec.get("standard") or {}
            values["standard_indicator"] = link.get("indicator")
            values["standard_quantity"] = link.get("quantity")
            values["standard_unit"] = link.get("unit")
            values["standard_part"] = link.get("part")
            for band in ("four_star", "five_star"):
                cell = spec[band] or {}
                values[f"{band}_target"] = cell.get("target")
                values[f"{band}_op"] = cell.get("op")
                values[f"{band}_value"] = cell.get("value")
                values[f"{band}_part"] = cell.get("part")
                values[f"{band}_and"] = _conditions(cell.get("and"))
                values[f"{band}_due"] = as_date(cell.get("due"))
            ids = self._dept_ids(spec["departments"])
            links = [
                ("departments", indicator_department, "indicator_id", "department_id", ids, self.dept_names)
            ]
            items.append((existing.get(spec["key"]), values, spec["key"], links))
        for indicator in self.write_all(Indicator, items):
            self.indicators[indicator.key] = indicator

    def _milestones(self) -> None:
        existing = self._existing(Milestone, selectinload(Milestone.extensions))
        indicator_keys = {ind.id: key for key, ind in self.indicators.items()}
        items = []

        def walk(specs):
            for node_spec in specs or []:
                for spec in node_spec.get("milestones") or []:
                    node = self.nodes[node_spec["key"]]
                    items.append(self._milestone(spec, node, existing.get(spec["key"]), indicator_keys))
                walk(node_spec.get("children"))

        walk(self.data["nodes"])
        for milestone in self.write_all(Milestone, items):
            self.milestones[milestone.key] = milestone

    def _milestone(self, spec, node, milestone, indicator_keys) -> tuple:
        due = as_date(spec["due"])
        values = {
            "plan_id": self.plan.id,
            "node_id": node.id,
            "key": spec["key"],
            "title": spec["title"],
            "text": spec.get("text") or "",
            "source": spec.get("source"),
            "baseline_due_date": due,
            "lead_department_id": self.depts[spec["lead"]].id,
            "targets": spec.get("targets") or [],
        }
        if milestone is None or not milestone.extensions:
            values["due_date"] = due
        co = self._dept_ids(spec.get("co"))
        inds = [self.indicators[key].id for key in spec.get("indicators") or []]
        links = [
            ("co_departments", milestone_co_department, "milestone_id", "department_id", co, self.dept_names),
            ("indicators", milestone_indicator, "milestone_id", "indicator_id", inds, indicator_keys),
        ]
        return milestone, values, spec["key"], links

    def _dependencies(self) -> None:
        query = select(Dependency).where(Dependency.plan_id == self.plan.id)
        existing = {(d.predecessor_id, d.successor_id): d for d in db.session.scalars(query)}
        wanted = {}
        for spec in self.data.get("dependencies") or []:
            pred, succ = self.milestones[spec["predecessor"]], self.milestones[spec["successor"]]
            wanted[(pred.id, succ.id)] = (spec, f"{spec['predecessor']} → {spec['successor']}")
        # Dropped edges go first, so a reversed edge never meets the old one.
        for pair, dep in existing.items():
            if pair not in wanted:
                self.audit("delete", dep, f"{dep.predecessor.key} → {dep.successor.key}")
                db.session.delete(dep)
        db.session.flush()
        items = []
        for (pred_id, succ_id), (spec, label) in wanted.items():
            values = {
                "plan_id": self.plan.id,
                "predecessor_id": pred_id,
                "successor_id": succ_id,
                "lag_days": spec.get("lag_days") or 0,
                "inferred": bool(spec.get("inferred", False)),
                "reason": spec.get("reason"),
            }
            items.append((existing.get((pred_id, succ_id)), values, label, ()))
        self.write_all(Dependency, items)
