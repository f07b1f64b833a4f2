"""The milestone page says which indicator each target delivers, and which linked
indicators it declares no value for (those count nothing in the forecast)."""

from sqlalchemy import select

from app.extensions import db
from app.models import Department, Milestone, Region, User
from app.planio.loader import load_files
from tests.conftest import login
from tests.planio.helpers import WEIHAI


def test_declared_and_undeclared_deliveries(app, client):
    with app.app_context():
        assert load_files([WEIHAI]).ok
        region = db.session.scalar(select(Region).where(Region.name == "威海市"))
        dept = db.session.scalar(select(Department).where(Department.name == "市大数据中心"))
        user = User(
            username="wh", display_name="wh", role="plan_office", region_id=region.id, department_id=dept.id
        )
        user.set_password("secret-pass-1")
        db.session.add(user)
        db.session.commit()
        ids = {m.key: m.id for m in db.session.scalars(select(Milestone))}
    login(client, "wh")
    page = client.get(f"/milestones/{ids['wh-p07-2020']}").get_data(as_text=True)
    assert "数据共享水平 &gt;= 90% · 交付指标“数据资源共享水平”" in page.replace('<span class="muted">', "")
    assert "未声明交付值" not in page
    page = client.get(f"/milestones/{ids['wh-p35-2020']}").get_data(as_text=True)
    assert "公共交通来车实时预报率" in page and "未声明交付值：完成本里程碑不计入该指标的测算值" in page
