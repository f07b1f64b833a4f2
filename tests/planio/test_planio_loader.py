"""Loading plan files: counts, a faithful round trip, idempotence, edits that keep
work, and invalid files that write nothing."""

import copy
from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import (
    AuditEvent,
    Dependency,
    Extension,
    Indicator,
    IndicatorValue,
    Milestone,
    ProgressReport,
    Region,
    User,
)
from app.planio.export import export_plan, show_counts
from app.planio.loader import load_files
from tests.planio.helpers import (
    WEIHAI,
    ZHANGQIU,
    counts,
    max_audit_id,
    milestones_of,
    read,
    rows,
    walk_nodes,
    write_copy,
)

BOTH = [WEIHAI, ZHANGQIU]


def load(*paths):
    report = load_files(list(paths))
    assert report.ok, [str(e) for e in report.errors]
    db.session.expire_all()
    return report


def test_both_plans_load(ctx):
    report = load(*BOTH)
    assert [p.code for p in report.plans] == ["weihai-1313", "zhangqiu-3n"]
    assert show_counts("weihai-1313") == {
        "code": "weihai-1313",
        "nodes": 65,
        "projects": 48,
        "milestones": 91,
        "indicators": 49,
        "departments": 47,
        "dependencies": 49,
        "standard_links": 35,
        "part_links": 2,
        "compound_indicators": 5,
        "declared_deliveries": 7,
    }
    zq = show_counts("zhangqiu-3n")
    assert (zq["projects"], zq["indicators"], zq["milestones"], zq["dependencies"]) == (22, 45, 29, 11)
    assert (zq["standard_links"], zq["part_links"], zq["compound_indicators"], zq["declared_deliveries"]) == (
        32,
        1,
        5,
        7,
    )
    # 40 listed, 38 referenced: 工信部 and 国家统计局 are only named in the text
    assert zq["departments"] == 38
    zhangqiu = db.session.scalar(select(Region).where(Region.name == "章丘区"))
    assert (zhangqiu.kind, zhangqiu.parent.name, zhangqiu.parent.kind) == ("county", "济南市", "city")
    events = db.session.scalars(select(AuditEvent)).all()
    assert all(e.user_id is None and e.action.startswith("plan_load.") for e in events)
    assert sum(e.action == "plan_load.summary" for e in events) == 2
    created = sum(sum(p.created.values()) for p in report.plans)
    assert sum(e.action == "plan_load.create" for e in events) == created


@pytest.mark.parametrize("path", BOTH)
def test_export_reproduces_the_file(ctx, path):
    data = read(path)
    load(path)
    out = export_plan(data["code"])
    assert out["region"] == data["region"]
    assert out["standard"] == data["standard"]
    assert out["targets"] == data["targets"]
    assert (out["period"], out["issued"]) == (data["period"], data["issued"])

    def tree(nodes):
        return [
            {
                "key": n["key"],
                "kind": n["kind"],
                "number": n.get("number"),
                "title": n["title"],
                "text": n.get("text") or "",
                "departments": n.get("departments") or [],
                "milestones": sorted(m["key"] for m in n.get("milestones") or []),
                "children": tree(n.get("children")),
            }
            for n in nodes or []
        ]

    def sort_ms(nodes):
        for n in nodes:
            n["milestones"] = sorted(n["milestones"])
            sort_ms(n["children"])
        return nodes

    assert sort_ms(out["nodes"]) == tree(data["nodes"])
    milestones = {m["key"]: m for m in out["milestones"]}
    for key, m in milestones_of(data).items():
        got = milestones[key]
        assert (got["title"], got["text"], got["source"]) == (
            m["title"],
            m.get("text") or "",
            m.get("source"),
        )
        assert got["due"] == got["baseline_due"] == m["due"]
        assert (got["lead"], got["co"]) == (m["lead"], m.get("co") or [])  # co in the order named
        assert got["targets"] == (m.get("targets") or [])
        assert sorted(got["indicators"]) == sorted(m.get("indicators") or [])
    assert len(milestones) == len(milestones_of(data))
    deps = [{"lag_days": 0, "inferred": False, "reason": None, **d} for d in data["dependencies"]]
    assert out["dependencies"] == sorted(deps, key=lambda d: (d["predecessor"], d["successor"]))
    empty = {"target": None, "value": None, "op": None, "due": None}
    for got, ind in zip(out["indicators"], data["indicators"], strict=True):
        for band in ("four_star", "five_star"):
            assert got[band] == {"part": None, "and": None, **(ind[band] or empty)}
        same = {k: v for k, v in ind.items() if k not in ("four_star", "five_star", "table")}
        assert {k: got[k] for k in same} == same
        assert got["table"] == ind["table"]


