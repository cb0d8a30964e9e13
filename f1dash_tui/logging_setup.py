"""Send log records to the file the user chose, never to the terminal the TUI draws on.

Called once by the CLI after the configuration is known. Without a log file every
record is dropped (a NullHandler on the root logger also keeps Python's last-resort
handler from writing warnings onto the dashboard). Secrets are masked in every record.
"""

from __future__ import annotations

import logging
from pathlib import Path

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"
MASK = "***"


class SecretMaskingFilter(logging.Filter):
    """Replace every known secret in a record's formatted message with ``***``."""

    def __init__(self, secrets: tuple[str, ...]) -> None:
        super().__init__()
        self._secrets = tuple(secret for secret in secrets if secret)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        masked = message
        for secret in self._secrets:
            masked = masked.replace(secret, MASK)
        if masked != message:
            record.msg = masked
            record.args = None
        if record.exc_info and not record.exc_text:
            # Format the traceback now so a secret inside it can be masked too.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            for secret in self._secrets:
                record.exc_text = record.exc_text.replace(secret, MASK)
        return True


def logging_configured() -> bool:
    """Whether ``configure_logging`` has routed the root logger (file or nowhere)."""
    return any(
        getattr(handler, "_f1dash_owned", False)
        for handler in logging.getLogger().handlers
    )


def configure_logging(
    log_file: Path | None, level: str, *, secrets: tuple[str, ...] = ()
) -> None:
    """Route the root logger to ``log_file`` (or nowhere) at ``level``."""
    root = logging.getLogger()
    # The new handler first: if the file cannot be opened the OSError propagates with
    # the old handler still in place, so logging the error does not make Python print
    # "No handlers could be found" on the terminal.
    handler: logging.Handler
    if log_file is None:
        handler = logging.NullHandler()
    else:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_file, encoding="utf-8")
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
    for old_handler in list(root.handlers):
        if getattr(old_handler, "_f1dash_owned", False):
            root.removeHandler(old_handler)
            old_handler.close()
    handler.addFilter(SecretMaskingFilter(secrets))
    setattr(handler, "_f1dash_owned", True)  # noqa: B010 - marks our own handler
    root.addHandler(handler)
    root.setLevel(level)
    # Python's last-resort handler prints to stderr when no handler exists: never here.
    logging.lastResort = None
