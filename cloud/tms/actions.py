"""How DDI feedback moves an action, and the poll answer's links.

DDI ``status.execution`` (hawkBit DDI API, "State Machine Mapping") with ``result.finished``:

| execution  | finished | action state  |
| ---------- | -------- | ------------- |
| scheduled  | any      | scheduled     |
| download   | any      | downloading   |
| downloaded | any      | downloaded    |
| proceeding | any      | installing (downloading while nothing was downloaded) |
| resumed    | any      | installing    |
| rejected   | any      | deferred: the terminal is busy; the action stays open |
| canceled   | any      | cancelled     |
| closed     | success  | success       |
| closed     | failure / none | failed  |
"""
import json

from cloud.db import utcnow
from cloud.tms.models import CLOSED_STATES, ActionStatus

EXECUTIONS = ("closed", "proceeding", "canceled", "scheduled", "rejected", "resumed", "downloaded", "download")
FINISHED = ("success", "failure", "none")


class ActionClosed(Exception):
    """Feedback for an action that is already closed (answered 410 Gone)."""


def state_after(current, execution, finished):
    if execution == "closed":
        return "success" if finished == "success" else "failed"
    if execution == "canceled":
        return "cancelled"
    if execution == "rejected":
        return "deferred"
    if execution == "proceeding":
        return "downloading" if current in ("scheduled", "deferred") else "installing"
    return {"scheduled": "scheduled", "download": "downloading", "downloaded": "downloaded",
            "resumed": "installing"}[execution]


def apply_feedback(db, action, execution, finished="none", progress=None, code=None, details=()):
    """Record one feedback message and move the action; returns the new state."""
    if action.state in CLOSED_STATES:
        raise ActionClosed("action %d is closed (%s)" % (action.id, action.state))
    progress = progress or {}
    db.add(ActionStatus(action_id=action.id, at=utcnow(), execution=execution, finished=finished,
                        progress_cnt=progress.get("cnt"), progress_of=progress.get("of"), code=code,
                        details=json.dumps(list(details)[:50])))
    if action.state == "cancelling" and execution not in ("canceled", "closed"):
        return action.state          # a cancel is pending: only its own feedback moves the action on
    action.state = state_after(action.state, execution, finished)
    action.updated_at = utcnow()
    if action.state in CLOSED_STATES:
        action.closed_at = utcnow()
    return action.state


def sleep_text(seconds):
    """DDI polling interval, ``HH:MM:SS``."""
    seconds = max(1, int(seconds))
    return "%02d:%02d:%02d" % (seconds // 3600, seconds // 60 % 60, seconds % 60)
