"""Evidence uploads: checked by content, stored outside the web root under
random names, and read back only through permission-checked views."""

import hashlib
import secrets
from pathlib import Path

import filetype
from flask import current_app

from app.forms_base import has_control

# Types recognised from the file's bytes, with the label shown to users.
ALLOWED_TYPES = {
    "application/pdf": "PDF",
    "image/png": "PNG 图片",
    "image/jpeg": "JPEG 图片",
    "image/gif": "GIF 图片",
    "image/webp": "WebP 图片",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word 文档",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel 表格",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "PPT 演示文稿",
    "application/msword": "Word 文档",
    "application/vnd.ms-excel": "Excel 表格",
    "application/zip": "ZIP 压缩包",
    "text/plain": "文本",
}


class UploadError(ValueError):
    pass


def sniff(data: bytes) -> str | None:
    """The content type of `data` judged from its bytes, or None if not allowed."""
    kind = filetype.guess(data)
    if kind is not None:
        return kind.mime if kind.mime in ALLOWED_TYPES else None
    # Plain text has no magic number: accept valid UTF-8 without control bytes.
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(ch < " " and ch not in "\t\r\n" for ch in text):
        return None
    return "text/plain"


def storage_dir() -> Path:
    path = Path(current_app.config["UPLOAD_FOLDER"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def store(file_storage) -> dict:
    """Validate and write one uploaded file; returns the Evidence fields."""
    name = (file_storage.filename or "").strip()
    if has_control(name):
        raise UploadError("文件名包含不允许的控制字符（NUL、方向控制符等），请重命名后再上传。")
    data = file_storage.read()
    if not data:
        raise UploadError(f"文件“{name or '未命名'}”为空。")
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if len(data) > limit:
        raise UploadError(f"文件“{name}”超过 {limit // (1024 * 1024)} MB 上限。")
    content_type = sniff(data)
    if content_type is None:
        raise UploadError(f"文件“{name}”的内容不是允许的类型（PDF、图片、Office 文档、ZIP 或文本）。")
    stored_name = secrets.token_hex(20)
    (storage_dir() / stored_name).write_bytes(data)
    return {
        "original_name": name[:256] or "附件",
        "stored_name": stored_name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "content_type": content_type,
    }


def path_of(evidence) -> Path:
    return storage_dir() / evidence.stored_name


def discard(stored_names: list[str]) -> None:
    """Remove files written for a change that was rolled back."""
    for name in stored_names:
        (storage_dir() / name).unlink(missing_ok=True)


def attach_evidence(user, files, written: list, *, milestone, report=None, notice=None) -> None:
    """Store each uploaded file as evidence of a report or a 督办 answer, audited; the
    stored names go into `written` so that a caller who rolls back can discard them."""
    from app import audit
    from app.extensions import db
    from app.models import Evidence

    what = "督办反馈佐证材料" if notice is not None else "佐证材料"
    for storage in files or []:
        if not (storage and storage.filename):
            continue
        fields = store(storage)
        written.append(fields["stored_name"])
        evidence = Evidence(
            report=report, notice=notice, milestone_id=milestone.id, uploaded_by_id=user.id, **fields
        )
        db.session.add(evidence)
        after = {"sha256": evidence.sha256, "size": evidence.size}
        if notice is not None:
            after["notice_id"] = notice.id
        audit.record(
            user,
            "evidence.upload",
            evidence,
            f"上传{what}“{evidence.original_name}”",
            after=after,
            milestone=milestone,
        )
