"""The frozen per-request context that travels with every stage of the golden path."""

from __future__ import annotations

from dataclasses import dataclass, replace

from golden_path.ids import RequestID, RunID, ThreadID, UserID
from golden_path.tiers import Tier


@dataclass(frozen=True, slots=True)
class UserContext:
    """Who is asking, on which thread, in which run, under which request.

    Values are validated on construction: a ``UserContext`` never holds a
    malformed identifier or an unknown tier.
    """

    user_id: UserID
    tier: Tier
    thread_id: ThreadID | None = None
    run_id: RunID | None = None
    request_id: RequestID | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "user_id", UserID(self.user_id))
        object.__setattr__(self, "tier", Tier.parse(self.tier))
        if self.thread_id is not None:
            object.__setattr__(self, "thread_id", ThreadID(self.thread_id))
        if self.run_id is not None:
            object.__setattr__(self, "run_id", RunID(self.run_id))
        if self.request_id is not None:
            object.__setattr__(self, "request_id", RequestID(self.request_id))

    @classmethod
    def new(cls, tier: Tier = Tier.FREE) -> UserContext:
        """A context for a freshly minted user with no thread, run or request yet."""
        return cls(user_id=UserID.new(), tier=tier)

    def child(
        self,
        *,
        request_id: RequestID | None = None,
        thread_id: ThreadID | None = None,
        run_id: RunID | None = None,
    ) -> UserContext:
        """A context for a new request by the same user.

        The user and tier are kept; the thread is kept unless another is given;
        the run is the one given (a new request never inherits its parent's
        run); the request id is the one given or a freshly minted one.
        """
        return replace(
            self,
            thread_id=thread_id if thread_id is not None else self.thread_id,
            run_id=run_id,
            request_id=request_id if request_id is not None else RequestID.new(),
        )
