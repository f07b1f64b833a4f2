"""Load plan files: validate every file first, then write all of them in one transaction.

Nothing is written when any file is invalid. Loading the same file again writes
nothing; an edited file updates in place (rules in writer.py and prune.py).
"""

from app.extensions import db
from app.planio.reader import PlanError
from app.planio.report import LoadReport
from app.planio.schema import validate_file
from app.planio.writer import PlanWriter


def _across_files(parsed: list[tuple[str, dict]]) -> list[PlanError]:
    """What no single file can see: one plan code twice, or two files disagreeing
    about a region or a department's kind."""
    errors = []
    codes, regions, kinds = {}, {}, {}
    for name, data in parsed:
        if data["code"] in codes:
            errors.append(PlanError(name, "code", f"plan {data['code']!r} is also in {codes[data['code']]}"))
        codes.setdefault(data["code"], name)
        region = data["region"]
        spec = (region["kind"], region.get("parent"))
        first = regions.setdefault(region["name"], (spec, name))
        if first[0] != spec:
            errors.append(PlanError(name, "region", f"{region['name']!r} differs from {first[1]}"))
        for i, dept in enumerate(data["departments"]):
            first = kinds.setdefault((region["name"], dept["name"]), (dept["kind"], name))
            if first[0] != dept["kind"]:
                where = f"departments[{i}].kind"
                errors.append(PlanError(name, where, f"{dept['name']!r} is {first[0]!r} in {first[1]}"))
    return errors


def load_files(paths, *, commit: bool = True) -> LoadReport:
    """Validate all files, then upsert them in one transaction (committed unless
    commit=False). Returns the report; on errors nothing has been written."""
    report = LoadReport(files=[str(p) for p in paths])
    parsed = []
    for path in paths:
        data, errors = validate_file(path)
        report.errors += errors
        parsed.append((str(path), data))
    if report.errors:
        return report
    return load_parsed(parsed, commit=commit)


def load_parsed(parsed: list[tuple[str, dict]], *, commit: bool = True) -> LoadReport:
    """Upsert already-validated plans, given as (filename, data) pairs, in one
    transaction; nothing is written if they disagree with each other."""
    report = LoadReport(files=[name for name, _ in parsed])
    report.errors += _across_files(parsed)
    if report.errors:
        return report
    try:
        for name, data in parsed:
            report.plans.append(PlanWriter(data, name).run())
        if commit:
            db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return report
