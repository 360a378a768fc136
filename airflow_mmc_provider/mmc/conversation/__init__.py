"""Conversations: the team's records and the row_data v2 document Labelbox shows raters."""

from airflow_mmc_provider.mmc.conversation.build import *  # noqa: F403
from airflow_mmc_provider.mmc.conversation.build import __all__ as __all__
