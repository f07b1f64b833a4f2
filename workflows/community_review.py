"""The community item review state machine, the same shape as progress reports:
draft → submitted → approved | returned; a returned item is edited and submitted again.
The 街道 / 镇 office saves and submits, the plan office approves or returns (never the
author: four eyes). Approving may make the community a 智慧社区, which moves the
region's coverage (app.communities.coverage). Functions add to the session and never commit.
"""

from app import audit, clock
from app.engines import community as rules
from app.models import User
from app.models.community import ITEM_STATES, CommunityItem
from workflows import reviewing, transitions
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


def _region(item: CommunityItem) -> int:
    return item.community.region_id


def _set_reviewer(item: CommunityItem, reviewer: User) -> None:
    item.reviewed_by_id = reviewer.id


ITEMS = reviewing.Reviewed(
    "community_item", next_state, SELF_REVIEW, _set_reviewer, clear_reason_on_approve=True, region_of=_region
)


def approve(item: CommunityItem, reviewer: User) -> None:
    reviewing.approve(
        ITEMS,
        item,
        reviewer,
        lambda: f"通过{_label(item)}（{'达标' if item.met else '未达标'}）",
        after={"state": "approved", "met": item.met},
    )
    _notify(item, f"{_label(item)}的评估已审核通过。")


def return_(item: CommunityItem, reviewer: User, reason: str) -> None:
    reason = reviewing.required_reason(reason)
    reviewing.return_(ITEMS, item, reviewer, reason, lambda: f"退回{_label(item)}：{reason}")
    _notify(item, f"{_label(item)}的评估被退回：{reason}")


def _notify(item: CommunityItem, text: str) -> None:
    link = f"/communities/{item.community_id}#item-{item.number}"
    reviewing.notify_department(item.community.street_id, text, link)


__all__ = ["TransitionError", "approve", "next_state", "return_", "save", "submit"]
