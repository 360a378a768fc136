"""Export lines of a multimodal chat project, read into labels and judgments."""

from airflow_mmc_provider.mmc.export.reader import *  # noqa: F403
from airflow_mmc_provider.mmc.export.reader import __all__ as __all__
