"""A simple auth manager for tests in which chosen users may read only some DAGs."""

from __future__ import annotations

from typing import Any, ClassVar

from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager
from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser


class RestrictedAuthManager(SimpleAuthManager):
    """Like the simple auth manager, except users listed in ``ALLOWED`` read only the DAGs listed there."""

    ALLOWED: ClassVar[dict[str, set[str]]] = {}

    def is_authorized_dag(
        self, *, method: Any, user: SimpleAuthManagerUser, access_entity: Any = None, details: Any = None
    ) -> bool:
        allowed = self.ALLOWED.get(user.username)
        if allowed is not None and (details is None or details.id not in allowed):
            return False
        return super().is_authorized_dag(
            method=method, user=user, access_entity=access_entity, details=details
        )
