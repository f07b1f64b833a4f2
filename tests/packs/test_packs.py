"""自评材料 (中期考核 / 终期验收): the pack on screen and as a .zip — every standard
indicator with the points of the stored run of the same date, approved evidence only,
safe file names, scoped by region, every download audited."""

import io
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.engines.standards import load_standard
from app.extensions import db
from app.forecasting.known import set_direct_value
from app.forecasting.snapshot import store_snapshot
from app.models import AuditEvent, Evidence, Indicator, IndicatorValue, Milestone, Plan, ProgressReport, User
from app.uploads import storage_dir
from tests.conftest import TEST_AS_OF, login
from tests.factories import _user, build_world
from workflows.selfassess import build_pack
from workflows.selfassess_zip import clean_name, safe_arcname

CITY, COUNTY = "sd-city-2019", "sd-county-2019"
URL = "/plans/plan-a/self-assessment"
ZIP = URL + ".zip"
SAMPLES = 200
EARLY = date(2021, 3, 5)
# Direct entries at the four-star column for these numbers (city standard).
DIRECT = ("2", "9", "20")
FOLDER_5 = "佐证材料/05 城市重点公共区域视频监控联网率"


def _plan(code="plan-a"):
    return db.session.scalar(select(Plan).where(Plan.code == code))


def _report(w, milestone_id, state, files, dept="police_dept", author="police", reviewed=None, kind="lead"):
    """A report in `state` on the milestone with evidence files {name: bytes} (None: not on disk)."""
    r = ProgressReport(
        milestone_id=milestone_id,
        department_id=w[dept],
        author_id=w[author],
        kind=kind,
        text="进展",
        percent=100 if state == "approved" else 50,
        claimed_status="done" if state == "approved" else "in_progress",
        state=state,
        reviewed_at=reviewed,
        reviewed_by_id=w["office"] if reviewed else None,
    )
    db.session.add(r)
    db.session.flush()
    for i, (name, data) in enumerate(files.items()):
        stored = f"{state}{r.id}x{i}" + "0" * 20
        if data is not None:
            (storage_dir() / stored).write_bytes(data)
        db.session.add(
            Evidence(
                report_id=r.id,
                milestone_id=milestone_id,
                uploaded_by_id=w[author],
                original_name=name,
                stored_name=stored,
                sha256=f"{stored}-sha",
                size=len(data or b""),
                content_type="application/pdf",
            )
        )
    return r


@pytest.fixture
def world(app):
    """plan-a (甲市, city standard): 2, 9, 20 entered directly (four-star column); i1
    (视频监控联网率, standard 5) approved 70 % on 2021-03-01 and 92 % on 2021-03-10, linked
    to 视频平台升级 (m_police), which has an approved report (two files, one of them with
    an unsafe name, one missing on disk), a draft, a returned and a submitted report
    (each with a file that must not be packed). plan-b (乙县, county standard) with one
    direct value and an approved file on 乙县一网通办."""
    with app.app_context():
        w = build_world()
        plan, plan_b = _plan(), _plan("plan-b")
        plan.standard_code, plan_b.standard_code = CITY, COUNTY
        plan_b.target_date = date(2021, 3, 1)  # in the past: 终期验收 defaults to it
        office = db.session.get(User, w["office"])
        ind = db.session.scalar(select(Indicator).where(Indicator.key == "i1"))
        ind.standard_indicator = "5"
        for n in DIRECT:
            set_direct_value(plan, n, {"level": 4}, office, date(2021, 3, 1))
        for as_of, v in ((date(2021, 3, 1), 70), (date(2021, 3, 10), 92)):
            db.session.add(
                IndicatorValue(
                    indicator_id=ind.id,
                    as_of=as_of,
                    value_number=v,
                    state="approved",
                    entered_by_id=w["police"],
                    reviewed_by_id=w["office"],
                    reviewed_at=datetime.combine(as_of, datetime.min.time()).replace(hour=2),
                )
            )
        b_ind = Indicator(
            plan_id=plan_b.id, key="bi", name="政务服务网上可办率", standard_indicator="1", unit="%"
        )
        db.session.add(b_ind)
        db.session.flush()
        db.session.get(Milestone, w["m_other"]).indicators = [b_ind]
        set_direct_value(plan_b, "2", {"level": 3}, db.session.get(User, w["other_office"]), date(2021, 2, 1))
        _report(
            w,
            w["m_police"],
            "approved",
            {
                "验收报告.pdf": b"%PDF approved",
                "../../etc/\u202efdp.exe\x07passwd": b"evil",  # (PostgreSQL stores no NUL)
                "丢失的文件.pdf": None,
            },
            reviewed=datetime(2021, 3, 3, 2),
        )
        # A draft and a resubmitted report keep the review time of their earlier return. One
        # pending report per milestone and department (the database holds it): the draft is
        # the lead's, the returned one the co-department's, the submitted one the plan office's.
        m_police = db.session.get(Milestone, w["m_police"])
        m_police.co_departments = [*m_police.co_departments, office.department]
        w.ids["office_dept"] = office.department_id
        _report(w, w["m_police"], "draft", {"草稿附件.pdf": b"draft"}, reviewed=datetime(2021, 3, 2, 2))
        _report(
            w, w["m_police"], "returned", {"退回附件.pdf": b"returned"}, dept="transport_dept",
            author="transport", reviewed=datetime(2021, 3, 4, 2), kind="part",
        )  # fmt: skip
        _report(
            w, w["m_police"], "submitted", {"待审附件.pdf": b"submitted"}, dept="office_dept",
            author="office", reviewed=datetime(2021, 3, 2, 3), kind="part",
        )  # fmt: skip
        _report(
            w, w["m_other"], "approved", {"乙县材料.pdf": b"county"}, dept="other_dept", author="other",
            reviewed=datetime(2021, 2, 20, 2),
        )  # fmt: skip
        _user("other_leader", "leading_group", plan_b.region)
        db.session.commit()
        w.ids["i1"] = ind.id
        db.session.remove()
    return w


