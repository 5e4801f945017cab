"""Sessions that really end (security review, issue 13 §1), each attack carried out for real.

A stolen access token must not become a session of its own: an upgrade stays in the
bearer's family and refuses the current tier; ``/auth/logout-all`` ends every family;
a logged-out family's open sockets close 4401 at once, on every node, not at expiry.

Shipped: what any protocol v1 server must pass; what needs golden-path's reference
server itself stays in this repository's ``tests/e2e/test_security_sessions.py``.
"""

from __future__ import annotations

import pytest

from golden_path.client import TokenSet
from golden_path.conformance.support import (
    http,
)
from golden_path.conformance.v1 import bvj
from golden_path.conformance.v1.http_helpers import threads_status, upgrade
from golden_path.tiers import Tier

pytestmark = [
    # Protocol v1, much of it over raw HTTP on gp_base_url: --gp-protocol=ag-ui skips it.
    pytest.mark.protocol("v1"),
    pytest.mark.e2e,
    pytest.mark.stage("auth"),
    pytest.mark.security,
    bvj.SECURITY_SESSIONS,
]


@pytest.mark.parametrize("tier", ["free", "early", "mid", "enterprise"])
async def test_an_upgrade_to_the_current_tier_is_refused_and_mints_nothing(gp_api, gp_user, tier):
    user = await gp_user(tier)
    answer = await upgrade(gp_api, user.access_token, tier)
    assert answer.status_code == 422, answer.text
    assert "refresh_token" not in answer.json()
    # Nothing moved: the user's own refresh token is still the family's newest.
    assert (await gp_api.refresh(user.refresh_token)).access_token


async def test_a_stolen_token_upgraded_is_ended_by_the_victims_logout(gp_api, gp_user):
    victim = await gp_user("free")
    # The attacker holds only the victim's access token, and upgrades with it.
    stolen = await upgrade(gp_api, victim.access_token, "early")
    assert stolen.status_code == 200, stolen.text
    attacker = TokenSet.from_answer(stolen.json())
    # The victim logs out (with an access token of the same login) ...
    await gp_api.logout(victim.access_token)
    # ... and everything the attacker got from the upgrade is dead with the family.
    assert (
        await http(gp_api, "POST", "/auth/refresh", json={"refresh_token": attacker.refresh_token})
    ).status_code == 401
    assert await threads_status(gp_api, attacker.access_token) == 401


async def test_an_upgrade_spends_the_familys_previous_refresh_token(gp_api, gp_user):
    user = await gp_user("free")
    answer = await upgrade(gp_api, user.access_token, "mid")
    assert answer.status_code == 200, answer.text
    new = TokenSet.from_answer(answer.json())
    old = await http(gp_api, "POST", "/auth/refresh", json={"refresh_token": user.refresh_token})
    assert old.status_code == 401, old.text
    # Presenting the spent token is reuse: the family (with the upgrade's pair) is revoked.
    assert await threads_status(gp_api, new.access_token) == 401


async def test_logout_all_needs_a_valid_bearer(gp_api):
    assert (await http(gp_api, "POST", "/auth/logout-all")).status_code == 401


async def test_a_tier_below_or_equal_is_refused_even_right_after_an_upgrade(gp_api, gp_user):
    user = await gp_user("free")
    answer = await upgrade(gp_api, user.access_token, Tier.MID.value)
    assert answer.status_code == 200
    new = TokenSet.from_answer(answer.json())
    for tier in ("free", "early", "mid"):
        assert (await upgrade(gp_api, new.access_token, tier)).status_code == 422
