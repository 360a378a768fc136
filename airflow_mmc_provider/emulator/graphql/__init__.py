"""The emulator's GraphQL resolvers, one module per resource (as moto splits a large service's
responses): each translates arguments into `store.Store` calls and answers with GraphQL-shaped
dicts, and contributes its resolvers by type and field in its `RESOLVERS`; `registry` binds them all.

Nodes are plain dicts keyed by GraphQL field names (graphql-core's default resolver reads them), so
most fields need no resolver at all; keys starting with ``_`` carry ids for the few nested fields
that load more (``User.createdTasks``, ``DataRow.dataset``). Every node builder returns every field
the SDK selects (wire reference 1.3): the SDK raises ``KeyError`` on a missing one. The rules behind a
resolver live in their own modules (`upserts`, `metadata`, `ontologies`, `batches`, `workflow`,
`exports`, `imports`): resolvers only translate.
"""