def _zip(client, url=ZIP + "?kind=mid"):
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:400]
    assert response.mimetype == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.get_data()))


def _sheet(zf, name):
    wb = load_workbook(io.BytesIO(zf.read("自评材料索引.xlsx")))
    return [list(r) for r in wb[name].iter_rows(values_only=True)]


def _summary(zf):
    rows = _sheet(zf, "自评总表")
    assert rows[0] == [
        "序号",
        "类别",
        "指标",
        "数值",
        "单位",
        "数据日期",
        "来源",
        "得分",
        "满分",
        "里程碑",
        "佐证材料",
    ]
    return {str(r[0]): r for r in rows[1:] if isinstance(r[0], int)}, rows


def _stored(app, as_of, code="plan-a"):
    with app.app_context():
        run, _ = store_snapshot(_plan(code), as_of, samples=SAMPLES)
        result = run.result
        db.session.remove()
    return result


def test_zip_lists_every_standard_indicator_with_the_stored_runs_points(app, client, world):
    result = _stored(app, TEST_AS_OF)
    login(client, "office")
    zf = _zip(client)
    assert zf.testzip() is None
    by_number, rows = _summary(zf)
    std = load_standard(CITY)
    assert list(by_number) == [i["number"] for i in std["indicators"]]  # every one, the standard's order
    current = result["current"]
    for number, row in by_number.items():
        assert row[7] == current["indicators"][number]["points"], number
        assert row[8] == current["indicators"][number]["max_points"], number
    assert by_number["5"][3] == "92%" and by_number["5"][5] == "2021-03-10"
    assert "计划指标：视频监控联网率" in by_number["5"][6] and "审核：office" in by_number["5"][6]
    assert by_number["9"][6].startswith("标准直填")
    assert by_number["1"][3] == "无数值" and by_number["1"][7] == 0
    total_row = next(r for r in rows if r[0] == "合计")
    assert total_row[7] == current["total"]
    notes = dict((r[0], r[1]) for r in _sheet(zf, "说明") if r[0])
    assert notes["数据截至"] == TEST_AS_OF.isoformat()
    assert notes["总分"].startswith(f"{current['total']} 分")
    assert notes["星级"].startswith(f"{current['stars']} 星")
    assert "一致" in notes["星级测算页"] and "不一致" not in notes["星级测算页"]


def test_page_shows_the_same_total_and_points_as_the_stars_page(app, client, world):
    result = _stored(app, TEST_AS_OF)
    login(client, "leader")
    page = client.get(URL).get_data(as_text=True)
    assert "中期考核自评材料" in page
    assert f'data-testid="pack-total">{result["current"]["total"]} 分' in page
    assert "2021年3月15日" in page and "一致" in page
    stars = client.get("/plans/plan-a/stars").get_data(as_text=True)
    assert f'data-testid="current-total">{result["current"]["total"]}<' in stars
    row5 = page.split('data-number="5"', 1)[1].split("</tr>", 1)[0]
    assert f'data-testid="points">{result["current"]["indicators"]["5"]["points"]}<' in row5
    assert "视频平台升级" in row5 and "验收报告.pdf" in row5 and "草稿附件" not in page


