"""A job that always fails, for the queue admin tests (rq imports it by its dotted path)."""


def explode(label: str) -> None:
    raise RuntimeError(f"任务失败：{label}")
