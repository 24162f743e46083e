"""Who may read responses: API tokens sent as ``Authorization: Bearer <token>``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from survey import store
from survey.models import ApiToken
from survey.web.deps import SessionDep

_bearer = HTTPBearer(auto_error=False, description="An API token from `survey token create`.")


def require_token(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiToken:
    token = None
    if (
        credentials is not None
        and credentials.scheme.lower() == "bearer"
        and "\x00" not in credentials.credentials
    ):
        token = store.find_active_token(session, plain=credentials.credentials)
    if token is None:
        raise HTTPException(
            status_code=401,
            detail="A valid API token is required (Authorization: Bearer <token>).",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return token


TokenDep = Annotated[ApiToken, Depends(require_token)]
