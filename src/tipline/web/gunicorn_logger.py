"""Gunicorn logger that can never write a client address or a query string.

Gunicorn itself logs "Invalid request from ip=…" at warning level and request URIs on errors;
this class scrubs every message before it is formatted, and the access log is always off.
"""

from __future__ import annotations

import re
from typing import Any

from gunicorn import glogging

_IP_FIELD = re.compile(r"ip=\S+")
_IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
_IPV6 = re.compile(r"\b(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}\b")
_QUERY = re.compile(r"\?\S*")


def scrub(text: str) -> str:
    text = _IP_FIELD.sub("ip=[removed]", text)
    text = _IPV4.sub("[address]", text)
    text = _IPV6.sub("[address]", text)
    return _QUERY.sub("?[removed]", text)


class PrivateLogger(glogging.Logger):  # type: ignore[misc]
    def log(self, lvl: Any, msg: Any, *args: Any, **kwargs: Any) -> None:
        text = str(msg) % args if args else str(msg)
        super().log(lvl, scrub(text), **kwargs)

    def critical(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self.error_log.critical(scrub(str(msg) % args if args else str(msg)), **kwargs)

    def error(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self.error_log.error(scrub(str(msg) % args if args else str(msg)), **kwargs)

    def warning(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self.error_log.warning(scrub(str(msg) % args if args else str(msg)), **kwargs)

    def info(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self.error_log.info(scrub(str(msg) % args if args else str(msg)), **kwargs)

    def debug(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self.error_log.debug(scrub(str(msg) % args if args else str(msg)), **kwargs)

    def exception(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        # The traceback could quote request data; log the message and exception type only.
        text = scrub(str(msg) % args if args else str(msg))
        self.error_log.error("%s (traceback suppressed for privacy)", text)

    def access(self, *args: Any, **kwargs: Any) -> None:
        return None
