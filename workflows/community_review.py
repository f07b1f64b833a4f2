"""The community item review state machine, the same shape as progress reports:
draft → submitted → approved | returned; a returned item is edited and submitted again.
The 街道 / 镇 office saves and submits, the plan office approves or returns (never the
author: four eyes). Approving may make the community a 智慧社区, which moves the
region's coverage (app.communities.coverage). Functions add to the session and never commit.
"""

from app import audit, clock
from app.engines import community as rules
from app.extensions import db
from app.models import Notification, User
from app.models.community import ITEM_STATES, CommunityItem
from workflows import transitions
from workflows.transitions import TransitionError

TRANSITIONS = {
    ("draft", "save"): "draft",
    ("returned", "save"): "returned",
    ("draft", "submit"): "submitted",
    ("returned", "submit"): "submitted",
    ("submitted", "approve"): "approved",
    ("submitted", "return"): "returned",
}
ACTION_LABELS = {"save": "修改", "submit": "提交", "approve": "通过", "return": "退回"}
FIELDS = ["state", "met", "numbers", "note"]


def next_state(state: str, action: str) -> str:
    return transitions.next_state(
        TRANSITIONS, state, action, noun="该评估项", states=ITEM_STATES, actions=ACTION_LABELS
    )


def _label(item: CommunityItem) -> str:
    return f"{item.community.name}第 {item.number} 项"


def save(item: CommunityItem, user: User, met: bool | None, numbers: dict, note: str | None) -> bool:
    """Write the street's answer; True when anything changed."""
    next_state(item.state, "save")
    errors = rules.check_numbers(item.number, numbers, item.community.households)
    if errors:
        raise TransitionError("".join(errors))
    before = audit.snapshot(item, FIELDS)
    item.met, item.numbers, item.note = met, numbers or None, note
    after = audit.snapshot(item, FIELDS)
    if before == after:
        return False
    item.author_id = user.id
    audit.record(
        user, "community_item.save", item, f"填写{_label(item)}", before, after, region_id=_region(item)
    )
    return True


def submit(item: CommunityItem, user: User) -> None:
    if item.met is None:
        raise TransitionError(f"{_label(item)}尚未选择“达标”或“未达标”，不能提交。")
    results = rules.measure(item.number, item.numbers or {}, item.community.households)
    error = rules.claim_error(item.number, item.met, results)
    if error:
        raise TransitionError(f"{item.community.name}：{error}")
    before = item.state
    item.state = next_state(item.state, "submit")
    item.author_id = user.id
    item.submitted_at = clock.event_time()
    audit.record(
        user,
        "community_item.submit",
        item,
        f"提交{_label(item)}：{'达标' if item.met else '未达标'}",
        before={"state": before},
        after={"state": item.state, "met": item.met, "numbers": item.numbers},
        region_id=_region(item),
    )


SELF_REVIEW = "不能审核本人提交的评估项：请由统筹部门的其他人员通过或退回（四眼原则）。"


def _check_reviewer(item: CommunityItem, reviewer: User) -> None:
    if reviewer.id is not None and reviewer.id == item.author_id:
        raise TransitionError(SELF_REVIEW)


def approve(item: CommunityItem, reviewer: User) -> None:
    _check_reviewer(item, reviewer)
    item.state = next_state(item.state, "approve")
    item.reviewed_by_id = reviewer.id
    item.reviewed_at = clock.event_time()
    item.return_reason = None
    audit.record(
        reviewer,
        "community_item.approve",
        item,
        f"通过{_label(item)}（{'达标' if item.met else '未达标'}）",
        before={"state": "submitted"},
        after={"state": "approved", "met": item.met},
        region_id=_region(item),
    )
    _notify(item, f"{_label(item)}的评估已审核通过。")


def return_(item: CommunityItem, reviewer: User, reason: str) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise TransitionError("退回时必须填写退回原因。")
    _check_reviewer(item, reviewer)
    item.state = next_state(item.state, "return")
    item.return_reason = reason
    item.reviewed_by_id = reviewer.id
    item.reviewed_at = clock.event_time()
    audit.record(
        reviewer,
        "community_item.return",
        item,
        f"退回{_label(item)}：{reason}",
        before={"state": "submitted"},
        after={"state": "returned", "reason": reason},
        region_id=_region(item),
    )
    _notify(item, f"{_label(item)}的评估被退回：{reason}")


def _region(item: CommunityItem) -> int:
    return item.community.region_id


def _notify(item: CommunityItem, text: str) -> None:
    link = f"/communities/{item.community_id}#item-{item.number}"
    for user in db.session.scalars(
        db.select(User).where(User.department_id == item.community.street_id, User.active.is_(True))
    ):
        db.session.add(Notification(user_id=user.id, text=text, link=link))


__all__ = ["TransitionError", "approve", "next_state", "return_", "save", "submit"]
