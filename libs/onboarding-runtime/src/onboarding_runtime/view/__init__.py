"""The MongoDB read model, shared by query-service (projector, API) and the ops tools.

users.py      the `users` view: response bodies, versioned, behind the `pointer`
status.py     the status view: accepted / waiting / failed / completed, merged at read time
writer.py     version-guarded bulk and single writes (`Put`, `Delete`, `Slice`)
records.py    Kafka records of each topic into changes
version_index what a projector has written, so a batch needs no read first
pointer.py    `view_meta`: which `users` collection is live (rebuild = fill new + flip)
setup.py      collections created at start-up

A rebuild (ops tool): `UsersView(db, collection=new)`, `project()` every partition's records
of `users.enriched.v1` from the beginning into it, `ActiveCollection(db).flip(new)`, keep
projecting until caught up again (the live projector follows the pointer within its TTL and
writes the same versions, so the two agree), then drop the old collection.
"""

from onboarding_runtime.view.pointer import ActiveCollection
from onboarding_runtime.view.setup import ensure_view
from onboarding_runtime.view.status import StatusView, merge
from onboarding_runtime.view.users import StoredUser, UsersView
from onboarding_runtime.view.versions import time_of, version_of
from onboarding_runtime.view.writer import Delete, Put, Slice, VersionedWriter

__all__ = [
    "ActiveCollection",
    "Delete",
    "Put",
    "Slice",
    "StatusView",
    "StoredUser",
    "UsersView",
    "VersionedWriter",
    "ensure_view",
    "merge",
    "time_of",
    "version_of",
]
