"""A local Labelbox-compatible server: the provider's embedded default and its test double.

A real server rather than a mock: Starlette under uvicorn, GraphQL executed by graphql-core against
an SDL of the supported subset, state in SQLite and files under a data directory. The split follows
moto: `models` holds the state, `resolvers`/`routes` speak the protocol, `upserts` and `jobs` do the
background work, `faults` misbehaves on request. Start it with ``labelbox-emulator serve`` or, from
tests, with `airflow_mmc_provider.emulator.testing.run_emulator`.

This package imports neither Airflow nor `airflow_mmc_provider.client`.
"""
