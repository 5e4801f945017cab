"""``/auth/*`` and ``/billing/upgrade``: accounts, token pairs, refresh rotation, tickets, tiers."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from golden_path.db import users
from golden_path.protocol import TICKET_TTL_SECONDS
from golden_path.server.api.deps import UNAUTHORIZED, Bearer, State
from golden_path.server.api.throttle_gate import client_address
from golden_path.server.auth.sessions import Rotation
from golden_path.server.auth.tokens import TokenError
from golden_path.tiers import Tier

router = APIRouter(tags=["auth"])
_EMAIL = re.compile(r"[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s.\x00-\x1f\x7f]+")
MIN_PASSWORD_CHARS = 10
LOGIN_FAILED = HTTPException(
    status_code=status.HTTP_401_UNAUTHORIZED, detail="invalid email or password"
)


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Annotated[str, Field(max_length=254)]
    password: Annotated[str, Field(min_length=MIN_PASSWORD_CHARS, max_length=1024)]

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        value = value.strip()
        if not _EMAIL.fullmatch(value):
            raise ValueError("not a valid email address")
        return value


class LoginBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Annotated[str, Field(max_length=254)]
    password: Annotated[str, Field(max_length=1024)]


class RefreshBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: Annotated[str, Field(max_length=8192)]


class UpgradeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tier: Tier


class SignupAnswer(BaseModel):
    user_id: str
    tier: str


class TokenAnswer(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int


class TicketAnswer(BaseModel):
    ticket: str
    expires_in: int


@router.post("/auth/signup", status_code=status.HTTP_201_CREATED, response_model=SignupAnswer)
async def signup(body: Credentials, state: State, request: Request) -> dict[str, Any]:
    await state.throttle.signup(client_address(request.scope))
    password_hash = await state.passwords.hash(body.password)
    try:
        async with state.db.as_system() as conn:
            user = await users.create(conn, body.email, password_hash)
    except users.EmailTaken:
        raise HTTPException(status.HTTP_409_CONFLICT, "an account with this email exists") from None
    return {"user_id": str(user.id), "tier": user.tier.value}


@router.post("/auth/login", response_model=TokenAnswer)
async def login(body: LoginBody, state: State, request: Request) -> dict[str, Any]:
    # Counted before any hashing, for a known and an unknown email alike (§3.8).
    await state.throttle.login(client_address(request.scope), body.email)
    if "\x00" in body.email:  # cannot be anyone's address (and PostgreSQL refuses NUL)
        await state.passwords.verify(None, body.password)
        raise LOGIN_FAILED
    async with state.db.as_system() as conn:
        user = await users.by_email(conn, body.email.strip())
    if not await state.passwords.verify(user.password_hash if user else None, body.password):
        raise LOGIN_FAILED
    assert user is not None
    pair = state.tokens.issue_pair(user.id, user.tier)
    await state.sessions.start_family(pair.refresh_claims)
    return pair.to_response()


@router.post("/auth/refresh", response_model=TokenAnswer)
async def refresh(body: RefreshBody, state: State) -> dict[str, Any]:
    try:
        presented = state.tokens.verify(body.refresh_token, "refresh")
    except TokenError:
        raise UNAUTHORIZED from None
    async with state.db.as_user(presented.user_id) as conn:
        user = await users.by_id(conn, presented.user_id)
    if user is None:
        raise UNAUTHORIZED
    pair = state.tokens.issue_pair(user.id, user.tier, family=presented.family)
    rotation = await state.sessions.rotate(presented, pair.refresh_claims.jti)
    if rotation is not Rotation.OK:
        raise UNAUTHORIZED
    return pair.to_response()


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(claims: Bearer, state: State) -> Response:
    """End this login's family; its open sockets, on every node, close 4401 now."""
    await state.sessions.revoke(claims)
    await state.end_sessions(claims.user_id, claims.family)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/auth/logout-all", status_code=status.HTTP_204_NO_CONTENT)
async def logout_all(claims: Bearer, state: State) -> Response:
    """End every family of the user (every device); every open socket of theirs closes 4401."""
    await state.sessions.revoke_all(claims)
    await state.end_sessions(claims.user_id, None)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/auth/ws-ticket", response_model=TicketAnswer)
async def ws_ticket(claims: Bearer, state: State) -> dict[str, Any]:
    ticket = await state.sessions.issue_ticket(claims)
    return {"ticket": ticket, "expires_in": TICKET_TTL_SECONDS}


@router.post("/billing/upgrade", response_model=TokenAnswer, tags=["billing"])
async def upgrade(body: UpgradeBody, claims: Bearer, state: State) -> dict[str, Any]:
    """Move to a higher tier (no payment taken): a pair carrying it, in the bearer's family.

    The family's refresh token moves to the new pair in the same step (the old one is
    spent, as by a refresh), so an upgrade never mints a second, independent session.
    """
    pair = state.tokens.issue_pair(claims.user_id, body.tier, family=claims.family)
    async with state.db.as_user(claims.user_id) as conn:
        user = await users.lock(conn, claims.user_id)
        if user is None:
            raise UNAUTHORIZED
        if body.tier.rank <= user.tier.rank:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                f"{body.tier.value} is not above the current tier {user.tier.value}; "
                "only upgrades are handled here",
            )
        await users.set_tier(conn, user.id, body.tier)
        # Inside the transaction: if the family cannot move (revoked meanwhile, or Redis
        # away), the tier is not changed either.
        if await state.sessions.advance(claims, pair.refresh_claims.jti) is not Rotation.OK:
            raise UNAUTHORIZED
    return pair.to_response()
