"""The ``:`` command line's language, as in k9s: ``:jobs``, ``:job JOB``, ``:task JOB TASK``,
``:pools``, ``:nodes POOL``, ``:node POOL NODE``, ``:feed``, ``:ctx ACCOUNT``, ``:accounts``.

Pure (no Textual): parsing, the list of commands with their arguments, and completion from
ids the dashboard already knows (the engine's snapshots), so completing costs no request.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class CommandSpec:
    name: str
    args: tuple[str, ...]  # argument names, e.g. ("JOB", "TASK")
    help: str
    aliases: tuple[str, ...] = ()

    @property
    def usage(self) -> str:
        return " ".join((self.name, *self.args))


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("jobs", (), "the account's jobs (home)", ("j",)),
    CommandSpec("job", ("JOB",), "the tasks of a job"),
    CommandSpec("task", ("JOB", "TASK"), "a task: its ranks if it is multi-instance, else its details"),
    CommandSpec("pools", (), "the account's pools with their node counts", ("p",)),
    CommandSpec("nodes", ("POOL",), "the nodes of a pool, sick ones first"),
    CommandSpec("node", ("POOL", "NODE"), "one node: its errors, start task and recent tasks"),
    CommandSpec("feed", (), "what changed lately, newest first", ("events",)),
    CommandSpec("ctx", ("ACCOUNT",), "switch to another open account (--profile given twice)"),
    CommandSpec("accounts", (), "the accounts overview (several accounts open)"),
)
_BY_NAME = {n: c for c in COMMANDS for n in (c.name, *c.aliases)}


class CommandError(ValueError):
    """The command line's words are off; the message says how."""


@dataclass(frozen=True)
class Command:
    spec: CommandSpec
    args: tuple[str, ...]


def parse(text: str) -> Command:
    """``"task mpi-cfd-0001 solver-00"`` -> Command(task, (job, task)). Ids may be quoted."""
    text = text.strip().removeprefix(":").strip()
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise CommandError(f"cannot read that: {exc}") from None
    if not words:
        raise CommandError("type a command: " + ", ".join(c.name for c in COMMANDS))
    spec = _BY_NAME.get(words[0].lower())
    if spec is None:
        raise CommandError(f"no command {words[0]!r}; try " + ", ".join(c.name for c in COMMANDS))
    args = tuple(words[1:])
    if len(args) != len(spec.args):
        raise CommandError(f"usage: :{spec.usage}")
    return Command(spec, args)


#: ids to complete an argument with: (argument name, words typed before it) -> candidates
Known = Callable[[str, Sequence[str]], Iterable[str]]


def complete(text: str, known: Known) -> str | None:
    """The whole line completed (for a suggester), or None when nothing fits."""
    stripped = text.lstrip().removeprefix(":")
    words = stripped.split(" ")
    if len(words) == 1:
        word = words[0].lower()
        names = [c.name for c in COMMANDS if c.name.startswith(word)]
        return _with_prefix(text, stripped, names[0]) if word and names else None
    spec = _BY_NAME.get(words[0].lower())
    if spec is None:
        return None
    position = len(words) - 2
    if position >= len(spec.args):
        return None
    partial = words[-1]
    for candidate in sorted(known(spec.args[position], words[1:-1])):
        if candidate.startswith(partial) and candidate != partial and " " not in candidate:
            return _with_prefix(text, stripped, " ".join([*words[:-1], candidate]))
    return None


def _with_prefix(text: str, stripped: str, line: str) -> str:
    # Keep what the operator typed before the command (a leading ":" or spaces) as it was.
    return text[: len(text) - len(stripped)] + line
