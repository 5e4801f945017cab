-- Every trip a traveller asked for, its tool calls and its answer.
CREATE TABLE trips (
    id          uuid PRIMARY KEY,
    traveller   text NOT NULL,
    plan        text NOT NULL,
    request     text NOT NULL,
    answer      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX trips_by_traveller ON trips (traveller, created_at);

CREATE TABLE tool_calls (
    trip_id     uuid NOT NULL REFERENCES trips (id) ON DELETE CASCADE,
    position    int NOT NULL,
    name        text NOT NULL,
    arguments   jsonb NOT NULL,
    result      jsonb NOT NULL,
    PRIMARY KEY (trip_id, position)
);
