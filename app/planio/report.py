"""What a load did: per plan, the objects created, updated, deleted and kept as orphans."""

from dataclasses import dataclass, field

from app.planio.reader import PlanError


@dataclass
class PlanResult:
    code: str
    file: str
    created: dict = field(default_factory=dict)  # model name -> count
    updated: dict = field(default_factory=dict)
    deleted: dict = field(default_factory=dict)
    orphaned: list = field(default_factory=list)  # "Milestone wh-x: 1 progress report"

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)

    def summary(self) -> str:
        """The plan's audit summary (Chinese, like the rest of the trail)."""
        counts = "，".join(
            f"{verb} {sum(c.values())}"
            for verb, c in (("新建", self.created), ("更新", self.updated), ("删除", self.deleted))
        )
        return f"导入计划文件 {self.file}：{counts}，保留孤立项 {len(self.orphaned)}"[:512]

    def line(self) -> str:
        def total(counts):
            return sum(counts.values())

        return (
            f"{self.code} ({self.file}): created {total(self.created)}, updated {total(self.updated)}, "
            f"deleted {total(self.deleted)}, orphaned {len(self.orphaned)}"
        )


@dataclass
class LoadReport:
    files: list[str]
    errors: list[PlanError] = field(default_factory=list)
    plans: list[PlanResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def orphaned(self) -> list[str]:
        return [f"{p.code}: {item}" for p in self.plans for item in p.orphaned]

    def lines(self) -> list[str]:
        out = []
        for plan in self.plans:
            out.append(plan.line())
            out += [f"  orphaned (kept, no longer in the file): {item}" for item in plan.orphaned]
        return out
