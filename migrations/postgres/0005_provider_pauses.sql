-- A third-party API every instance must stop calling for a while (Garmin answered 429): one row
-- per provider, shared through the store so that no instance keeps knocking.
CREATE TABLE provider_pauses (
    provider   TEXT PRIMARY KEY,
    until      TIMESTAMPTZ NOT NULL,
    reason     TEXT NOT NULL
);
