"""Holds the process's ``Services`` once loaded, so the port can answer while they load."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from server.errors import ApiError

if TYPE_CHECKING:  # importing the engine takes seconds; the port must open before
    from server.services import Services


@dataclass
class ServiceSlot:
    """Empty while the index and models load; ``error`` is set if loading failed."""

    services: Services | None = None
    error: str | None = None

    def require(self) -> Services:
        """The loaded services, or a 503 telling the client to come back."""
        if self.services is not None:
            return self.services
        if self.error is not None:
            raise ApiError(
                503,
                "unavailable",
                "Service indisponible : le chargement a échoué. / Service unavailable: "
                f"loading failed ({self.error}).",
            )
        raise ApiError(
            503,
            "loading",
            "Chargement en cours, réessayez dans quelques secondes. / Loading, retry shortly.",
            headers={"Retry-After": "5"},
            retry_after=5,
        )
