"""§3 over real HTTP: accounts, token pairs, refresh rotation and theft detection, logout,
tickets and tiers.

Here only what needs golden-path's reference server itself (a second node, other
settings, its services); what any server must pass ships in the package, in
``golden_path/conformance/v1/test_auth_http.py``.
"""

from __future__ import annotations

import pytest

from golden_path.conformance.support import (
    family_of,
)
from golden_path.conformance.v1 import bvj
from golden_path.conformance.v1.http_helpers import threads_status

pytestmark = [
    pytest.mark.stage("auth"),
    pytest.mark.security,
    bvj.AUTH_HTTP,
]


# --- bearer endpoints refuse every bad token ---------------------------------------------


@pytest.mark.reference_only
async def test_a_token_signed_like_the_server_is_accepted_by_a_bearer_endpoint(
    gp_api, gp_user, gp_jwt
):
    user = await gp_user("free")
    token = gp_jwt.valid(user.user_id, user.tier, fam=family_of(user))
    assert await threads_status(gp_api, token) == 200
