"""What the simulated programs print: stdout and stderr of each kind of task, line by line in time.

A :class:`Run` is one process (a task attempt, or one rank of a multi-instance task) as the
world planned it. :func:`streams` turns it into two lists of ``(sim time, bytes)`` writes. The
progress part is drawn from the run's own seed forward from its start and stops at its end, so
cutting a run short (a terminated job) never changes what had been written before; the last
words (a summary, a backtrace, ``Killed``) are written at the end and follow the world's outcome
and exit code. Same run, same bytes.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

Writes = list[tuple[float, bytes]]

# ANSI colours as real tools write them (the log view keeps SGR and neutralises the rest).
GREEN, YELLOW, RED, BOLD, RESET = "\x1b[32m", "\x1b[33m", "\x1b[1;31m", "\x1b[1m", "\x1b[0m"
RULE = "-" * 74


@dataclass(frozen=True, slots=True)
class Run:
    key: int  # the run's seed: (world seed, job, task, attempt, rank)
    kind: str  # render / genomics / etl / ml / mpi
    job_id: str
    task_id: str
    topic: str
    command: str
    number: str  # the task's number as its command line has it ("0012")
    rank: int  # 0 for an ordinary task and for the primary
    nodes: tuple[str, ...]  # the node of every rank, rank order (one for an ordinary task)
    run: float  # the process starts
    end: float  # the process ends (the world's, after any termination)
    outcome: str  # success / exit / timeout / terminated / blob / cmd
    exit_code: int | None
    bad_rank: int = 0  # the rank that fails (multi-instance)
    bad_end: float = 0.0  # when it did (the others hang from there on)
    mode: str = ""  # multi-instance mode
    epoch: datetime = datetime(2026, 1, 1)  # sim time 0 as a wall clock

    @property
    def node(self) -> str:
        return self.nodes[self.rank]

    def pid(self, rank: int | None = None) -> int:
        return 1000 + (self.key >> (8 + 3 * (rank if rank is not None else self.rank))) % 60000


def _times(rng: random.Random, start: float, end: float, low: float, high: float) -> Iterator[float]:
    """Instants from ``start`` at random gaps, up to ``end``; independent of ``end`` before it."""
    t = start + rng.uniform(low, high)
    while t < end:
        yield t
        t += rng.uniform(low, high)


def _clock(seconds: float) -> str:
    m, s = divmod(max(0.0, seconds), 60)
    return f"{int(m):02d}:{s:05.2f}"


def _b(text: str) -> bytes:
    return text.encode("utf-8")


# --------------------------------------------------------------------------- failures


def _shell_death(run: Run, program: str) -> str:
    """What bash says when the process it ran dies of a signal (exit 128+n)."""
    if run.exit_code == 137:
        return f"/bin/bash: line 1: {run.pid()} Killed                  {program}\n"
    if run.exit_code == 139:
        return f"/bin/bash: line 1: {run.pid()} Segmentation fault      (core dumped) {program}\n"
    return ""


def _backtrace(run: Run, rng: random.Random, binary: str) -> str:
    tag = f"[{run.node}:{run.pid():05d}]"
    addr = rng.randrange(0x7F0000000000, 0x7FFFFFFFFFFF)
    frames = ("assemble_matrix", "halo_exchange", "solve_pressure", "main")
    lines = [
        f"{tag} *** Process received signal ***",
        f"{tag} Signal: Segmentation fault (11)",
        f"{tag} Signal code: Address not mapped (1)",
        f"{tag} Failing at address: 0x{rng.randrange(0x10, 0xFFFF):x}",
        f"{tag} [ 0] /lib/x86_64-linux-gnu/libc.so.6(+0x42520)[0x{addr:x}]",
    ]
    base = rng.randrange(0x550000000000, 0x56FFFFFFFFFF)
    for k, name in enumerate(frames, start=1):
        lines.append(
            f"{tag} [ {k}] {binary}({name}+0x{rng.randrange(0x20, 0x4FF):x})[0x{base + k * 0x1F3:x}]"
        )
    lines += [
        f"{tag} [ 5] /lib/x86_64-linux-gnu/libc.so.6(__libc_start_main+0x80)[0x{addr + 0x29D90:x}]",
        f"{tag} *** End of error message ***",
    ]
    return "\n".join(lines) + "\n"


def _traceback(frames: list[tuple[str, int, str, str]], error: str) -> str:
    out = ["Traceback (most recent call last):"]
    for path, line, func, code in frames:
        out += [f'  File "{path}", line {line}, in {func}', f"    {code}"]
    return "\n".join(out) + f"\n{error}\n"


# --------------------------------------------------------------------------- kinds


def _render(run: Run, rng: random.Random) -> tuple[Writes, Writes]:
    out: Writes = []
    frame = int(run.number) if run.number.isdigit() else 1
    samples = rng.choice((128, 256, 512))
    out.append((run.run + 0.4, _b("Blender 4.1.1 (hash e1743a0317bc built 2024-04-16 00:47:38)\n")))
    out.append((run.run + 1.1, _b(f'Read blend: "/mnt/scenes/{run.topic}.blend"\n')))
    mem = rng.uniform(300, 900)
    sample = 0
    for t in _times(rng, run.run + 2.0, run.end, 1.5, 4.0):
        sample = min(samples, sample + rng.randint(2, 9))
        mem += rng.uniform(0, 12)
        elapsed = t - run.run
        line = (
            f"Fra:{frame} Mem:{mem:.2f}M (Peak {mem * 1.3:.2f}M) | Time:{_clock(elapsed)} | "
            f"Remaining:{_clock(elapsed * (samples - sample) / max(sample, 1))} | Mem:{mem * 0.4:.2f}M, "
            f"Peak:{mem * 0.5:.2f}M | Scene, ViewLayer | Sample {sample}/{samples}\n"
        )
        out.append((t, _b(line)))
    err: Writes = []
    if run.outcome == "success":
        text = f"Saved: '/mnt/out/{run.topic}_{frame:04d}.exr'\n Time: {_clock(run.end - run.run)} (Saving: 00:00.38)\n\nBlender quit\n"
        out.append((run.end, _b(text)))
    elif run.outcome == "exit":
        if run.exit_code == 1:
            err.append(
                (
                    run.end,
                    _b(f"Error: Cannot read file '/mnt/scenes/{run.topic}.blend': Input/output error\n"),
                )
            )
        elif run.exit_code == 255:
            err.append(
                (run.end, _b("Error: CUDA error: out of memory in cuMemAlloc(&device_pointer, size)\n"))
            )
        elif run.exit_code == 2:
            err.append((run.end, _b(f"blender: error: unrecognized frame '{run.number}x'\n")))
        else:
            out.append((run.end, _b(f"Writing: /tmp/{run.topic}.crash.txt\n")))
            err.append((run.end, _b(_shell_death(run, "blender -b ..."))))
    return out, err


def _genomics(run: Run, rng: random.Random) -> tuple[Writes, Writes]:
    # bwa writes its progress to stderr; stdout is redirected to the .sam file (so stdout.txt stays empty)
    err: Writes = [(run.run + 0.8, b"[M::bwa_idx_load_from_disk] read 0 ALT contigs\n")]
    for t in _times(rng, run.run + 5.0, run.end, 20.0, 60.0):
        n = rng.randrange(600_000, 700_000)
        text = (
            f"[M::process] read {n} sequences ({n * 150} bp)...\n"
            f"[M::mem_pestat] # candidate unique pairs for (FF, FR, RF, RR): "
            f"({rng.randrange(5, 30)}, {rng.randrange(250_000, 300_000)}, {rng.randrange(5, 30)}, {rng.randrange(5, 30)})\n"
            f"[M::mem_process_seqs] Processed {n} reads in {rng.uniform(380, 460):.3f} CPU sec, "
            f"{rng.uniform(48, 60):.3f} real sec\n"
        )
        err.append((t, _b(text)))
    if run.outcome == "success":
        err.append(
            (
                run.end,
                _b(
                    f"[main] Version: 0.7.17-r1188\n[main] CMD: bwa mem -t 8 /ref/GRCh38.fa {run.topic}_{run.number}_R1.fq.gz "
                    f"{run.topic}_{run.number}_R2.fq.gz\n[main] Real time: {run.end - run.run:.3f} sec; "
                    f"CPU: {(run.end - run.run) * 7.8:.3f} sec\n"
                ),
            )
        )
    elif run.outcome == "exit":
        text = _shell_death(run, "bwa mem -t 8 /ref/GRCh38.fa ...") or (
            "[E::bwa_idx_load_from_disk] fail to locate the index files\n"
        )
        err.append((run.end, _b(text)))
    return [], err


def _etl(run: Run, rng: random.Random) -> tuple[Writes, Writes]:
    def stamp(t: float) -> str:
        wall = run.epoch + timedelta(seconds=t)
        return f"{wall:%Y-%m-%d %H:%M:%S},{wall.microsecond // 1000:03d}"

    out: Writes = [
        (
            run.run + 0.3,
            _b(f"{stamp(run.run + 0.3)} {GREEN}INFO{RESET} etl.load: table={run.topic} shard={run.number}\n"),
        )
    ]
    batch = 0
    for t in _times(rng, run.run + 1.0, run.end, 2.0, 9.0):
        batch += 1
        if rng.random() < 0.08:
            text = f"{stamp(t)} {YELLOW}WARNING{RESET} etl.load: {rng.randrange(1, 40)} rows rejected (null customer_id)\n"
        else:
            text = f"{stamp(t)} {GREEN}INFO{RESET} etl.load: batch {batch}: {rng.randrange(40_000, 50_001)} rows in {rng.uniform(0.8, 4.5):.1f} s\n"
        out.append((t, _b(text)))
    err: Writes = []
    if run.outcome == "success":
        out.append(
            (
                run.end,
                _b(
                    f"{stamp(run.end)} {GREEN}INFO{RESET} etl.load: shard {run.number} done, {batch} batches\n"
                ),
            )
        )
    elif run.outcome == "exit":
        out.append(
            (
                run.end,
                _b(
                    f"{stamp(run.end)} {RED}ERROR{RESET} etl.load: shard {run.number} failed after {batch} batches\n"
                ),
            )
        )
        death = _shell_death(run, f"python3 -m etl.load --table {run.topic} --shard {run.number}")
        if death:
            err.append((run.end, _b(death)))
        else:
            frames = [
                ("<frozen runpy>", 198, "_run_module_as_main", "return _run_code(code, main_globals, None,"),
                ("/opt/etl/etl/load.py", 412, "<module>", "main()"),
                ("/opt/etl/etl/load.py", 398, "main", "load_shard(args.table, args.shard)"),
                ("/opt/etl/etl/load.py", 251, "load_shard", "rows = transform(batch)"),
                ("/opt/etl/etl/transform.py", 88, "transform", "return [normalise(r) for r in rows]"),
                ("/opt/etl/etl/transform.py", 41, "normalise", 'key = row["customer_id"].strip()'),
            ]
            error = rng.choice(
                (
                    "KeyError: 'customer_id'",
                    "AttributeError: 'NoneType' object has no attribute 'strip'",
                    'psycopg2.errors.UniqueViolation: duplicate key value violates unique constraint "orders_pkey"',
                )
            )
            err.append((run.end, _b(_traceback(frames, error))))
    return out, err


def _ml(run: Run, rng: random.Random) -> tuple[Writes, Writes]:
    epochs, steps = rng.choice((10, 20, 30)), rng.choice((625, 1250))
    out: Writes = [
        (
            run.run + 2.0,
            _b(f"{BOLD}trial {run.number}{RESET}: {run.topic}, {epochs} epochs x {steps} steps\n"),
        )
    ]
    err: Writes = []
    loss, step, epoch = rng.uniform(2.0, 3.0), 0, 1
    for t in _times(rng, run.run + 5.0, run.end, 3.0, 8.0):
        step += rng.randrange(40, 90)
        if step >= steps:
            step -= steps
            epoch += 1
            if epoch > epochs:
                break  # trained: it saves and evaluates until its end without a word
            # some trainers set the terminal title per epoch: a sequence the log view must not obey
            out.append(
                (t, _b(f"\x1b]0;trial {run.number} epoch {epoch}\x07{BOLD}epoch {epoch}/{epochs}{RESET}\n"))
            )
        loss *= rng.uniform(0.985, 1.0)
        bar = "#" * (10 * step // steps)
        err.append(
            (
                t,
                _b(
                    f"\rtrain: {100 * step // steps:3d}%|{bar:<10}| {step}/{steps} [{rng.uniform(9, 14):.2f}it/s]"
                ),
            )
        )
        if rng.random() < 0.3:
            out.append((t, _b(f"epoch {epoch} step {step}/{steps} loss={loss:.4f} lr=3.0e-04\n")))
    if run.outcome == "success":
        out.append(
            (run.end, _b(f"{GREEN}done{RESET}: best val_loss={loss * 1.07:.4f}, checkpoint wd/best.pt\n"))
        )
    elif run.outcome == "exit":
        death = _shell_death(run, f"python3 train.py --config sweeps/{run.topic}.yaml --trial {run.number}")
        if death:
            err.append((run.end, _b("\n" + death)))
        else:
            frames = [
                ("/opt/train/train.py", 214, "<module>", "trainer.fit(model, data)"),
                ("/opt/train/loop.py", 97, "fit", "loss = self.step(batch)"),
                ("/opt/train/loop.py", 61, "step", "out = self.model(batch.x)"),
            ]
            error = "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 79.15 GiB total capacity; 77.90 GiB already allocated)"
            err.append((run.end, _b("\n" + _traceback(frames, error))))
    return out, err


def _mpi(run: Run, rng: random.Random) -> tuple[Writes, Writes]:
    n = len(run.nodes)
    hang = run.bad_end if run.mode == "rank-fails" and run.rank != run.bad_rank else run.end
    stop = min(run.end, hang)  # a rank waiting on a dead peer prints nothing more
    out: Writes = []
    err: Writes = []
    if run.rank == 0:
        startup = [
            f"[{node}:{run.pid(r):05d}] MCW rank {r} of {n} bound to socket 0[core 0-119]"
            for r, node in enumerate(run.nodes)
        ]
        out.append((run.run + 0.5, _b("\n".join(startup) + "\n")))
        out.append(
            (
                run.run + 1.5,
                _b(f"{BOLD}solver 2.3.1{RESET}: case_{run.number}.cfg, {n} ranks, {n * 1_048_576} cells\n\n"),
            )
        )
        sim_t = 0.0
        for t in _times(rng, run.run + 3.0, stop, 4.0, 12.0):
            sim_t += 0.0025
            residuals = [rng.uniform(1e-4, 5e-2) for _ in range(3)]
            text = f"Time = {sim_t:.4f}\n\n" + "".join(
                f"smoothSolver:  Solving for {f}, Initial residual = {r:.6g}, Final residual = {r * 1e-4:.6g}, No Iterations {rng.randint(2, 7)}\n"
                for f, r in zip(("Ux", "Uy", "p"), residuals, strict=True)
            )
            text += f"ExecutionTime = {t - run.run:.2f} s  ClockTime = {int(t - run.run) + 1} s\n\n"
            out.append((t, _b(text)))
    else:
        out.append(
            (
                run.run + 0.6,
                _b(
                    f"rank {run.rank}: partition {run.rank}/{n} cells=1048576 halo={rng.randrange(4096, 16384)}\n"
                ),
            )
        )
        slow = run.mode == "straggler" and run.rank == run.bad_rank
        for t in _times(rng, run.run + 10.0, stop, 30.0, 90.0):
            if slow:
                text = f"rank {run.rank}: {YELLOW}WARNING{RESET} step time {rng.uniform(3.5, 6.0):.1f} s (median 1.1 s)\n"
            else:
                text = f"rank {run.rank}: step {int((t - run.run) * 3)} local residual {rng.uniform(1e-6, 1e-4):.3e}\n"
            out.append((t, _b(text)))
    if run.mode == "rank-fails" and run.rank == run.bad_rank:
        err.append((run.end, _b(_backtrace(run, rng, "./solver"))))
    elif run.mode == "all-fail" and run.rank == run.bad_rank:
        err.append(
            (
                run.end - 0.3,
                _b(f"solver: error: case_{run.number}.cfg: mesh file 'mesh/polyMesh/points' not found\n"),
            )
        )
    if run.rank == 0 and run.mode == "all-fail":
        text = (
            f"{RULE}\nMPI_ABORT was invoked on rank {run.bad_rank} in communicator MPI_COMM_WORLD\nwith errorcode 1.\n\n"
            "NOTE: invoking MPI_ABORT causes Open MPI to kill all MPI processes.\nYou may or may not see output from "
            f"other processes, depending on\nexactly when Open MPI kills them.\n{RULE}\n"
        )
        err.append((run.end, _b(text)))
    elif run.outcome == "success" and run.rank == 0:
        out.append((run.end, _b("End\n\nFinalising parallel run\n")))
    elif run.outcome in ("timeout", "terminated") and run.rank == 0:
        err.append((run.end, _b("mpirun: Forwarding signal 15 to job\n")))
    return out, err


_KINDS = {"render": _render, "genomics": _genomics, "etl": _etl, "ml": _ml, "mpi": _mpi}


def streams(run: Run) -> tuple[Writes, Writes]:
    """(stdout, stderr) writes of one run, each in time order."""
    if run.outcome in ("blob", "cmd"):
        # The command never ran: a resource file failed to download, or the program is missing.
        return [], []
    out, err = _KINDS[run.kind](run, random.Random(run.key))
    return sorted(out, key=lambda w: w[0]), sorted(err, key=lambda w: w[0])