def test_points_are_those_of_the_pack_date_not_another(app, client, world):
    """A pack as of 2021-03-05 scores i1 at 70 % (the 92 % of 2021-03-10 is not known yet),
    the same as a run stored for that date, not the run of today."""
    early = _stored(app, EARLY)
    today = _stored(app, TEST_AS_OF)
    assert early["current"]["indicators"]["5"]["points"] != today["current"]["indicators"]["5"]["points"]
    login(client, "admin")
    zf = _zip(client, ZIP + f"?kind=mid&as_of={EARLY.isoformat()}")
    by_number, rows = _summary(zf)
    assert by_number["5"][3] == "70%"
    for number, row in by_number.items():
        assert row[7] == early["current"]["indicators"][number]["points"], number
    assert next(r for r in rows if r[0] == "合计")[7] == early["current"]["total"]
    with app.app_context():
        pack = build_pack(world.ids.get("plan_a") or _plan().id, "mid", EARLY)
        assert pack.run["agrees"] and pack.total == early["current"]["total"]


def test_only_approved_reports_evidence_is_packed_with_safe_names(app, client, world):
    login(client, "office")
    zf = _zip(client)
    names = zf.namelist()
    files = [n for n in names if n.startswith("佐证材料/")]
    assert f"{FOLDER_5}/视频平台升级/验收报告.pdf" in files
    assert zf.read(f"{FOLDER_5}/视频平台升级/验收报告.pdf") == b"%PDF approved"
    evil = [n for n in files if zf.read(n) == b"evil"]
    assert evil == [f"{FOLDER_5}/视频平台升级/_.._etc_fdp.exepasswd"]
    for name in names:
        assert ".." not in name.split("/") and not name.startswith("/") and "\\" not in name
        assert not any(ch in name for ch in "\x00\x07\u202e\u200f")
    data = b"".join(zf.read(n) for n in files)
    for leaked in (b"draft", b"returned", b"submitted"):
        assert leaked not in data
    assert not any(w in n for n in names for w in ("草稿附件", "退回附件", "待审附件"))
    # Chinese names are stored as UTF-8 (flag bit 11), not mangled.
    info = zf.getinfo(f"{FOLDER_5}/视频平台升级/验收报告.pdf")
    assert info.flag_bits & 0x800
    # The index points at the files, and names the one missing on disk.
    by_number, _ = _summary(zf)
    assert f"{FOLDER_5}/视频平台升级/验收报告.pdf" in by_number["5"][10]
    assert "丢失的文件" not in by_number["5"][10]
    notes = [r[1] for r in _sheet(zf, "说明") if r[1]]
    assert any("丢失的文件.pdf" in (n or "") and "文件不存在" in n for n in notes)
    milestones = _sheet(zf, "里程碑")
    assert any(r[3] == "视频平台升级" and r[0] == 5 for r in milestones[1:])


def test_evidence_approved_after_the_pack_date_is_left_out(app, client, world):
    login(client, "office")
    zf = _zip(client, ZIP + "?kind=mid&as_of=2021-03-02")  # the approval came on 2021-03-03
    assert not [n for n in zf.namelist() if n.startswith("佐证材料/") and not n.endswith("/")]


def test_province_downloads_both_areas_and_each_download_is_audited(app, client, world):
    login(client, "province")
    index = client.get("/packs").get_data(as_text=True)
    assert "/plans/plan-a/self-assessment.zip?kind=mid" in index
    assert "/plans/plan-b/self-assessment.zip?kind=final" in index
    a = _zip(client, ZIP + "?kind=mid")
    b = _zip(client, "/plans/plan-b/self-assessment.zip?kind=final")
    assert "乙县材料.pdf" in "".join(b.namelist())
    assert not any("乙县" in n for n in a.namelist())
    notes_b = dict((r[0], r[1]) for r in _sheet(b, "说明") if r[0])
    assert notes_b["材料类型"] == "终期验收" and notes_b["数据截至"] == "2021-03-01"
    by_number, _ = _summary(b)
    assert list(by_number) == [i["number"] for i in load_standard(COUNTY)["indicators"]]
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "pack.download").order_by(AuditEvent.id)
        ).all()
        province = db.session.scalar(select(User).where(User.username == "province"))
        assert [(e.user_id, e.region_id, e.after["kind"]) for e in events] == [
            (province.id, world["region_a"], "mid"),
            (province.id, world["region_b"], "final"),
        ]
        assert "终期验收" in events[1].summary


