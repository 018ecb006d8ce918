from __future__ import annotations

from urllib.parse import urlsplit

from onboarding_events.waiting import RETRY_TIERS
from onboarding_runtime.settings import KafkaSettings, ServiceSettings, blank, secret_items
from pydantic import Field, SecretStr, field_validator, model_validator

from enrich_service.waiting import RetrySchedule, parse_delays

DAY_S = 24 * 3600.0
MAX_RETRY_DELAY_S = 7 * DAY_S  # the retry topics keep 30 days: a week's wait is far inside

# The local Okta simulator's address and token: development and tests only.
SIMULATOR_URL = "http://127.0.0.1:8010"
SIMULATOR_TOKEN = "okta-simulator-token"


class Settings(ServiceSettings, KafkaSettings):
    enrich_port: int = Field(default=8002, ge=1, le=65535)
    okta_org_url: str = SIMULATOR_URL
    okta_api_token: SecretStr = SecretStr(SIMULATOR_TOKEN)
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
    # A person not (yet) in Okta waits on the retry tiers (`waiting.py`), looked up again
    # after each of these delays in seconds (comma-separated, one retry topic each, at most
    # five, each at most a week; the last repeats): 10 s, 1 min, 10 min, 1 h, 1 day.
    enrich_retry_delays_s: str = "10,60,600,3600,86400"
    # ... for this long after the first lookup (3 days: accounts are often created by a
    # separate provisioning run), then dead-lettered as `okta_user_not_found`.
    enrich_not_found_retry_s: float = Field(default=3 * DAY_S, gt=0)
    # ... or, for a hire whose start date is ahead (`scheduled`), until that date plus this.
    enrich_prehire_grace_s: float = Field(default=7 * DAY_S, ge=0)
    # While Okta is down, one probe every this many seconds (doubling up to 30 s).
    enrich_probe_interval_s: float = Field(default=2.0, gt=0)
    # Unfinished HR events held in memory before fetching pauses.
    enrich_max_pending: int = Field(default=5000, ge=1)
    # HR event ids remembered as handled, so a record of the same event written twice is
    # enriched once (`recent_events.py`); ~15 MB per 100,000. 0 turns that off.
    enrich_dedupe_window: int = Field(default=100_000, ge=0, le=10_000_000)
    # On taking over partitions, the HR records this far back (record time) before the
    # committed offsets are read into that memory (at most the window, shared out among
    # the partitions): a copy ingest wrote a little after the first is skipped whichever
    # member meets it. Ingest writes such copies within seconds of the first.
    enrich_dedupe_lookback_s: float = Field(default=900.0, ge=0)
    # The webhook's key (ingest's `API_KEY`, comma-separated so it can be rotated) opens
    # `POST /v1/preview`. Optional: unset (or blank) leaves the preview open outside
    # production and turns it off (404) in production, where the service starts all the same.
    api_key: SecretStr | None = None
    # Previews answered at once; one more is refused (429) rather than queued.
    enrich_preview_concurrency: int = Field(default=2, ge=1, le=32)
    # Previews are refused (429) while less than this share of an Okta operation's rate
    # limit is left in its window: what is left is the consumer's.
    enrich_preview_reserve: float = Field(default=0.25, ge=0, lt=1)

    @field_validator("enrich_retry_delays_s")
    @classmethod
    def _retry_delays(cls, value: str) -> str:
        try:
            delays = parse_delays(value)
        except ValueError:
            raise ValueError("ENRICH_RETRY_DELAYS_S: seconds, comma-separated") from None
        if not 1 <= len(delays) <= RETRY_TIERS:
            raise ValueError(f"ENRICH_RETRY_DELAYS_S: between 1 and {RETRY_TIERS} delays")
        if not all(0 < d <= MAX_RETRY_DELAY_S for d in delays):
            raise ValueError("ENRICH_RETRY_DELAYS_S: each delay above 0 and at most a week")
        return value

    @property
    def retry_group_id(self) -> str:
        """The retry tiers' consumer group: `ENRICH_GROUP_ID` plus `.retry`."""
        return f"{self.enrich_group_id}.retry"

    def retry_schedule(self) -> RetrySchedule:
        return RetrySchedule(
            delays_s=parse_delays(self.enrich_retry_delays_s),
            not_found_retry_s=self.enrich_not_found_retry_s,
            prehire_grace_s=self.enrich_prehire_grace_s,
        )

    @model_validator(mode="after")
    def _require_real_okta_in_production(self) -> Settings:
        """Production talks to a real Okta org, over TLS, with a real token: never the
        simulator's defaults (they would enrich everyone from a demo org)."""
        if not self.production:
            return self
        url = urlsplit(self.okta_org_url)
        if url.scheme != "https" or not url.hostname:
            raise ValueError("OKTA_ORG_URL must be your Okta org's https URL in production")
        token = self.okta_api_token.get_secret_value().strip()
        if blank(self.okta_api_token) or token == SIMULATOR_TOKEN:
            raise ValueError("OKTA_API_TOKEN must be set to a real Okta token in production")
        return self

    def api_keys(self) -> list[str]:
        """`API_KEY`, comma-separated so a key can be rotated without downtime."""
        return secret_items(self.api_key)

    @property
    def preview_enabled(self) -> bool:
        """Open outside production; in production only behind a key."""
        return not self.production or bool(self.api_keys())
