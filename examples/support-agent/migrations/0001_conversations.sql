-- The support desk's conversations: one per AG-UI thread, owned by the customer who opened it.
CREATE TABLE conversations (
    id text PRIMARY KEY,
    customer text NOT NULL,
    plan text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- What was said: the customer's messages and the agent's finished answers (an answer whose
-- run failed is never stored).
CREATE TABLE messages (
    id bigserial PRIMARY KEY,
    conversation_id text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    run_id text NOT NULL,
    role text NOT NULL CHECK (role IN ('customer', 'agent')),
    content text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_by_conversation ON messages (conversation_id, id);
