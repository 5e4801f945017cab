-- Every tool the agent ran for a conversation, with its arguments and what it answered:
-- the audit trail of refunds and look-ups, failed ones included.
CREATE TABLE tool_calls (
    id bigserial PRIMARY KEY,
    conversation_id text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    run_id text NOT NULL,
    tool_call_id text NOT NULL,
    tool text NOT NULL,
    arguments jsonb NOT NULL,
    ok boolean NOT NULL,
    result text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (conversation_id, tool_call_id)
);
