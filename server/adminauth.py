"""The admin token: constant-time check, failures throttled per client, one log line each.

Every admin door goes through ``AdminAuth.verify``: the Gradio admin actions (token typed
in the tab), the upload gate and the admin download routes (``server/uploads.py``, header
``X-Passerelle-Admin`` or the session cookie set by ``POST /admin/session``).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping

from server.ratelimit import Limit, RateLimiter

log = logging.getLogger("passerelle.admin")

HEADER = "x-passerelle-admin"
COOKIE = "passerelle_admin"
# 5 wrong tokens per client per 5 minutes, then every attempt (even a right one) is refused
# until the window frees a slot. An admin who mistypes retries two or three times; a guesser
# gets one try a minute (the probe made 200 in 19 s), hopeless against a random token.
FAILURES = Limit("admin-failures", 5, window=300.0)


class AdminDenied(Exception):
    """A refused admin credential; ``str()`` is the message for the user (French)."""

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def token_ok(expected: str | None, given: str | None) -> bool:
    """True when ``given`` is the admin token (constant time; never without a token set)."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8", "replace"))


class AdminAuth:
    """Checks admin credentials for one process, remembering recent failures per client."""

    def __init__(self, token: str | None, failures: RateLimiter | None = None) -> None:
        self.token = token or None
        self.failures = failures or RateLimiter()

    @property
    def enabled(self) -> bool:
        return self.token is not None

    def session_value(self) -> str:
        """The cookie value proving the token was given (derived: the token never leaves)."""
        assert self.token is not None
        return hmac.new(
            self.token.encode(), b"passerelle-admin-session", hashlib.sha256
        ).hexdigest()

    def verify(self, given: str | None, client: str, *, cookie: bool = False) -> None:
        """Accept the token (or with ``cookie``, the session value) or raise ``AdminDenied``."""
        if not self.enabled:
            raise AdminDenied("Administration désactivée (PASSERELLE_ADMIN_TOKEN non défini).")
        blocked = self.failures.over([(FAILURES, client)])
        if blocked is not None:
            raise AdminDenied(self._wait_message(blocked[1]), blocked[1])
        expected = self.session_value() if cookie else self.token
        if token_ok(expected, given):
            return
        if not given:  # nothing typed yet: no guess to count
            raise AdminDenied("Jeton d'administration invalide.")
        refused = self.failures.hit([(FAILURES, client)])
        log.warning("admin credential refused for client %s", client)
        if refused is not None:
            raise AdminDenied(self._wait_message(refused[1]), refused[1])
        raise AdminDenied("Jeton d'administration invalide.")

    def verify_request(
        self, headers: Mapping[str, str], cookies: Mapping[str, str], client: str
    ) -> None:
        """Accept an HTTP request carrying the token header or the session cookie."""
        if HEADER in headers:
            self.verify(headers[HEADER], client)
        else:
            self.verify(cookies.get(COOKIE), client, cookie=True)

    @staticmethod
    def _wait_message(wait: int) -> str:
        return (
            "Trop d'essais de jeton d'administration depuis cette adresse : "
            f"réessayez dans {wait} s."
        )
