from __future__ import annotations

from onboarding_runtime.settings import KafkaSettings, ServiceSettings
from pydantic import Field, SecretStr


class Settings(ServiceSettings, KafkaSettings):
    enrich_port: int = Field(default=8002, ge=1, le=65535)
    okta_org_url: str = "http://127.0.0.1:8010"
    okta_api_token: SecretStr = SecretStr("okta-simulator-token")
    # Per HTTP call; a call that times out is retried with backoff like a 5xx.
    okta_timeout_s: float = Field(default=10.0, gt=0)
    # Okta caps concurrent requests per org (75 on many plans): stay well below.
    okta_max_concurrency: int = Field(default=20, ge=1, le=500)
    # Tries of one call on 5xx/timeouts before Okta counts as down (consumption pauses).
    okta_max_attempts: int = Field(default=4, ge=1, le=20)
    okta_backoff_max_s: float = Field(default=8.0, gt=0)
    enrich_group_id: str = "enrich-service"
    # Employees enriched at the same time; each makes up to three Okta calls at once.
    enrich_concurrency: int = Field(default=16, ge=1, le=512)
    # A user not (yet) in Okta is searched again on a widening schedule for this long, then
    # dead-lettered: Okta's search is eventually consistent and accounts come late.
    enrich_not_found_retry_s: float = Field(default=3600.0, gt=0)
    # While Okta is down, one probe every this many seconds (doubling up to 30 s).
    enrich_probe_interval_s: float = Field(default=2.0, gt=0)
    # Unfinished HR events held in memory before fetching pauses.
    enrich_max_pending: int = Field(default=5000, ge=1)
    # HR event ids remembered as handled, so a record of the same event written twice is
    # enriched once (`recent_events.py`); ~15 MB per 100,000. 0 turns that off.
    enrich_dedupe_window: int = Field(default=100_000, ge=0, le=10_000_000)
