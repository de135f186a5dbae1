-- Submissions (báo cáo gửi duyệt), sqlite. Keep in step with ../postgres/0003_submissions.sql.

-- A commune's report of one data set for one period, sent up for review. One row per
-- (org_unit, period, data_set): submitting again after a return re-opens the same row, so the row is
-- the report's current state, never a history. Times are unix seconds.
CREATE TABLE submissions (
    id           TEXT    NOT NULL PRIMARY KEY,
    -- a commune code of a carried unit list
    org_unit     TEXT    NOT NULL,
    -- as protocol::Period: "2023" or "2023-06"
    period       TEXT    NOT NULL,
    -- as protocol::DataSet, snake_case: household | ntm_assessment | indicator_report
    data_set     TEXT    NOT NULL,
    -- submitted | accepted | returned
    state        TEXT    NOT NULL,
    -- the reason of a return, or a note given with an acceptance
    note         TEXT,
    -- non-deleted records of that unit, period and data set when it was (last) submitted
    record_count INTEGER NOT NULL,
    submitted_by TEXT    NOT NULL REFERENCES users (id),
    submitted_at INTEGER NOT NULL,
    decided_by   TEXT    REFERENCES users (id),
    decided_at   INTEGER,
    UNIQUE (org_unit, period, data_set)
);
CREATE INDEX submissions_submitted_at ON submissions (submitted_at);
