-- The system of record of protocol v1: users, threads, messages, runs, events, usage.
-- Identifiers are the protocol's own strings (usr_..., thr_..., ...), so what the
-- database holds is exactly what the wire shows.

CREATE TABLE users (
    id            text PRIMARY KEY,
    email         text NOT NULL,
    password_hash text NOT NULL,
    tier          text NOT NULL DEFAULT 'free'
                  CHECK (tier IN ('free', 'early', 'mid', 'enterprise')),
    last_seq      bigint NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE threads (
    id               text PRIMARY KEY,
    user_id          text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title            text NOT NULL DEFAULT '',
    archived         boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    last_activity_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX threads_user_activity ON threads (user_id, archived, last_activity_at DESC, id DESC);

CREATE TABLE runs (
    id            text PRIMARY KEY,
    user_id       text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    thread_id     text NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    request_id    text NOT NULL,
    message_id    text NOT NULL,
    status        text NOT NULL DEFAULT 'running'
                  CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled', 'interrupted')),
    result        jsonb,
    error_code    text,
    input_tokens  integer NOT NULL DEFAULT 0,
    output_tokens integer NOT NULL DEFAULT 0,
    cost_usd      numeric(14, 6) NOT NULL DEFAULT 0,
    node_id       text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    UNIQUE (user_id, request_id)
);
CREATE INDEX runs_user_status ON runs (user_id, status);
CREATE INDEX runs_running ON runs (status) WHERE status = 'running';

CREATE TABLE messages (
    id         text PRIMARY KEY,
    user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    thread_id  text NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    run_id     text,
    role       text NOT NULL CHECK (role IN ('user', 'assistant')),
    content    text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- Slashes split words ("tokens/day" is two words, not a file path to the parser).
    search     tsvector GENERATED ALWAYS AS
               (to_tsvector('english', translate(content, '/\', '  '))) STORED
);
CREATE INDEX messages_thread ON messages (thread_id, created_at, id);
CREATE INDEX messages_user_created ON messages (user_id, created_at);
CREATE INDEX messages_search ON messages USING gin (search);

-- One row per event, numbered per user: (user_id, seq) is the user's stream.
CREATE TABLE events (
    user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    seq        bigint NOT NULL,
    event_id   text NOT NULL UNIQUE,
    run_id     text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    type       text NOT NULL,
    payload    jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, seq)
);
CREATE INDEX events_run ON events (run_id, seq);

-- The usage ledger: a run is billed exactly once (its id is the key). It outlives the
-- run's history: retention purges conversations, never what was billed.
CREATE TABLE usage_ledger (
    run_id        text PRIMARY KEY,
    user_id       text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    day           date NOT NULL,
    input_tokens  integer NOT NULL,
    output_tokens integer NOT NULL,
    cost_usd      numeric(14, 6) NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX usage_user_day ON usage_ledger (user_id, day);
