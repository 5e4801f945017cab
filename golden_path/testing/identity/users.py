"""Fresh users of any tier, made the way a customer becomes one: signup, login, upgrade."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from golden_path.client import GoldenPathHTTP, TokenSet
from golden_path.context import UserContext
from golden_path.ids import UserID
from golden_path.tiers import Tier

TEST_PASSWORD = "golden-path-test-password"  # noqa: S105 - throwaway accounts on test servers
EMAIL_DOMAIN = "users.golden-path.test"


@dataclass(frozen=True)
class GoldenPathUser:
    """A user with live tokens; ``context`` is the typed ``UserContext`` for it."""

    email: str
    password: str
    user_id: UserID
    tier: Tier
    tokens: TokenSet

    @property
    def access_token(self) -> str:
        return self.tokens.access_token

    @property
    def refresh_token(self) -> str:
        return self.tokens.refresh_token

    @property
    def context(self) -> UserContext:
        return UserContext(user_id=self.user_id, tier=self.tier)

    def with_tokens(self, tokens: TokenSet, tier: Tier | None = None) -> GoldenPathUser:
        return replace(self, tokens=tokens, tier=tier or self.tier)


async def create_user(
    api: GoldenPathHTTP, tier: Tier | str = Tier.FREE, *, email: str | None = None
) -> GoldenPathUser:
    tier = Tier.parse(tier)
    email = email or f"{tier.value}-{uuid.uuid4().hex}@{EMAIL_DOMAIN}"
    account = await api.signup(email, TEST_PASSWORD)
    tokens = await api.login(email, TEST_PASSWORD)
    if tier is not Tier.FREE:
        tokens = await api.upgrade(tokens.access_token, tier.value)
    return GoldenPathUser(email, TEST_PASSWORD, UserID(account["user_id"]), tier, tokens)
