"""The HTTP half of protocol v1 (httpx): accounts, tokens, tiers and the read API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from golden_path.errors import GoldenPathError

DEFAULT_TIMEOUT_S = 30.0


class ApiError(GoldenPathError):
    """A non-2xx answer: the status and the server's detail."""

    def __init__(self, method: str, path: str, status: int, detail: Any) -> None:
        super().__init__(f"{method} {path} answered {status}: {detail}")
        self.status = status
        self.detail = detail


@dataclass(frozen=True, slots=True)
class TokenSet:
    access_token: str
    refresh_token: str
    expires_in: int

    @classmethod
    def from_answer(cls, body: dict[str, Any]) -> TokenSet:
        return cls(body["access_token"], body["refresh_token"], int(body["expires_in"]))


class GoldenPathHTTP:
    """``async with GoldenPathHTTP(base_url) as api: await api.signup(...)``."""

    def __init__(
        self,
        base_url: str,
        timeout: float = DEFAULT_TIMEOUT_S,
        *,
        local_address: str | None = None,
    ) -> None:
        """``local_address``: the address to connect from (say ``127.0.3.1``, to be one more
        client address to a server on loopback, with per-IP throttles of its own)."""
        self.base_url = base_url.rstrip("/")
        transport = httpx.AsyncHTTPTransport(local_address=local_address) if local_address else None
        self._client = httpx.AsyncClient(
            base_url=self.base_url, timeout=timeout, transport=transport
        )

    async def __aenter__(self) -> GoldenPathHTTP:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json: Any = None,
        params: dict[str, Any] | None = None,
        expect: tuple[int, ...] = (200,),
    ) -> httpx.Response:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        response = await self._client.request(
            method, path, headers=headers, json=json, params=clean
        )
        if response.status_code not in expect:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text
            raise ApiError(method, path, response.status_code, detail)
        return response

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.request(method, path, **kwargs)
        return response.json() if response.content else None

    async def signup(self, email: str, password: str) -> dict[str, Any]:
        body = {"email": email, "password": password}
        result: dict[str, Any] = await self.call("POST", "/auth/signup", json=body, expect=(201,))
        return result

    async def login(self, email: str, password: str) -> TokenSet:
        body = {"email": email, "password": password}
        return TokenSet.from_answer(await self.call("POST", "/auth/login", json=body))

    async def refresh(self, refresh_token: str) -> TokenSet:
        body = {"refresh_token": refresh_token}
        return TokenSet.from_answer(await self.call("POST", "/auth/refresh", json=body))

    async def logout(self, access_token: str) -> None:
        await self.request("POST", "/auth/logout", token=access_token, expect=(204,))

    async def ws_ticket(self, access_token: str) -> str:
        answer = await self.call("POST", "/auth/ws-ticket", token=access_token)
        return str(answer["ticket"])

    async def upgrade(self, access_token: str, tier: str) -> TokenSet:
        answer = await self.call(
            "POST", "/billing/upgrade", token=access_token, json={"tier": tier}
        )
        return TokenSet.from_answer(answer)

    async def threads(self, access_token: str, **params: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self.call(
            "GET", "/threads", token=access_token, params=params
        )
        return result

    async def thread(self, access_token: str, thread_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("GET", f"/threads/{thread_id}", token=access_token)
        return result

    async def archive(self, access_token: str, thread_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.call(
            "POST", f"/threads/{thread_id}/archive", token=access_token
        )
        return result

    async def run(self, access_token: str, run_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("GET", f"/runs/{run_id}", token=access_token)
        return result

    async def events(self, access_token: str, after_seq: int = 0) -> dict[str, Any]:
        result: dict[str, Any] = await self.call(
            "GET", "/events", token=access_token, params={"after_seq": after_seq}
        )
        return result

    async def search(self, access_token: str, q: str, **params: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self.call(
            "GET", "/search", token=access_token, params={"q": q, **params}
        )
        return result

    async def usage(self, access_token: str, **params: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("GET", "/usage", token=access_token, params=params)
        return result
