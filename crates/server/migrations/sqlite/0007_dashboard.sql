-- The dashboard, completeness and devices (sqlite). Keep in step with ../postgres/0007_dashboard.sql.

-- The dashboard reads a period's records (all communes, or a district's), the drill-down one
-- commune's records of a period and data set.
CREATE INDEX records_period_unit_data_set ON records (period, org_unit, data_set);

-- The devices that sync, one row per device (a browser profile): who used it last, for which unit,
-- and when it last pushed and pulled (unix seconds, the server's clock). Each push or pull writes its
-- row once. A pull that does not name its device (no X-Thidua-Device header) refreshes the devices
-- that pushed with the same session.
CREATE TABLE devices (
    device_id    TEXT    NOT NULL PRIMARY KEY,
    user_id      TEXT    NOT NULL REFERENCES users (id),
    -- the account's unit when it last synced: a commune officer's commune
    org_unit     TEXT    NOT NULL,
    -- SHA-256 of the session token it last synced with
    session_hash TEXT,
    last_push_at INTEGER,
    last_pull_at INTEGER
);
CREATE INDEX devices_org_unit ON devices (org_unit);
CREATE INDEX devices_session_hash ON devices (session_hash);