@pytest.mark.parametrize(
    ("user", "url", "status"),
    [
        ("police", URL, 403),
        ("police", ZIP, 403),
        ("police", "/packs", 403),
        ("other_leader", URL, 404),
        ("other_leader", ZIP, 404),
        ("other_office", ZIP, 404),
        ("leader", "/plans/plan-b/self-assessment.zip", 404),
        ("leader", ZIP + "?kind=yearly", 400),
        ("leader", ZIP + "?as_of=2031-01-01", 400),
        ("leader", URL + "?as_of=tomorrow", 400),
    ],
)
def test_who_may_take_a_pack(app, client, world, user, url, status):
    login(client, user)
    response = client.get(url)
    assert response.status_code == status
    if status == 400:
        assert "无效" in response.get_data(as_text=True) or "不能晚于今天" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "pack.download")) is None


def test_leader_of_other_region_sees_only_their_plan_listed(app, client, world):
    login(client, "other_leader")
    index = client.get("/packs").get_data(as_text=True)
    assert "plan-b" in index and "plan-a" not in index
    assert client.get("/plans/plan-b/self-assessment.zip?kind=final").status_code == 200


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd", "_.._etc_passwd"),
        ("..", "附件"),
        ("a\x00b.txt", "ab.txt"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("  .hidden  ", "hidden"),
        ("CON.txt", "_CON.txt"),
        ("报告\u200b（终稿）.docx", "报告（终稿）.docx"),
        ("x" * 300 + ".pdf", "x" * 76 + ".pdf"),
        ("C:\\Windows\\evil.dll", "C__Windows_evil.dll"),
    ],
)
def test_clean_name(raw, expected):
    assert clean_name(raw) == expected


@pytest.mark.parametrize("parts", [("..", "x"), ("/etc", "x"), ("a", ""), ("a\\..", "b")])
def test_safe_arcname_refuses_paths_leaving_the_archive(parts):
    with pytest.raises(ValueError):
        safe_arcname(*parts)


def test_same_file_once_per_folder_and_in_every_indicators_folder(app, client, world):
    """视频平台升级 also feeds standard 10 through a second plan indicator: its files are in
    both folders; a second approved report re-uploading the same file adds nothing; another
    file of the same name gets its own name."""
    with app.app_context():
        i2 = Indicator(plan_id=_plan().id, key="i2", name="视频图像共享率", standard_indicator="10", unit="%")
        db.session.add(i2)
        db.session.flush()
        m = db.session.get(Milestone, world["m_police"])
        m.indicators = [*m.indicators, i2]
        again = _report(
            world, m.id, "approved", {"验收报告.pdf": b"%PDF other"}, reviewed=datetime(2021, 3, 5, 2)
        )
        first = db.session.scalar(select(Evidence).where(Evidence.original_name == "验收报告.pdf"))
        dup = Evidence(
            report_id=again.id,
            milestone_id=m.id,
            uploaded_by_id=world["police"],
            original_name="验收报告（再次上传）.pdf",
            stored_name=first.stored_name[::-1],
            sha256=first.sha256,
            size=first.size,
            content_type="application/pdf",
        )
        (storage_dir() / dup.stored_name).write_bytes(b"%PDF approved")
        db.session.add(dup)
        db.session.commit()
    login(client, "office")
    zf = _zip(client)
    files = sorted(n for n in zf.namelist() if n.startswith("佐证材料/") and "验收报告" in n)
    folder_10 = "佐证材料/10 " + load_standard(CITY)["indicators"][9]["name"]
    assert files == sorted(
        f"{folder}/视频平台升级/{name}"
        for folder in (FOLDER_5, folder_10)
        for name in ("验收报告.pdf", "验收报告 (2).pdf")
    )
    assert zf.read(f"{folder_10}/视频平台升级/验收报告 (2).pdf") == b"%PDF other"
    assert len(zf.namelist()) == len(set(zf.namelist()))


def test_pack_says_when_the_stored_run_is_behind_the_data(app, client, world):
    """A value approved on the pack date after the run was stored: the pack follows the
    data and says the 星级测算 result of that date differs."""
    stored = _stored(app, TEST_AS_OF)
    with app.app_context():
        db.session.add(
            IndicatorValue(
                indicator_id=world["i1"],
                as_of=TEST_AS_OF,
                value_number=40,
                state="approved",
                reviewed_at=datetime(2021, 3, 15, 2),
            )
        )
        db.session.commit()
    login(client, "office")
    page = client.get(URL).get_data(as_text=True)
    assert "不一致" in page and "第 5 项" in page
    notes = dict((r[0], r[1]) for r in _sheet(_zip(client), "说明") if r[0])
    assert "不一致" in notes["星级测算页"] and f"{stored['current']['total']} 分" in notes["星级测算页"]
