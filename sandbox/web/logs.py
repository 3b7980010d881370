"""Request logs: one line per request, text for people or JSON for log pipelines.

Lines go to stdout through the `enkash_sandbox.requests` logger; uvicorn keeps its own
startup and error messages. Health checks log at debug so a container's probe stays quiet.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

LOGGER_NAME = "enkash_sandbox.requests"


def request_logger() -> logging.Logger:
    return logging.getLogger(LOGGER_NAME)


def configure(log_format: str, level: str) -> None:
    """Called once by the server at start; tests and embedders may leave logging alone."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    logger = request_logger()
    logger.handlers = [handler]
    logger.setLevel(level.upper())
    logger.propagate = False


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    return dict(getattr(record, "sandbox", {}))


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        f = fields_of(record)
        extras = "".join(f" {key}={f[key]}" for key in ("partnerId", "fault") if f.get(key))
        return (
            f"{f.get('time', '')} {record.levelname} [{f.get('requestId', '-')}] {f.get('method', '')} {f.get('path', '')}"
            f"{'?' + f['query'] if f.get('query') else ''} {f.get('status', '')} {f.get('latencyMs', '')}ms{extras}"
        )


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps({"level": record.levelname.lower(), **fields_of(record)}, default=str, separators=(",", ":"))
