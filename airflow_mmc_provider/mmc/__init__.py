"""The domain of multimodal chat evaluation: conversations, ontologies, their checks.

Pure functions and small types, with no HTTP and no Airflow, so that the client, the emulator and
the operators share one definition of each format. Import from the submodules:

* `conversation`: records (JSONL) -> row_data v2 documents and data-row upsert payloads, ids that
  annotations can refer to, global keys, batch validation;
* `document`: the typed v2 document and the checks of ready-made documents;
* `ontology`: ontology specs (dict, JSON, YAML) -> the normalized JSON Labelbox stores, a read-only
  view of a server's ontology, and differences between the two;
* `errors`: `ValidationError`, which lists every problem with its record, field and fix;
* `jsonl`: what every parser says of input that does not decode (nesting, BOM, NaN), in one place.

This package imports nothing itself, so importing a submodule stays cheap.
"""
