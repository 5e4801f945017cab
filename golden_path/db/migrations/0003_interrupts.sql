-- AG-UI runs paused for the user's approval (protocol §12.1): one row per pause. The run
-- stays 'running' while its interrupt is open (answered_by NULL); the run that answers it
-- is recorded by its request id, so answering twice is refused and a retry replays.
CREATE TABLE interrupts (
    id           text PRIMARY KEY,
    user_id      text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    run_id       text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    thread_id    text NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    tool_call_id text NOT NULL,
    tool_name    text NOT NULL,
    seq          bigint NOT NULL,  -- the seq of the tool_executing event the run paused at
    state        jsonb NOT NULL,   -- what the run needs to go on from there
    answered_by  text,
    approved     boolean,
    created_at   timestamptz NOT NULL DEFAULT now(),
    answered_at  timestamptz
);
CREATE INDEX interrupts_run ON interrupts (run_id);
CREATE INDEX interrupts_open ON interrupts (run_id) WHERE answered_by IS NULL;

ALTER TABLE interrupts ENABLE ROW LEVEL SECURITY;
ALTER TABLE interrupts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON interrupts
    USING (golden_path_may_see(user_id)) WITH CHECK (golden_path_may_see(user_id));

DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'golden_path_app') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON interrupts TO golden_path_app;
    END IF;
END
$$;