def test_loading_twice_changes_nothing(ctx):
    load(*BOTH)
    before = (rows(), counts(), max_audit_id(), export_plan("weihai-1313"), export_plan("zhangqiu-3n"))
    for paths in (BOTH, [ZHANGQIU], [WEIHAI]):
        report = load(*paths)
        for plan in report.plans:
            assert (plan.created, plan.updated, plan.deleted, plan.orphaned) == ({}, {}, {}, [])
        after = (rows(), counts(), max_audit_id(), export_plan("weihai-1313"), export_plan("zhangqiu-3n"))
        assert after == before


def _work(user):
    """Progress on zhangqiu milestones, as departments and the plan office would record it."""
    ms = {m.key: m for m in db.session.scalars(select(Milestone))}
    reported = ms["zq-t05-2021"]
    db.session.add(
        ProgressReport(
            milestone=reported,
            department=reported.lead_department,
            author=user,
            text="平台已上线",
            percent=50,
            claimed_status="in_progress",
            state="approved",
        )
    )
    extended = ms["zq-t06-2021"]
    extended.status, extended.percent = "in_progress", 60
    db.session.add(
        Extension(
            milestone=extended,
            old_due=extended.due_date,
            new_due=date(2022, 6, 30),
            reason="设备采购延期",
            granted_by=user,
        )
    )
    extended.due_date = date(2022, 6, 30)
    done = ms["zq-t04-2021"]
    done.status, done.percent, done.actual_finish = "done", 100, date(2021, 11, 30)
    indicator = db.session.scalar(select(Indicator).where(Indicator.key == "zq-i01"))
    db.session.add(IndicatorValue(indicator=indicator, as_of=date(2021, 6, 30), value_number=72))
    db.session.commit()


def test_edited_file_updates_in_place(ctx, tmp_path):
    load(ZHANGQIU)
    user = User(username="office", display_name="office", role="plan_office", password_hash="x")
    db.session.add(user)
    _work(user)
    ids = {m.key: (m.id, m.version) for m in db.session.scalars(select(Milestone))}
    reports, values, audit_max = counts()["progress_report"], counts()["indicator_value"], max_audit_id()

    data = read(ZHANGQIU)
    ms = milestones_of(data)
    ms["zq-t07-2021"]["title"] = "远程会诊系统（改）"
    ms["zq-t06-2021"]["due"] = "2021-09-30"  # has an extension
    ms["zq-t07-2021"]["due"] = "2021-09-30"  # has none
    ms["zq-t04-2021"]["text"] = "移动端整合"  # done: progress must survive
    for node in walk_nodes(data["nodes"]):  # zq-t05-2021 has a report, zq-t08-2021 nothing
        node["milestones"] = [
            m for m in node.get("milestones") or [] if m["key"] not in ("zq-t05-2021", "zq-t08-2021")
        ]
    data["dependencies"] = [d for d in data["dependencies"] if "zq-t08-2021" not in d.values()]
    edited = write_copy(data, tmp_path / "zhangqiu-edited.yaml")

    report = load(edited)
    plan = report.plans[0]
    assert plan.orphaned == ["Milestone zq-t05-2021: 1 progress report"]
    assert plan.deleted == {"Milestone": 1, "Dependency": 1}
    assert plan.updated == {"Milestone": 3} and plan.created == {}
    got = {m.key: m for m in db.session.scalars(select(Milestone))}
    assert "zq-t08-2021" not in got and "zq-t05-2021" in got
    for key in ("zq-t04-2021", "zq-t06-2021", "zq-t07-2021"):
        assert got[key].id == ids[key][0] and got[key].version == ids[key][1] + 1
    assert got["zq-t07-2021"].title == "远程会诊系统（改）"
    assert (got["zq-t07-2021"].due_date, got["zq-t07-2021"].baseline_due_date) == (date(2021, 9, 30),) * 2
    extended = got["zq-t06-2021"]
    assert (extended.due_date, extended.baseline_due_date) == (date(2022, 6, 30), date(2021, 9, 30))
    assert (extended.status, extended.percent, len(extended.extensions)) == ("in_progress", 60, 1)
    done = got["zq-t04-2021"]
    assert (done.text, done.status, done.percent, done.actual_finish) == (
        "移动端整合",
        "done",
        100,
        date(2021, 11, 30),
    )
    assert counts()["progress_report"] == reports and counts()["indicator_value"] == values
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.id == audit_max)) == audit_max
    update = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "plan_load.update", AuditEvent.milestone_id == extended.id
        )
    )
    assert update.before == {"baseline_due_date": "2021-12-31"} and update.after == {
        "baseline_due_date": "2021-09-30"
    }
    assert not db.session.scalars(
        select(Dependency).where(Dependency.successor_id == ids["zq-t08-2021"][0])
    ).all()

    # The edited file is now the truth: loading it again changes nothing, the orphan stays reported.
    before = rows()
    again = load(edited).plans[0]
    assert (again.created, again.updated, again.deleted) == ({}, {}, {})
    assert again.orphaned == plan.orphaned
    assert rows() == before


