-- Evidence photos (postgres). Keep in step with ../sqlite/0006_evidence.sql.
-- A photo is uploaded apart from record sync, in chunks, and resumes where it was cut
-- (crates/server/src/evidence.rs). Every process behind the proxy reads and writes the upload's state
-- here, never in memory, so a chunk may land on any process.

-- One row per photo: announced first with its size and checksum, then filled chunk by chunk.
CREATE TABLE evidence (
    -- the photo's UUID, made on the device and listed in the record's photos field
    id           TEXT    NOT NULL PRIMARY KEY,
    -- the commune it is evidence for: who may upload and read it follows from it
    unit         TEXT    NOT NULL,
    -- the record that lists it (it may reach the server before or after the photo)
    record_id    TEXT    NOT NULL,
    -- bytes of the whole photo, 1 to 5 MiB
    size         BIGINT  NOT NULL,
    -- image/jpeg | image/webp | image/png, served back as is
    content_type TEXT    NOT NULL,
    -- SHA-256 of the whole photo, 64 lower-case hex digits, checked when the last byte arrives
    sha256       TEXT    NOT NULL,
    -- bytes received so far, the offset the next chunk must start at; an append moves it only with
    -- "WHERE received = <the chunk's offset>", so of two copies of one chunk only one is kept
    received     BIGINT  NOT NULL,
    created_by   TEXT    NOT NULL REFERENCES users (id),
    -- unix seconds
    created_at   BIGINT  NOT NULL,
    -- set when all bytes arrived and matched sha256: the photo can then be downloaded
    completed_at BIGINT
);
CREATE INDEX evidence_unit ON evidence (unit);
CREATE INDEX evidence_record ON evidence (record_id);

-- The bytes, one row per chunk as it arrived ("offset" is quoted: a keyword in both databases).
-- Chunks of one photo never overlap and, once complete, cover 0..size exactly.
CREATE TABLE evidence_chunks (
    evidence_id TEXT    NOT NULL REFERENCES evidence (id),
    "offset"    BIGINT  NOT NULL,
    bytes       BYTEA   NOT NULL,
    PRIMARY KEY (evidence_id, "offset")
);
