"""SLOs and error budgets: rules generated from the specs, reports, alerts, the release freeze.

Nothing here imports Prefect; the `slo-report` flow and the CLI call these modules.
"""
