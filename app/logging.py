"""JSON logs, one object a line: time, level, logger, message, and the request's fields."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

import orjson

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        # orjson: a tenth of the standard library's time for the line every request writes. It refuses
        # what the standard library writes escaped (a lone surrogate a caller sent, an integer past
        # 64 bits): such a line is still written, by the standard library, never dropped.
        try:
            return orjson.dumps(entry, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
        except TypeError:
            return json.dumps(entry, default=str)


class _DropStrawberryExecution(logging.Filter):
    """Strawberry logs every resolver error (permission denials included) with a traceback;
    `schema.extensions.log_unexpected` logs the ones that matter, without the query text."""

    def filter(self, record: logging.LogRecord) -> bool:
        return False


def configure_logging(level: str = "INFO") -> None:
    """JSON lines on standard error. A record gathers nothing these lines do not print: no calling
    frame, thread, process or multiprocessing name (the switches the logging HOWTO's "Optimization"
    names), which halves the cost of the access line and of each statement the counter logs."""
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("strawberry.execution").addFilter(_DropStrawberryExecution())
    logging.getLogger("uvicorn.access").disabled = True  # our access log carries the request id
