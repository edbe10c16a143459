"""Quiet by default: the SDK's metric lines at the level ``metrics_log_level`` names.

The SDK logs a ``METRIC:`` line at INFO for every HTTP request (``http_request_duration``)
and for every partition's record count and duration: a hand run at INFO printed one line
per request (thousands on a real run) around the few lines a person reads. The filter
here re-levels those points to ``metrics_log_level`` (DEBUG by default, so an INFO run
leaves them out and ``LOGLEVEL=DEBUG`` shows them); ``metrics_log_level: INFO`` logs them
as the SDK does. The run summary's own points (``tap_asos_*``, see
:mod:`tap_asos.alerts`) keep INFO: they are part of the summary.
"""

from __future__ import annotations

import logging

from singer_sdk import metrics

# The tap's own metric names start with this (alerts.RunMetric).
TAP_METRIC_PREFIX = "tap_asos_"
METRICS_LOG_LEVELS = {"DEBUG": logging.DEBUG, "INFO": logging.INFO}


class MetricsLevelFilter(logging.Filter):
    """Log the SDK's metric points at ``level`` instead of INFO."""

    def __init__(self, level: int) -> None:
        """Re-level the SDK's points to ``level`` (a ``logging`` level number)."""
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        """Pass the record, re-levelled, when the metrics logger logs at that level."""
        point = record.args[0] if isinstance(record.args, tuple) and record.args else None
        if not isinstance(point, metrics.Point) or record.levelno == self.level:
            return True
        if str(getattr(point.metric, "value", point.metric)).startswith(TAP_METRIC_PREFIX):
            return True
        record.levelno = self.level
        record.levelname = logging.getLevelName(self.level)
        return metrics.get_metrics_logger().isEnabledFor(self.level)


def set_metrics_log_level(level_name: str) -> None:
    """Put the SDK's metric points at ``level_name`` for this process (one filter)."""
    logger = metrics.get_metrics_logger()
    for old in [f for f in logger.filters if isinstance(f, MetricsLevelFilter)]:
        logger.removeFilter(old)
    logger.addFilter(MetricsLevelFilter(METRICS_LOG_LEVELS[level_name.upper()]))
