"""Background and multi-step work: review state machine, reminders, recomputes."""
