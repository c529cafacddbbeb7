"""What a node's start task writes: ``startup\\stdout.txt`` and ``startup\\stderr.txt``.

The start task's directory is ``startup`` under the node root (the root layout of the
recordings, NEXT-APIS §2a, and the documented one: the start task's stdout.txt, stderr.txt and
wd live there). Its output follows the start task the node reports (``startTaskInfo``): the
same window of the node's life, written from its ``startTime`` to its ``endTime`` and so
growing while it runs (the node is ``waitingforstarttask``). A start task that failed ran
three times (``maxTaskRetryCount`` 2) and each try's apt-get found the dpkg lock held: its
stderr says so and apt-get's exit code for it, 100, is the ``exitCode`` the node reports.
Whether a retry appends to the files or starts them afresh is UNCONFIRMED; here it appends,
so the operator sees every try. A reboot runs the start task again and writes new files.

The program is read off the pool's start task command line (apt-get, a setup script, a scratch
mount, a driver install), so each pool's output looks like its command. Same node, same window,
same bytes.
"""

from __future__ import annotations

import random
import re

from batchtui.sim.catalog import mix
from batchtui.sim.file_content import Writes
from batchtui.sim.files import Script, SimFile
from batchtui.sim.fleet import NodePlan, Pool, Window

#: apt-get's exit code when it cannot take the dpkg lock (the failed start task's exitCode).
APT_LOCK_EXIT = 100
TRIES_WHEN_FAILING = 3  # the first run and maxTaskRetryCount (2) retries
LAST_RETRY_BEFORE_END = 20.0
_APT = re.compile(r"apt-get\s+install\s+(?:-\S+\s+)*([A-Za-z0-9][\w.+-]*)")
_ARCHIVE = "http://azure.archive.ubuntu.com/ubuntu"


def _apt_install(package: str, rng: random.Random) -> list[str]:
    deps = {"openmpi-bin": ["libopenmpi3", "openmpi-common"]}.get(package, [f"lib{package}0"])
    names = [*deps, package]
    sizes = [rng.randrange(40, 2400) for _ in names]
    lines = [
        "Reading package lists...",
        "Building dependency tree...",
        "Reading state information...",
        "The following NEW packages will be installed:",
        "  " + " ".join(sorted(names)),
        f"0 upgraded, {len(names)} newly installed, 0 to remove and {rng.randrange(3, 40)} not upgraded.",
        f"Need to get {sum(sizes):,} kB of archives.",
    ]
    for k, (name, size) in enumerate(zip(names, sizes, strict=True), start=1):
        lines.append(f"Get:{k} {_ARCHIVE} jammy/universe amd64 {name} amd64 4.1.2-2ubuntu1 [{size} kB]")
    lines.append(
        f"Fetched {sum(sizes):,} kB in {rng.uniform(0.4, 3.0):.1f}s ({rng.randrange(2, 40)}.{rng.randrange(10)} MB/s)"
    )
    for name in names:
        lines.append(f"Unpacking {name} (4.1.2-2ubuntu1) ...")
    for name in names:
        lines.append(f"Setting up {name} (4.1.2-2ubuntu1) ...")
    return lines


def _program(command: str, rng: random.Random) -> list[str]:
    """The stdout lines of a successful run of ``command``, in order."""
    lines: list[str] = []
    apt = _APT.search(command)
    if apt is not None:
        lines += _apt_install(apt.group(1), rng)
    if "setup-node.sh" in command:
        lines += [
            "setup-node.sh: updating package lists",
            f"Hit:1 {_ARCHIVE} jammy InRelease",
            f"Get:2 {_ARCHIVE} jammy-updates InRelease [{rng.randrange(100, 130)} kB]",
            "Reading package lists...",
            "setup-node.sh: installing blobfuse2",
            *_apt_install("blobfuse2", rng)[3:],
            "setup-node.sh: mounting the data container on /mnt/data",
            "setup-node.sh: node ready",
        ]
    if "mount-scratch.sh" in command:
        blocks = rng.randrange(110_000_000, 120_000_000)
        lines += [
            "mount-scratch.sh: formatting /dev/nvme0n1 as xfs",
            f"meta-data=/dev/nvme0n1            isize=512    agcount=4, agsize={blocks} blks",
            f"data     =                       bsize=4096   blocks={blocks * 4}, imaxpct=5",
            "mount-scratch.sh: mounted /mnt/scratch (1.8T)",
        ]
    if "install-cuda.sh" in command:
        lines += [
            "install-cuda.sh: installing NVIDIA driver 550.54.15",
            "install-cuda.sh: installing CUDA toolkit 12.4",
            "install-cuda.sh: nvidia-smi sees 8 GPUs",
        ]
    return lines or [f"running: {command}"]


def _spread(lines: list[str], start: float, end: float, rng: random.Random) -> Writes:
    """The lines written one by one between ``start`` and ``end`` (the last just before it)."""
    if not lines:
        return []
    span = max(0.0, end - start)
    cuts = sorted(rng.uniform(0.05, 0.95) * span for _ in lines[:-1])
    times = [start + c for c in cuts] + [start + 0.97 * span]
    return [(t, f"{line}\n".encode()) for t, line in zip(times, lines, strict=True)]


def _lock_failure(rng: random.Random) -> bytes:
    pid = rng.randrange(900, 4000)
    return (
        f"E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process {pid} (unattended-upgr)\n"
        "N: Be aware that removing the lock file is not a solution and may break your system.\n"
        "E: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), is another process using it?\n"
    ).encode()


def start_task_streams(pool: Pool, node: NodePlan, window: Window) -> tuple[Writes, Writes]:
    """(stdout, stderr) writes of the start task run in ``window`` (which has one)."""
    assert window.start_task is not None
    st_start, st_end = window.start_task
    rng = random.Random(mix(pool.seed, node.index, int(window.start * 1000), 0x57A7))
    command = pool.start_task
    out: Writes = []
    err: Writes = []
    if not window.start_task_failed:
        out = _spread(_program(command, rng), st_start, st_end, rng)
        if _APT.search(command) or "setup-node.sh" in command:
            # what apt-get prints to stderr on a VM without apt-utils, every time
            err.append(
                (
                    st_start + 0.2,
                    b"debconf: delaying package configuration, since apt-utils is not installed\n",
                )
            )
        return out, err
    # Every try stops at the lock: apt-get prints only to stderr, and `&&` runs nothing after it.
    for at in tries(st_start, st_end):
        err.append((at + rng.uniform(0.3, 0.9), _lock_failure(rng)))
    return out, err


def tries(st_start: float, st_end: float) -> list[float]:
    """When each try of a failing start task began: the first, then the retries, the last
    at the ``lastRetryTime`` the node reports (20 s before its end)."""
    last = max(st_start, st_end - LAST_RETRY_BEFORE_END)
    step = (last - st_start) / (TRIES_WHEN_FAILING - 1)
    return [st_start + k * step for k in range(TRIES_WHEN_FAILING)]


def start_task_files(pool: Pool, node: NodePlan, window: Window | None) -> list[SimFile]:
    """What ``startup`` holds: its working directory, and the output of the start task in
    ``window`` once it has started (None: no start task has run, the directory is empty)."""
    files = [SimFile("startup\\wd", None, node.allocated)]
    if window is None or window.start_task is None:
        return files
    st_start = window.start_task[0]
    out, err = start_task_streams(pool, node, window)
    return [
        SimFile("startup\\stderr.txt", Script(err, st_start), st_start),
        SimFile("startup\\stdout.txt", Script(out, st_start), st_start),
        SimFile("startup\\wd", None, st_start),
    ]
