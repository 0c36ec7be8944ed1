"""Replica output → moto's CloudWatch Logs, the way the awslogs log driver ships it.

Lines are stamped with their arrival time and written in batches (every 200 ms) to the
task's stream `<awslogs-stream-prefix>/<container name>/<task id>` in the task
definition's `awslogs-group`
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html).
The driver creates the stream; the group must exist. When it does not, real ECS fails to
start the task; here the lines are dropped (with one warning per group), so a fleet built
with `log_group: false` still runs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass

import moto_state
from moto_state import STATE_LOCK

_BATCH_S = 0.2
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LogDestination:
    region: str
    group: str
    stream: str

    @staticmethod
    def of(task, container_definition: dict) -> LogDestination | None:
        """Where the awslogs driver sends this container's output, or None when the
        container logs elsewhere."""
        config = container_definition.get("logConfiguration") or {}
        options = config.get("options") or {}
        if config.get("logDriver") != "awslogs" or "awslogs-group" not in options:
            return None
        prefix = options.get("awslogs-stream-prefix")
        name = container_definition["name"]
        stream = f"{prefix}/{name}/{task.id}" if prefix else f"{name}/{task.id}"
        return LogDestination(task.region_name, options["awslogs-group"], stream)


class LogShipper:
    def __init__(self) -> None:
        self._pending: list[tuple[LogDestination, int, str]] = []
        self._pending_lock = threading.Lock()
        self._warned_groups: set[str] = set()

    def submit(self, destination: LogDestination, line: str) -> None:
        stamp = int(time.time() * 1000)
        with self._pending_lock:
            self._pending.append((destination, stamp, line))

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(_BATCH_S):
            self.flush()

    def flush(self) -> None:
        with self._pending_lock:
            pending, self._pending = self._pending, []
        batches: dict[LogDestination, list[tuple[int, str]]] = defaultdict(list)
        for destination, stamp, line in pending:
            batches[destination].append((stamp, line))
        for destination, events in batches.items():
            self.put(destination, events)

    def put(self, destination: LogDestination, events: list[tuple[int, str]]) -> bool:
        """Writes `events` (timestamp ms, message) in one PutLogEvents; False when the log
        group does not exist."""
        ordered = sorted(events, key=lambda event: event[0])
        with STATE_LOCK:
            backend = moto_state.logs(destination.region)
            group = backend.groups.get(destination.group)
            if group is None:
                if destination.group not in self._warned_groups:
                    self._warned_groups.add(destination.group)
                    _log.warning(
                        "log group %s does not exist; dropping its lines", destination.group
                    )
                return False
            if destination.stream not in group.streams:
                group.create_log_stream(destination.stream)
            backend.put_log_events(
                destination.group,
                destination.stream,
                [{"timestamp": stamp, "message": line} for stamp, line in ordered],
            )
        return True

    def reset(self) -> None:
        with self._pending_lock:
            self._pending.clear()
        self._warned_groups.clear()


# Lines that share one millisecond in emit_numbered, so a poller that resumes from the
# last timestamp it saw gets some events twice and must de-duplicate them by eventId.
_LINES_PER_MS = 4


def emit_numbered(
    shipper: LogShipper, destination: LogDestination, count: int, over_ms: int
) -> dict:
    """Writes `count` numbered lines ("line 000001 of 001000") to `destination` in batches
    spread over `over_ms`, with timestamps that never decrease: several lines share each
    millisecond, and each batch starts on the millisecond the previous one ended on."""
    batches = max(1, min(count, over_ms // 200 or 1))
    started = time.monotonic()
    last_stamp: int | None = None
    written = 0
    for batch in range(batches):
        time.sleep(max(0.0, started + batch * over_ms / batches / 1000 - time.monotonic()))
        size = count * (batch + 1) // batches - written
        groups = -(-size // _LINES_PER_MS)
        now = int(time.time() * 1000)
        events = []
        for index in range(size):
            group = index // _LINES_PER_MS
            if last_stamp is not None and group == 0:
                stamp = last_stamp
            else:
                stamp = max(last_stamp or 0, now - (groups - 1 - group))
            events.append((stamp, f"line {written + index + 1:06d} of {count:06d}"))
        if events and not shipper.put(destination, events):
            raise LookupError(f"log group {destination.group} does not exist")
        written += size
        last_stamp = events[-1][0] if events else last_stamp
    return {
        "group": destination.group,
        "stream": destination.stream,
        "count": written,
        "batches": batches,
    }
