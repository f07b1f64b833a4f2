"""The one shape of our review state machines: a table of (state, action) → state.

Reports and indicator values are both submitted → approved | returned; each
module keeps its own table and labels, and refuses a move the table lacks with
a Chinese message naming the current state and the action.
"""


class TransitionError(ValueError):
    pass


def next_state(table: dict, state: str, action: str, *, noun: str, states: dict, actions: dict) -> str:
    try:
        return table[(state, action)]
    except KeyError:
        raise TransitionError(
            f"{noun}当前状态为“{states.get(state, state)}”，不能{actions[action]}。"
        ) from None
