"""The demo org: Jane Doe, whom the contract's example follows end to end, plus one user
in each other Okta status so that every `onboarded` mapping can be exercised."""

from __future__ import annotations

from datetime import UTC, datetime

from okta_simulator.ids import stable_id
from okta_simulator.models import UserStatus
from okta_simulator.org import AppLinkSpec, GroupSpec, Org, UserSpec

EVERYONE = GroupSpec(name="Everyone", description="All users in your organization", type="BUILT_IN")
ENGINEERING = GroupSpec(name="Engineering", description="Engineering department")
FULL_TIME = GroupSpec(name="Full-Time Employees", description="Full-time employees")
GOOGLE = AppLinkSpec(label="Google Workspace", app_name="google")
SLACK = AppLinkSpec(label="Slack", app_name="slack")
JIRA = AppLinkSpec(label="Jira", app_name="atlassian")

JANE_EMAIL = "jane.doe@example.com"
JANE_ID = stable_id("00u", JANE_EMAIL)
_CREATED = datetime(2024, 1, 8, 16, 30, tzinfo=UTC)


def _person(
    first: str, last: str, status: UserStatus, number: int, department: str, title: str
) -> UserSpec:
    email = f"{first.lower()}.{last.lower()}@example.com"
    return UserSpec(
        id=stable_id("00u", email),
        email=email,
        first_name=first,
        last_name=last,
        status=status,
        created=_CREATED,
        profile={"employeeNumber": str(number), "department": department, "title": title},
        groups=[EVERYONE, GroupSpec(name=department, description=f"{department} department")],
        app_links=[GOOGLE] if status not in {"STAGED", "PROVISIONED"} else [],
    )


def demo_users() -> list[UserSpec]:
    jane = UserSpec(
        id=JANE_ID,
        email=JANE_EMAIL,
        first_name="Jane",
        last_name="Doe",
        status="ACTIVE",
        created=_CREATED,
        profile={
            "nickName": "Janey",
            "displayName": "Janey Doe",
            "employeeNumber": "12345",
            "title": "Software Engineer",
            "department": "Engineering",
            "userType": "Employee",
        },
        groups=[EVERYONE, ENGINEERING, FULL_TIME],
        app_links=[GOOGLE, SLACK, JIRA],
    )
    return [
        jane,
        _person("John", "Smith", "STAGED", 12346, "Sales", "Account Executive"),
        _person("Priya", "Patel", "PROVISIONED", 12347, "Marketing", "Marketing Manager"),
        _person("Marcus", "Lee", "SUSPENDED", 12348, "Finance", "Analyst"),
        _person("Olivia", "Brown", "DEPROVISIONED", 12349, "Support", "Support Engineer"),
        _person("Liam", "Garcia", "LOCKED_OUT", 12350, "Engineering", "SRE"),
        _person("Emma", "Wilson", "PASSWORD_EXPIRED", 12351, "Legal", "Counsel"),
        _person("Noah", "Martin", "RECOVERY", 12352, "Design", "Product Designer"),
    ]


def demo_org(now: float) -> Org:
    org = Org()
    for spec in demo_users():
        org.put_user(spec, now)
    return org
