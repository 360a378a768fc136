"""A local Labelbox-compatible server: the provider's embedded default and its test double.

A real server rather than a mock: Starlette under uvicorn, GraphQL executed by graphql-core against
an SDL of the supported subset, state in SQLite and files under a data directory. The split follows
moto: `store` holds the state (one module per resource), `graphql` (resolvers per resource) and
`routes` speak the protocol, `upserts` (data rows),
`metadata` (custom metadata schemas), `ontologies` (feature checks and ids), `batches` (rows into
projects), `workflow` (labelling state and progress), `labels` (annotations and their export
shapes), `exports` (export tasks and streams), `imports` (annotation imports) and `raters`
(simulated raters) hold the service's rules, `jobs` runs background tasks, `faults` misbehaves on
request. Start it with ``labelbox-emulator serve`` or, from tests, with
`airflow_mmc_provider.emulator.testing.run_emulator`.

This package imports neither Airflow nor `airflow_mmc_provider.client`.
"""
