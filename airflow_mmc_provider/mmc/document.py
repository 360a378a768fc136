"""Deprecated import path, kept for one release: use `airflow_mmc_provider.mmc.conversation.document`."""

import sys

from airflow_mmc_provider.mmc import conversation as _package  # noqa: F401
from airflow_mmc_provider.mmc.conversation.document import *  # noqa: F403

sys.modules[__name__] = sys.modules["airflow_mmc_provider.mmc.conversation.document"]
