"""What the simulated account runs: the kinds of job, and the seeds everything is drawn from."""

from __future__ import annotations

from dataclasses import dataclass

_MASK = (1 << 64) - 1


def mix(*parts: int) -> int:
    """A stable 64-bit seed from integers (FNV-style; Python's hash() is not used on purpose)."""
    h = 0xCBF29CE484222325
    for p in parts:
        h = ((h ^ (p & _MASK)) * 0x100000001B3) & _MASK
        h ^= h >> 29
    return h


# (the pools and their nodes are in fleet.py)


# --------------------------------------------------------------------------- job kinds


@dataclass(frozen=True, slots=True)
class Kind:
    prefix: str
    pool: str
    task_prefix: str
    mpi: bool
    wave_minutes: tuple[float, float]
    parallel: tuple[int, int]
    slots: tuple[int, ...]
    titles: tuple[str, ...]
    command: str


KINDS: dict[str, Kind] = {
    "render": Kind(
        "render-shot",
        "pool-render-spot",
        "frame",
        False,
        (3, 12),
        (16, 48),
        (1,),
        ("Render {t} (4K, final)", "Render {t} preview", "Render {t} lighting pass"),
        "/bin/bash -c 'blender -b /mnt/scenes/{t}.blend -o /mnt/out/{t}_#### -f {n}'",
    ),
    "genomics": Kind(
        "genomics-align",
        "pool-etl-d16",
        "sample",
        False,
        (5, 20),
        (4, 16),
        (2, 4),
        ("Align cohort {t} to GRCh38", "Variant calling {t}"),
        "/bin/bash -c 'bwa mem -t 8 /ref/GRCh38.fa {t}_{n}_R1.fq.gz {t}_{n}_R2.fq.gz > {t}_{n}.sam'",
    ),
    "etl": Kind(
        "etl-nightly",
        "pool-etl-d16",
        "shard",
        False,
        (1, 5),
        (8, 32),
        (1, 2),
        ("Nightly load {t}", "Backfill {t} partitions"),
        "python3 -m etl.load --table {t} --shard {n}",
    ),
    "ml": Kind(
        "ml-sweep",
        "pool-gpu-nc24",
        "trial",
        False,
        (10, 40),
        (2, 8),
        (1,),
        ("Hyper-parameter sweep {t}", "Fine-tune {t}"),
        "python3 train.py --config sweeps/{t}.yaml --trial {n}",
    ),
    "mpi": Kind(
        "mpi-cfd",
        "pool-hpc-a",
        "solver",
        True,
        (20, 90),
        (1, 1),
        (1,),
        ("CFD {t} (OpenFOAM)", "LAMMPS {t} production run", "WRF {t} ensemble"),
        "/bin/bash -c 'mpirun -np $AZ_BATCH_NODE_COUNT --hostfile $AZ_BATCH_HOST_LIST ./solver case_{n}.cfg'",
    ),
    # Only the ladder places these (KIND_WEIGHTS never draws it): a job queued on a pool that
    # never got its nodes.
    "gpu": Kind(
        "llm-train",
        "pool-gpu-h100",
        "shard",
        False,
        (20, 40),
        (4, 8),
        (1,),
        ("Pre-train {t} on H100",),
        "python3 -m torch.distributed.run --nproc-per-node 8 pretrain.py --shard {n}",
    ),
}
KIND_WEIGHTS = (("render", 0.3), ("genomics", 0.2), ("etl", 0.2), ("ml", 0.1), ("mpi", 0.2))
TOPICS = (
    "wing-m082",
    "harbor-v3",
    "cohort-b17",
    "sales-eu",
    "orders",
    "turbine-07",
    "storm-2611",
    "shot-042",
    "shot-118",
    "bert-xl",
    "resnet-sweep",
    "clickstream",
    "pipeline-7b",
    "reactor-2d",
)
COORDINATION = "/bin/bash -c 'cp $AZ_BATCH_JOB_PREP_WORKING_DIR/*.cfg $AZ_BATCH_NODE_SHARED_DIR/'"
