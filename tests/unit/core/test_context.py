"""UserContext: validated on construction, frozen, and ``child()`` follows the request rules."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given

from golden_path.context import UserContext
from golden_path.ids import RequestID, RunID, ThreadID, UserID
from golden_path.testing.v1 import strategies as gps
from golden_path.tiers import Tier

pytestmark = [
    pytest.mark.stage("auth"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="every request carries exactly one user, tier and request id, so limits "
        "and data are applied to the right customer",
        revenue_impact="wrong tier or user on a request would give away paid features or "
        "leak another customer's data",
    ),
]


def _full() -> UserContext:
    return UserContext(
        user_id=UserID.new(),
        tier=Tier.MID,
        thread_id=ThreadID.new(),
        run_id=RunID.new(),
        request_id=RequestID("client-key-1"),
    )


def test_plain_strings_become_typed_values() -> None:
    user, thread, run = UserID.new(), ThreadID.new(), RunID.new()
    ctx = UserContext(
        user_id=str(user),  # type: ignore[arg-type]
        tier="enterprise",  # type: ignore[arg-type]
        thread_id=str(thread),  # type: ignore[arg-type]
        run_id=str(run),  # type: ignore[arg-type]
        request_id="abc",  # type: ignore[arg-type]
    )
    assert (type(ctx.user_id), type(ctx.thread_id), type(ctx.run_id)) == (UserID, ThreadID, RunID)
    assert type(ctx.request_id) is RequestID
    assert ctx.tier is Tier.ENTERPRISE
    assert (ctx.user_id, ctx.thread_id, ctx.run_id, ctx.request_id) == (user, thread, run, "abc")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("user_id", "usr_bad", "invalid UserID: 'usr_bad'"),
        ("user_id", None, "invalid UserID: None"),
        ("thread_id", "usr_" + "0" * 32, "invalid ThreadID"),
        ("run_id", "thr_" + "0" * 32, "invalid RunID"),
        ("request_id", "not allowed!", "invalid RequestID: 'not allowed!'"),
        ("tier", "platinum", "unknown tier 'platinum'"),
    ],
)
def test_invalid_field_is_refused_on_construction(field: str, value: object, message: str) -> None:
    kwargs: dict[str, object] = {"user_id": UserID.new(), "tier": Tier.FREE, field: value}
    with pytest.raises(ValueError, match=message):
        UserContext(**kwargs)  # type: ignore[arg-type]


def test_context_is_frozen_and_has_no_instance_dict() -> None:
    ctx = _full()
    with pytest.raises(dataclasses.FrozenInstanceError):
        ctx.tier = Tier.ENTERPRISE  # type: ignore[misc]
    with pytest.raises((AttributeError, TypeError)):
        ctx.extra = 1  # type: ignore[attr-defined]
    assert ctx.tier is Tier.MID


def test_equal_values_make_equal_hashable_contexts() -> None:
    user = UserID.new()
    a = UserContext(user_id=user, tier=Tier.FREE)
    b = UserContext(user_id=UserID(str(user)), tier="free")  # type: ignore[arg-type]
    assert a == b
    assert hash(a) == hash(b)


def test_child_keeps_user_tier_and_thread_and_mints_a_new_request() -> None:
    parent = _full()
    child = parent.child()
    assert (child.user_id, child.tier, child.thread_id) == (
        parent.user_id,
        parent.tier,
        parent.thread_id,
    )
    assert child.request_id is not None
    assert child.request_id != parent.request_id
    assert child.request_id.startswith("req_")
    assert type(child.request_id) is RequestID


def test_child_never_inherits_the_parents_run() -> None:
    parent = _full()
    assert parent.run_id is not None
    assert parent.child().run_id is None


def test_child_keeps_the_ids_it_is_given() -> None:
    parent = _full()
    request, thread, run = RequestID("retry-7"), ThreadID.new(), RunID.new()
    child = parent.child(request_id=request, thread_id=thread, run_id=run)
    assert (child.request_id, child.thread_id, child.run_id) == (request, thread, run)
    assert child.user_id == parent.user_id
    assert child.tier is parent.tier


def test_child_leaves_the_parent_untouched() -> None:
    parent = _full()
    before = dataclasses.asdict(parent)
    parent.child(thread_id=ThreadID.new(), run_id=RunID.new())
    assert dataclasses.asdict(parent) == before


def test_child_validates_the_ids_it_is_given() -> None:
    with pytest.raises(ValueError, match="invalid RunID"):
        _full().child(run_id="run_nope")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="invalid ThreadID"):
        _full().child(thread_id=str(UserID.new()))  # type: ignore[arg-type]


def test_two_children_get_different_request_ids() -> None:
    parent = _full()
    assert parent.child().request_id != parent.child().request_id


def test_new_mints_a_user_on_the_free_tier_with_nothing_else() -> None:
    ctx = UserContext.new()
    assert UserID.is_valid(str(ctx.user_id))
    assert ctx.tier is Tier.FREE
    assert (ctx.thread_id, ctx.run_id, ctx.request_id) == (None, None, None)
    assert UserContext.new().user_id != ctx.user_id


def test_new_takes_the_tier() -> None:
    assert [UserContext.new(tier).tier for tier in Tier] == list(Tier)


@given(gps.user_contexts())
def test_child_rules_hold_for_any_context(ctx: UserContext) -> None:
    child = ctx.child()
    assert (child.user_id, child.tier, child.thread_id) == (ctx.user_id, ctx.tier, ctx.thread_id)
    assert child.run_id is None
    assert child.request_id is not None
    assert child.request_id.startswith("req_")
    assert child.request_id != ctx.request_id
