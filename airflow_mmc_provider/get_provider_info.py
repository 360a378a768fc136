"""Provider metadata read by Airflow's providers manager (entry point `apache_airflow_provider`).

Kept as a plain dict with no imports so that provider discovery stays cheap.
"""

from __future__ import annotations

from typing import Any


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-mmc-provider",
        "name": "Labelbox multimodal chat evaluation",
        "description": (
            "Run human evaluation rounds of multimodal chat models on Labelbox: datasets, "
            "conversations, ontologies, projects, batches, annotation imports, exports and leaderboards."
        ),
        "integrations": [
            {
                "integration-name": "Labelbox",
                "external-doc-url": "https://docs.labelbox.com/reference",
                "tags": ["service"],
            }
        ],
        "hooks": [
            {"integration-name": "Labelbox", "python-modules": ["airflow_mmc_provider.hooks.labelbox"]}
        ],
        "operators": [
            {
                "integration-name": "Labelbox",
                "python-modules": [
                    "airflow_mmc_provider.operators.datasets",
                    "airflow_mmc_provider.operators.data_rows",
                    "airflow_mmc_provider.operators.projects",
                    "airflow_mmc_provider.operators.batches",
                    "airflow_mmc_provider.operators.ontologies",
                    "airflow_mmc_provider.operators.conversations",
                    "airflow_mmc_provider.operators.exports",
                    "airflow_mmc_provider.operators.annotations",
                    "airflow_mmc_provider.operators.leaderboard",
                    "airflow_mmc_provider.operators.rounds",
                ],
            }
        ],
        "sensors": [
            {
                "integration-name": "Labelbox",
                "python-modules": [
                    "airflow_mmc_provider.sensors.exports",
                    "airflow_mmc_provider.sensors.labeling",
                ],
            }
        ],
        "triggers": [
            {
                "integration-name": "Labelbox",
                "python-modules": [
                    "airflow_mmc_provider.triggers.tasks",
                    "airflow_mmc_provider.triggers.progress",
                    "airflow_mmc_provider.triggers.imports",
                ],
            }
        ],
        "extra-links": ["airflow_mmc_provider.operators.projects.LabelboxProjectLink"],
        "connection-types": [
            {
                "connection-type": "labelbox",
                "hook-class-name": "airflow_mmc_provider.hooks.labelbox.LabelboxHook",
                "hook-name": "Labelbox",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "login", "port"],
                    "relabeling": {"host": "GraphQL endpoint", "password": "API key"},
                    "placeholders": {
                        "host": "https://api.labelbox.com/graphql",
                        "password": "Labelbox API key",
                    },
                },
                "conn-fields": {
                    "request_timeout": {
                        "label": "Request timeout (s)",
                        "description": "Read timeout of one HTTP request to Labelbox.",
                        "schema": {"type": ["integer", "null"], "default": 60, "minimum": 1},
                    },
                    "retry_limit": {
                        "label": "Retry limit",
                        "description": "Attempts per request on 429, 5xx, timeouts and dropped connections.",
                        "schema": {"type": ["integer", "null"], "default": 6, "minimum": 1},
                    },
                    "app_url": {
                        "label": "App URL",
                        "description": "Labelbox app address used for links in the Airflow UI.",
                        "schema": {"type": ["string", "null"], "default": "https://app.labelbox.com"},
                    },
                },
            }
        ],
    }
