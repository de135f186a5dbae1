-- Thi Đua's sync store (SQLite). Keep in step with ../postgres/0001_sync.sql: the server runs the
-- same queries on both, so column names and meanings must match.

-- Units of every carried list, seeded (upserted) at each start from the domain crate's catalog, so
-- reports and ad-hoc SQL can join records to names and the district/province above them.
CREATE TABLE org_units (
    list_id TEXT NOT NULL,
    code    TEXT NOT NULL,
    kind    TEXT NOT NULL,
    name    TEXT NOT NULL,
    parent  TEXT,
    PRIMARY KEY (list_id, code)
);

-- One row per record, as merge::StoredRecord holds it. JSON columns are text so that both
-- databases store exactly what serde_json wrote.
CREATE TABLE records (
    id        TEXT    NOT NULL PRIMARY KEY,
    data_set  TEXT    NOT NULL,
    org_unit  TEXT    NOT NULL,
    period    TEXT    NOT NULL,
    fields    TEXT    NOT NULL,
    stamps    TEXT    NOT NULL,
    conflicts TEXT    NOT NULL,
    deleted   INTEGER NOT NULL,
    -- The server sequence number of the last change; every write takes a fresh one, so it is unique
    -- and pulls page through it.
    revision  INTEGER NOT NULL
);
CREATE UNIQUE INDEX records_revision ON records (revision);
CREATE INDEX records_org_unit_revision ON records (org_unit, revision);

-- The first answer given to each mutation id, so a resent mutation is answered the same and applied
-- at most once.
CREATE TABLE applied_mutations (
    mutation_id TEXT NOT NULL PRIMARY KEY,
    record_id   TEXT NOT NULL,
    response    TEXT NOT NULL
);

-- The server's revision counter: monotonic, advanced only in the transaction that writes a record,
-- never taken from a device clock.
CREATE TABLE server_sequence (
    name  TEXT    NOT NULL PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO server_sequence (name, value) VALUES ('revision', 0);
