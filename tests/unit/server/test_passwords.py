"""Argon2id password hashing: roundtrip, refusal, salting, no exception for a bad hash, and
a low CPU priority for its threads."""

from __future__ import annotations

import asyncio
import os
import sys
import threading

import pytest

from golden_path.server.auth.passwords import HASHING_NICENESS, Passwords

pytestmark = [
    pytest.mark.security,
    pytest.mark.stage("auth"),
    pytest.mark.bvj(
        segment="all",
        goal="retention",
        value_impact="logins succeed with the right password only, and a corrupt or missing "
        "hash is a plain 'no' rather than a 500",
        revenue_impact="a password check that accepts wrong passwords or crashes on login "
        "locks customers out or hands their accounts to someone else",
    ),
]

FAST = Passwords("fast")

PASSWORDS = [
    "correct horse battery staple",
    "p",
    "",
    "pässwörd-ünïcode-密码",
    "with\x00nul",
    "x" * 1000,
    " leading and trailing ",
]


@pytest.mark.parametrize("password", PASSWORDS)
async def test_hash_then_verify_roundtrips(password: str) -> None:
    stored = await FAST.hash(password)
    assert stored.startswith("$argon2id$")
    assert await FAST.verify(stored, password) is True


@pytest.mark.parametrize(
    ("password", "attempt"),
    [
        ("correct horse", "correct horsE"),
        ("correct horse", "correct horse "),
        ("correct horse", ""),
        ("correct horse", "correct"),
        ("", " "),
        ("pässwörd", "passwort"),
    ],
)
async def test_a_wrong_password_is_refused(password: str, attempt: str) -> None:
    stored = await FAST.hash(password)
    assert await FAST.verify(stored, attempt) is False


@pytest.mark.parametrize("password", ["", "anything", "not the password of anyone"])
async def test_no_stored_hash_is_always_refused(password: str) -> None:
    """The dummy-hash path: spend the same effort and say no, even for the dummy's own password."""
    assert await FAST.verify(None, password) is False


@pytest.mark.parametrize("password", ["", "anything", "not the password of anyone"])
async def test_an_empty_stored_hash_is_always_refused(password: str) -> None:
    """``password_hash`` is ``text NOT NULL`` without a CHECK: '' must not open the account
    to the dummy hash's password, which is public in the source."""
    assert await FAST.verify("", password) is False


@pytest.mark.parametrize(
    "stored",
    [
        "garbage",
        "$argon2id$",
        "$argon2id$v=19$m=1024,t=1,p=1$bad",
        "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$",
        "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",  # bcrypt
        "5f4dcc3b5aa765d61d8327deb882cf99",  # md5
        "\x00",
        pytest.param("$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$ü", id="non-ascii-in-hash"),
        pytest.param("ünïcode", id="non-ascii-hash"),
    ],
)
async def test_a_malformed_stored_hash_is_refused_not_raised(stored: str) -> None:
    assert await FAST.verify(stored, "password") is False


async def test_a_truncated_real_hash_is_refused() -> None:
    stored = await FAST.hash("password")
    assert await FAST.verify(stored[:-5], "password") is False


async def test_hashes_are_salted() -> None:
    first, second = await FAST.hash("same password"), await FAST.hash("same password")
    assert first != second
    assert await FAST.verify(first, "same password")
    assert await FAST.verify(second, "same password")


async def test_the_fast_profile_uses_the_documented_cheap_parameters() -> None:
    assert "$m=1024,t=1,p=1$" in await FAST.hash("password")


async def test_a_hash_of_argon2_cffis_default_profile_still_verifies() -> None:
    """Hashes made before the strong profile went to one lane keep working."""
    from argon2 import PasswordHasher

    stored = PasswordHasher().hash("password")
    assert "$m=65536,t=3,p=4$" in stored
    assert await Passwords("strong").verify(stored, "password") is True


async def test_a_hash_of_the_earlier_64_mib_one_lane_profile_still_verifies() -> None:
    """Users who signed up under RFC 9106's profile (64 MiB, 3 passes, one lane) log in."""
    from argon2 import PasswordHasher

    stored = PasswordHasher(parallelism=1).hash("password")
    assert "$m=65536,t=3,p=1$" in stored
    assert await Passwords("strong").verify(stored, "password") is True
    assert await Passwords("strong").verify(stored, "wrong") is False


async def test_the_rfc9106_profile_hashes_with_64_mib_and_3_passes_in_one_lane() -> None:
    rfc = Passwords("rfc9106")
    stored = await rfc.hash("a password")
    assert "$m=65536,t=3,p=1$" in stored
    assert await rfc.verify(stored, "a password") is True
    assert await Passwords("strong").verify(stored, "a password") is True


async def test_a_fast_hash_is_verifiable_by_the_strong_hasher() -> None:
    """Argon2 reads its parameters from the hash, so switching profiles keeps old users."""
    stored = await FAST.hash("password")
    assert await Passwords("strong").verify(stored, "password") is True


async def test_strong_profile_roundtrip() -> None:
    strong = Passwords("strong")
    stored = await strong.hash("a strong password")
    assert stored.startswith("$argon2id$")
    assert "$m=19456,t=2,p=1$" in stored  # OWASP's profile, one lane: a hash is one thread
    assert await strong.verify(stored, "a strong password") is True
    assert await strong.verify(stored, "a wrong password") is False
    assert await strong.verify(None, "a strong password") is False


def test_an_unknown_profile_is_refused() -> None:
    with pytest.raises(KeyError):
        Passwords("medium")


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread priority is Linux's")
async def test_hashing_runs_at_a_low_cpu_priority_and_nothing_else_does() -> None:
    """A login flood may only take the CPU the rest of the server leaves idle: its hashing
    threads (whose nice value argon2's lane threads inherit) are at nice 10, while the
    calling thread, the event loop's, keeps its own priority."""
    own = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    passwords = Passwords("fast", concurrency=2)
    try:
        await asyncio.gather(*(passwords.hash("p") for _ in range(4)))
        hashing = [t for t in threading.enumerate() if t.name.startswith("argon2")]
        assert hashing, "the hashes ran on no thread of the pool"
        for thread in hashing:
            assert thread.native_id is not None
            assert os.getpriority(os.PRIO_PROCESS, thread.native_id) == HASHING_NICENESS == 10
        assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == own
    finally:
        passwords.close()


def test_every_profile_the_settings_accept_has_a_hasher() -> None:
    """``GOLDEN_PATH_PASSWORD_HASH`` is read against ``PasswordProfile``; each of its values
    must be a profile here, or a server configured with it would fail at its first login."""
    from typing import get_args

    from golden_path.server.auth.passwords import _HASHERS
    from golden_path.server.config import PasswordProfile

    assert set(_HASHERS) == set(get_args(PasswordProfile))
