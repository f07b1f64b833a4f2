"""A small process supervisor for `make run` (scripts/run_dev.py).

Starts named commands, prefixes their output, and keeps them running:

- a child named in `restart` (the worker, the scheduler) that exits while we are not
  stopping is logged and started again after a back-off (1, 2, 4 … s); after
  `max_quick_failures` exits in a row, each within `quick_seconds` of its start, it is
  left stopped with a message, and everything else keeps running;
- any other child (the web server) exiting stops them all: there is nothing to serve;
- `request_stop()` (Ctrl+C / SIGTERM in run_dev) stops every child: SIGTERM to its
  process group, SIGKILL after `stop_timeout` seconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import TextIO


@dataclass
class Child:
    name: str
    cmd: list[str]
    restartable: bool
    proc: subprocess.Popen | None = None
    started_at: float = 0.0
    quick_failures: int = 0
    restart_at: float | None = None
    gave_up: bool = False
    starts: int = 0
    pids: list[int] = field(default_factory=list)


def _describe(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


class Supervisor:
    def __init__(
        self,
        commands: dict[str, list[str]],
        *,
        restart: tuple[str, ...] = ("worker", "scheduler"),
        env: dict | None = None,
        out: TextIO | None = None,
        backoff: tuple[float, ...] = (1, 2, 4, 8, 16),
        max_quick_failures: int = 5,
        quick_seconds: float = 30,
        poll_seconds: float = 0.2,
        stop_timeout: float = 10,
    ):
        self.children = {name: Child(name, cmd, name in restart) for name, cmd in commands.items()}
        self.env = env
        self.out = out or sys.stdout
        self.backoff = backoff
        self.max_quick_failures = max_quick_failures
        self.quick_seconds = quick_seconds
        self.poll_seconds = poll_seconds
        self.stop_timeout = stop_timeout
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.exit_code = 0

    # --- output ---

    def log(self, message: str) -> None:
        with self._lock:
            self.out.write(f"{'supervise':<9}| {message}\n")
            self.out.flush()

    def _pump(self, name: str, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            with self._lock:
                self.out.write(f"{name:<9}| {line}")
                self.out.flush()

    # --- children ---

    def _spawn(self, child: Child) -> None:
        child.proc = subprocess.Popen(
            child.cmd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group: a Ctrl+C reaches us only
        )
        child.started_at = time.monotonic()
        child.restart_at = None
        child.starts += 1
        child.pids.append(child.proc.pid)
        threading.Thread(target=self._pump, args=(child.name, child.proc), daemon=True).start()
        self.log(f"{child.name} started (pid {child.proc.pid})")

    def pid(self, name: str) -> int | None:
        proc = self.children[name].proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def start(self) -> None:
        for child in self.children.values():
            self._spawn(child)

    def check(self) -> None:
        """One round: notice exits, schedule and perform restarts."""
        now = time.monotonic()
        for child in self.children.values():
            if self._stop.is_set():
                return
            if child.restart_at is not None and now >= child.restart_at:
                self._spawn(child)
                continue
            if child.proc is None or child.gave_up or child.restart_at is not None:
                continue
            code = child.proc.poll()
            if code is None:
                continue
            if not child.restartable:
                self.log(f"{child.name} exited ({_describe(code)}); stopping the others")
                self.exit_code = code or 1
                self._stop.set()
                return
            try:  # whatever it left behind in its process group (an rq work horse) goes too
                os.killpg(child.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            ran = now - child.started_at
            child.quick_failures = child.quick_failures + 1 if ran < self.quick_seconds else 1
            if child.quick_failures >= self.max_quick_failures:
                child.gave_up = True
                self.log(
                    f"{child.name} exited ({_describe(code)}) {child.quick_failures} times in a row, "
                    f"each within {self.quick_seconds:g} s of starting: not restarting it. "
                    f"The others keep running; fix the cause and restart `make run`."
                )
                continue
            delay = self.backoff[min(child.quick_failures, len(self.backoff)) - 1]
            child.restart_at = now + delay
            self.log(f"{child.name} exited unexpectedly ({_describe(code)}); restarting in {delay:g} s")

    def run(self) -> int:
        """Start the children and supervise until a stop is requested or the web exits."""
        self.start()
        try:
            while not self._stop.wait(self.poll_seconds):
                self.check()
        finally:
            self.stop_all()
        return self.exit_code

    def request_stop(self, *_) -> None:
        self._stop.set()

    def stop_all(self) -> None:
        self._stop.set()
        running = [c.proc for c in self.children.values() if c.proc is not None and c.proc.poll() is None]
        for proc in running:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + self.stop_timeout
        for proc in running:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait()
