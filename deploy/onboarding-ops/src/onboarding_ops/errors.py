"""What a command can fail with, and so which exit code the operator sees.

Exception
 └── OpsError            one clear message; exit 1 (the run failed: broker or database down,
      │                  a topic missing, a step refused)
      └── BadArgument    exit 2 (the command line is wrong: unknown id, bad timestamp), the
                         same code Typer uses for a usage error
"""

from __future__ import annotations

RUNTIME_FAILURE = 1
BAD_ARGUMENT = 2


class OpsError(Exception):
    exit_code = RUNTIME_FAILURE


class BadArgument(OpsError):
    exit_code = BAD_ARGUMENT
