"""Who a simulated user is: protocol v1's signup, login and upgrade, or a team's login hook.

The default is the customer's way in (docs/protocol.md §3): ``POST /auth/signup``,
``POST /auth/login``, then ``POST /billing/upgrade`` to the tier asked for (a load test's
users need a plan whose daily runs outlast the test: ``enterprise`` by default). A team
whose server signs in otherwise names a hook, ``package.module:callable``, called as
``hook(base_url)`` and returning an access token. It runs inside Locust, so it must use
blocking I/O (``requests``, ``httpx``'s sync client): gevent makes it cooperative.

HTTP goes through ``post``: Locust's session in a simulated user (every call lands in
its statistics), a plain ``requests`` session in the preflight.
"""

from __future__ import annotations

import importlib
import time
import uuid
from collections.abc import Callable
from typing import Any, Protocol

# The reference server's variable (golden_path.server.config.THROTTLE_EXEMPT_ENV, which a
# unit test keeps equal): named here without importing the server.
THROTTLE_EXEMPT_ENV = "GOLDEN_PATH_THROTTLE_EXEMPT"
PASSWORD = "golden-path-load-password"  # noqa: S105 - throwaway accounts on a server under load
EMAIL_DOMAIN = "load.golden-path.test"
THROTTLED = 429
BUSY = 503  # the server's password-hashing queue is full (docs/protocol.md §3.8): try again
BUSY_TRIES = 8
BUSY_WAIT_MAX_S = 5.0

LoginHook = Callable[[str], str]


class Answer(Protocol):
    """What ``post`` returns: a ``requests.Response`` (Locust's included)."""

    @property
    def status_code(self) -> int: ...

    @property
    def text(self) -> str: ...

    def json(self) -> Any: ...


Post = Callable[[str, dict[str, Any], str | None], Answer]


class SignInError(Exception):
    """A simulated user could not sign in; the message says which call and why."""


def load_hook(spec: str) -> LoginHook:
    """The callable ``package.module:callable`` names; a clear error for anything else."""
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise SignInError(f"login hook {spec!r}: expected package.module:callable")
    try:
        target: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise SignInError(f"login hook {spec!r}: {exc}") from exc
    if not callable(target):
        raise SignInError(f"login hook {spec!r}: {attribute} is not callable")
    hook: LoginHook = target
    return hook


def _body(answer: Answer, method_path: str, base_url: str) -> dict[str, Any]:
    if answer.status_code == THROTTLED:
        raise SignInError(
            f"{method_path} answered 429: the server throttles this machine's signups and "
            f"logins. Exempt its address on {base_url} with {THROTTLE_EXEMPT_ENV}=<its CIDR "
            "block> (comma-separated; the server logs it at start)"
        )
    if not 200 <= answer.status_code < 300:
        raise SignInError(f"{method_path} answered {answer.status_code}: {answer.text[:300]}")
    try:
        body = answer.json()
    except ValueError:
        raise SignInError(
            f"{method_path} answered {answer.status_code} with no JSON: {answer.text[:300]!r}"
        ) from None
    if not isinstance(body, dict):
        raise SignInError(f"{method_path} answered {body!r}, not a JSON object")
    return body


def _token(body: dict[str, Any], method_path: str) -> str:
    token = body.get("access_token")
    if not isinstance(token, str) or not token:
        raise SignInError(f"{method_path} answered no access_token: {str(body)[:300]}")
    return token


def _patient(post: Post, sleep: Callable[[float], None]) -> Post:
    """``post``, tried again after a 503 (the server's hashing queue was full), up to
    :data:`BUSY_TRIES` times, waiting its ``Retry-After`` (at most :data:`BUSY_WAIT_MAX_S`)."""

    def call(path: str, body: dict[str, Any], token: str | None) -> Answer:
        for attempt in range(1, BUSY_TRIES + 1):
            answer = post(path, body, token)
            if answer.status_code != BUSY or attempt == BUSY_TRIES:
                return answer
            headers = getattr(answer, "headers", None) or {}
            try:
                wait = float(headers.get("retry-after", 0.5))
            except ValueError:
                wait = 0.5
            sleep(min(max(wait, 0.05), BUSY_WAIT_MAX_S))
        raise AssertionError("unreachable")

    return call


def sign_in(
    post: Post,
    base_url: str,
    tier: str,
    hook: LoginHook | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """An access token for a fresh user of ``tier`` (or the hook's token).

    A 503 (the server's password-hashing queue is full, as when many users sign up at
    once) is tried again after its ``Retry-After``; under Locust, gevent makes the wait
    cooperative.
    """
    post = _patient(post, sleep)
    if hook is not None:
        token = hook(base_url)
        if not isinstance(token, str) or not token:
            raise SignInError(f"the login hook returned {token!r}, not an access token")
        return token
    email = f"load-{uuid.uuid4().hex}@{EMAIL_DOMAIN}"
    credentials = {"email": email, "password": PASSWORD}
    _body(post("/auth/signup", credentials, None), "POST /auth/signup", base_url)
    token = _token(
        _body(post("/auth/login", credentials, None), "POST /auth/login", base_url),
        "POST /auth/login",
    )
    if tier and tier != "free":
        upgraded = post("/billing/upgrade", {"tier": tier}, token)
        token = _token(_body(upgraded, "POST /billing/upgrade", base_url), "POST /billing/upgrade")
    return token
