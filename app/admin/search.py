"""Search boxes of the admin lists: the typed text, and as a literal LIKE pattern."""

MAX_QUERY = 64  # characters of a search box that are used


def search_text(raw: str | None) -> str:
    """A search box's text: trimmed, at most MAX_QUERY characters, no control characters."""
    text = "".join(ch for ch in (raw or "") if ch.isprintable())
    return text.strip()[:MAX_QUERY]


def like_escape(text: str) -> str:
    """The text as a literal inside a LIKE pattern (escape character: backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