def test_removed_indicators_and_nodes(ctx, tmp_path):
    load(ZHANGQIU)
    indicator = db.session.scalar(select(Indicator).where(Indicator.key == "zq-i02"))
    db.session.add(IndicatorValue(indicator=indicator, as_of=date(2021, 6, 30), value_number=40))
    db.session.commit()
    data = read(ZHANGQIU)
    data["indicators"] = [i for i in data["indicators"] if i["key"] not in ("zq-i02", "zq-i03")]
    for m in milestones_of(data).values():
        m["indicators"] = [k for k in m.get("indicators") or [] if k not in ("zq-i02", "zq-i03")]
    last = data["nodes"][-1]
    removed = [n["key"] for n in walk_nodes([last])]
    gone = {m["key"] for n in walk_nodes([last]) for m in n.get("milestones") or []}
    data["nodes"] = data["nodes"][:-1]
    data["dependencies"] = [d for d in data["dependencies"] if not gone & set(d.values())]
    plan = load(write_copy(data, tmp_path / "zq.yaml")).plans[0]
    assert plan.orphaned == ["Indicator zq-i02: 1 value"]
    assert plan.deleted["Indicator"] == 1 and plan.deleted["PlanNode"] == len(removed)
    assert show_counts("zhangqiu-3n")["indicators"] == 44


def _bad_copy(tmp_path) -> tuple:
    data = read(ZHANGQIU)
    ms = milestones_of(data)
    ms["zq-t04-2021"]["lead"] = "区教委"  # unknown department
    ms["zq-t06-2021"]["due"] = "2021-13-01"  # bad date
    data["indicators"][4]["key"] = "zq-i04"  # duplicate key
    data["dependencies"].append(copy.deepcopy(data["dependencies"][0]))
    data["dependencies"][-1].update(predecessor="zq-t09-2021", successor="zq-t09-base")  # cycle
    return write_copy(data, tmp_path / "bad.yaml"), ms


def _assert_bad_report(report, bad):
    assert not report.ok and report.plans == []
    paths = {e.path: e.problem for e in report.errors if e.file == str(bad)}
    assert any(p.endswith(".lead") and "'区教委' is not listed" in v for p, v in paths.items())
    assert any(p.endswith(".due") and "invalid date '2021-13-01'" in v for p, v in paths.items())
    assert paths["indicators[4].key"].startswith("duplicate key 'zq-i04'")
    assert any("dependency cycle" in v and "zq-t09-base" in v for v in paths.values())
    assert all(str(e).startswith(f"{bad}: ") for e in report.errors)


def test_invalid_file_writes_nothing(ctx, tmp_path):
    bad, _ = _bad_copy(tmp_path)
    empty = counts()
    _assert_bad_report(load_files([bad]), bad)
    assert counts() == empty
    # The second of two files is bad: the good first one is not written either.
    _assert_bad_report(load_files([WEIHAI, bad]), bad)
    assert counts() == empty
    # With both plans loaded, a bad edit leaves every row as it was.
    load(*BOTH)
    before = rows()
    _assert_bad_report(load_files([WEIHAI, bad]), bad)
    assert rows() == before


def test_files_that_disagree(ctx, tmp_path):
    data = read(ZHANGQIU)
    data["departments"][0]["kind"] = "public_institution"
    other = write_copy(data, tmp_path / "other.yaml")
    report = load_files([ZHANGQIU, other])
    problems = {(e.file, e.path) for e in report.errors}
    assert (str(other), "code") in problems and (str(other), "departments[0].kind") in problems
    assert counts()["plan"] == 0
