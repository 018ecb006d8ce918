"""Who the ledger run sends: employees, their versions, Okta presence and expected outcome.

Every id and email carries a random run tag (`chaos-k3x9q2-0007`, `chaos.k3x9q2.0007@example.com`),
so a run never meets another run's people, and a log scan for them never matches other
text. Numbers are zero-padded to one width, so no id is a prefix of another.

Versions of one employee differ by title (`v1`, `v2`, `v3`); each version is one webhook
delivery with its own `webhook-id`. About a third of the deliveries are planned to be sent
again with the same id and body (`Redelivery`): right after the first was accepted, or after
the employee's last version, sometimes to another replica.

The orchestrator decides Okta presence per employee through the `okta` callback:
`present` (in Okta before the run), `late` (added later: the enricher waits for them),
`never` (dead-lettered: expected `failed`). Expectations can be changed during the run
(`expect`): after a redrive, `failed` becomes `completed`; `erased` marks an erasure, whose
time is given to the checker.
"""

from __future__ import annotations

import random
import secrets
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal

OktaPresence = Literal["present", "late", "never"]
Outcome = Literal["completed", "failed", "erased"]
RedeliveryWhen = Literal["immediate", "late"]

_TAG_ALPHABET = string.ascii_lowercase + string.digits


@dataclass(frozen=True)
class Redelivery:
    """A second delivery of the same `webhook-id` and body."""

    when: RedeliveryWhen
    other_replica: bool


@dataclass(frozen=True)
class Version:
    number: int  # 1, 2, 3: sent in this order
    delivery_id: str  # the `webhook-id`
    body: dict[str, str]  # the HR record as posted
    replica_hint: int  # which replica the first attempt goes to (modulo their number)
    redelivery: Redelivery | None

    @property
    def title(self) -> str:
        return self.body["title"]


@dataclass(frozen=True)
class Employee:
    index: int
    employee_id: str
    email: str
    okta: OktaPresence
    versions: tuple[Version, ...]

    @property
    def newest(self) -> Version:
        return self.versions[-1]


@dataclass
class Plan:
    run_tag: str
    employees: tuple[Employee, ...]
    _outcomes: dict[str, Outcome] = field(init=False, repr=False)
    _by_id: dict[str, Employee] = field(init=False, repr=False)
    _by_delivery: dict[str, tuple[Employee, Version]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_id = {e.employee_id: e for e in self.employees}
        self._by_delivery = {v.delivery_id: (e, v) for e in self.employees for v in e.versions}
        self._outcomes = {e.employee_id: outcome_for(e.okta) for e in self.employees}

    def __iter__(self) -> Iterator[Employee]:
        return iter(self.employees)

    def __len__(self) -> int:
        return len(self.employees)

    def employee(self, employee_id: str) -> Employee:
        return self._by_id[employee_id]

    def __contains__(self, employee_id: object) -> bool:
        return employee_id in self._by_id

    def delivery(self, delivery_id: str) -> tuple[Employee, Version] | None:
        return self._by_delivery.get(delivery_id)

    def expected(self, employee_id: str) -> Outcome:
        return self._outcomes[employee_id]

    def expect(self, employee_id: str, outcome: Outcome) -> None:
        """Change what is expected of one employee (after a redrive, an erasure)."""
        if employee_id not in self._by_id:
            raise KeyError(employee_id)
        self._outcomes[employee_id] = outcome

    def with_okta(self, presence: OktaPresence) -> list[Employee]:
        return [e for e in self.employees if e.okta == presence]

    @property
    def versions_total(self) -> int:
        return sum(len(e.versions) for e in self.employees)

    def needles(self) -> dict[str, str]:
        """Every employee id and email of the plan -> what it is (`employee_id`, `email`)."""
        found: dict[str, str] = {}
        for e in self.employees:
            found[e.employee_id] = "employee_id"
            found[e.email] = "email"
        return found


def outcome_for(presence: OktaPresence) -> Outcome:
    """What the last event of an employee ends as, without operator action."""
    return "failed" if presence == "never" else "completed"


def new_run_tag(length: int = 6) -> str:
    return "".join(secrets.choice(_TAG_ALPHABET) for _ in range(length))


def build_plan(
    employees: int,
    *,
    versions: int = 3,
    prefix: str = "chaos",
    run_tag: str | None = None,
    okta: Callable[[int], OktaPresence] = lambda index: "present",
    redeliver_fraction: float = 0.3,
    late_redelivery_fraction: float = 0.3,
    other_replica_fraction: float = 0.5,
    seed: int | None = None,
) -> Plan:
    """`employees` people with `versions` versions each; `okta(index)` decides each one's
    presence in Okta. `seed` makes redeliveries and replica choices repeatable."""
    if employees < 1 or versions < 1:
        raise ValueError("a plan needs at least one employee and one version")
    tag = run_tag or new_run_tag()
    rng = random.Random(seed)
    width = max(4, len(str(employees - 1)))
    people = []
    for index in range(employees):
        number = f"{index:0{width}d}"
        employee_id = f"{prefix}-{tag}-{number}"
        email = f"{prefix}.{tag}.{number}@example.com"
        planned = []
        for v in range(1, versions + 1):
            redelivery = None
            if rng.random() < redeliver_fraction:
                when: RedeliveryWhen = (
                    "late" if rng.random() < late_redelivery_fraction else "immediate"
                )
                redelivery = Redelivery(when, rng.random() < other_replica_fraction)
            planned.append(
                Version(
                    number=v,
                    delivery_id=f"msg_{secrets.token_hex(12)}",
                    body=_body(employee_id, email, v),
                    replica_hint=rng.randrange(1 << 16),
                    redelivery=redelivery,
                )
            )
        people.append(Employee(index, employee_id, email, okta(index), tuple(planned)))
    return Plan(tag, tuple(people))


def _body(employee_id: str, email: str, version: int) -> dict[str, str]:
    return {
        "employee_id": employee_id,
        "first_name": "Ledger",
        "last_name": "Person",
        "email": email,
        "title": f"v{version}",
        "department": "Chaos",
        "start_date": "2025-01-15",
    }
