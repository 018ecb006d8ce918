"""How far an import got: a small JSON file, rewritten whole after every batch answered.

It names the file's content (SHA-256) and the batch size, which together fix every batch
and its `webhook-id`; then how many batches are done and the counts so far, and how long
the rejected file was at that point (a run cut short after writing rejected rows but
before saving this is cut back to it). Counts and a hash only: nothing personal.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from onboarding_ops.errors import BadArgument


@dataclass(frozen=True)
class ImportState:
    sha256: str
    batch_size: int
    batches_done: int = 0
    rows_done: int = 0
    accepted: int = 0
    rejected: int = 0
    rejected_bytes: int = 0

    def after(self, rows: int, accepted: int, rejected: int, rejected_bytes: int) -> ImportState:
        return replace(
            self,
            batches_done=self.batches_done + 1,
            rows_done=self.rows_done + rows,
            accepted=self.accepted + accepted,
            rejected=self.rejected + rejected,
            rejected_bytes=rejected_bytes,
        )

    def webhook_id(self, index: int) -> str:
        """Batch `index`'s delivery id: the same for the same content, size and index."""
        return f"import-{self.sha256[:32]}-{self.batch_size}-{index}"


def load_state(path: Path) -> ImportState | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadArgument(
            f"the import state {path} cannot be read ({type(exc).__name__})"
        ) from None
    try:
        state = ImportState(**json.loads(text))
        if not all(isinstance(v, int) for k, v in asdict(state).items() if k != "sha256"):
            raise TypeError
    except (ValueError, TypeError):
        raise BadArgument(
            f"{path} is not an import state; delete it to import the file from the start"
        ) from None
    return state


def save_state(path: Path, state: ImportState) -> None:
    """Atomically: a crash leaves the previous state or this one, never half of one."""
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", encoding="utf-8") as out:
        json.dump(asdict(state), out)
        out.flush()
        os.fsync(out.fileno())
    partial.replace(path)
