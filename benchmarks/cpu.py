"""CPU seconds of the processes a benchmark drives: this one, its reaped children, a local PostgreSQL
server, a process tree (the API's uvicorn workers). Read from /proc; None where it cannot be read
(another machine's server), so a benchmark prints what it could measure and says so."""

from __future__ import annotations

import os
import resource
from pathlib import Path


def own_cpu() -> float:
    """This process, every thread."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def reaped_children_cpu() -> float:
    """Child processes that ended and were waited for (a load generator, parser processes)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def proc_cpu(pid: int, children: bool = False) -> float | None:
    """CPU seconds of a local process (from /proc); with `children`, also of its exited children."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def live_children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def tree_cpu(pid: int) -> float | None:
    """A process and its live children (uvicorn's supervisor and its workers)."""
    own = proc_cpu(pid)
    if own is None:
        return None
    return own + sum(cpu for child in live_children(pid) if (cpu := proc_cpu(child)) is not None)


class ServerCpu:
    """CPU seconds of the whole PostgreSQL server: the postmaster's reaped children (backends that
    ended, e.g. the loader's second connection) plus its live ones. None for a remote server."""

    def __init__(self, backend_pid: int) -> None:
        try:
            self.postmaster = int(Path(f"/proc/{backend_pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except OSError:
            self.postmaster = None

    def per_process(self) -> dict[int, float] | None:
        if self.postmaster is None:
            return None
        children = live_children(self.postmaster)
        if not children:
            return None
        out = {pid: cpu for pid in children if (cpu := proc_cpu(pid)) is not None}
        reaped = proc_cpu(self.postmaster, children=True)
        own = proc_cpu(self.postmaster)
        if reaped is None or own is None:
            return None
        out[0] = reaped - own  # the ended children, together
        return out

    def total(self) -> float | None:
        """The whole server's CPU seconds so far (compare two readings)."""
        per = self.per_process()
        return None if per is None else sum(per.values())
