"""The ledger run of issue #13: a fault-injection run proving 0 lost, 0 regressed, 0 duplicated,
0 resurrected.

The orchestrator (cluster, replicas, faults) calls these library modules:

- `plan`: who is sent (employees, versions, Okta presence, expected outcome), with a run tag
  so no id or email collides with other text;
- `sender`: the webhook workload, a Standard Webhooks sender writing every answer into a
  `ledger.Ledger`;
- `readiness`: a background probe of `/v1/readyz` and what it says about fault windows;
- `sources` and `checker`: after the system is quiet, the topics and the query API held
  against the plan and the ledger; `logscan`: no employee id or email in a log;
- `report`: the Markdown and JSON table.

`fakes` holds the in-memory sources and a synthetic clean world for the unit tests.
"""
