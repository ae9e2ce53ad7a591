"""Who holds a claim: this process, named so another process (or machine) can tell if it lives.

A claim's holder is a lease: the machine, its boot, the process id and that
process's start time, with an expiry the holder renews while it lives. A process
on the same machine and boot whose pid is gone, or reused by a process that
started at another time, is dead at once; anywhere else, when the lease expires.
Containers where every process is pid 1 are told apart by start time and boot.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path


@dataclass(frozen=True, slots=True)
class ProcessId:
    machine: str
    boot: str
    pid: int
    started: str  # the kernel's start time of the process (clock ticks since boot), or a time

    def alive_here(self) -> bool | None:
        """True/False when this process can tell (same machine and boot), None otherwise."""
        me = this_process()
        if self.machine != me.machine or self.boot != me.boot or not self.boot:
            return None
        return _start_token(self.pid) == self.started


@cache
def this_process() -> ProcessId:
    pid = os.getpid()
    return ProcessId(socket.gethostname(), _boot_id(), pid, _start_token(pid) or str(time.time()))


def new_holder_id() -> str:
    return uuid.uuid4().hex


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _start_token(pid: int) -> str:
    """Field 22 of /proc/PID/stat (start time in ticks since boot); "" when unknown or gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    # The command name (field 2) may hold spaces and parentheses: split after its last ")".
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else ""
