"""What a command can fail with, and so which exit code the operator sees.

Exception
 └── OpsError            one clear message; exit 1 (the run failed: broker or database down,
      │                  a topic missing, a step refused)
      └── BadArgument    exit 2 (the command line is wrong: unknown id, bad timestamp), the
                         same code Typer uses for a usage error

No exception, but its own code: `topics` exits 3 when drift remains that it must not fix
itself (replication factor, partition count), so a deploy job can tell "the broker was
away, try again" (1) from "an operator has to act" (3).
"""

from __future__ import annotations

RUNTIME_FAILURE = 1
BAD_ARGUMENT = 2
NEEDS_OPERATOR = 3


class OpsError(Exception):
    exit_code = RUNTIME_FAILURE


class BadArgument(OpsError):
    exit_code = BAD_ARGUMENT
