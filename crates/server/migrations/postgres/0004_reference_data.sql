-- Reference data the province manages at run time (postgres). Keep in step with ../sqlite/0004_reference_data.sql.
-- Unit lists, criteria sets and target sets are data in the domain crate's formats: a new one is
-- uploaded, checked by the domain's parsers and stored here, and needs no new release. The server
-- carries Sơn La's lists, the NTM set 2021–2025 and the 2023 targets itself; a stored set with a
-- carried set's id replaces it (that is how the province sets requirements). Times are unix seconds;
-- *_by is the administrator's user id.

-- A unit list exactly as uploaded (the TSV of crates/domain/src/org.rs), by its "# id". At start the
-- server adds these to its carried lists in valid_from order; one that no longer fits is logged and
-- skipped. Lists are never replaced: a corrected list gets a new id.
CREATE TABLE unit_lists (
    id          TEXT    NOT NULL PRIMARY KEY,
    text        TEXT    NOT NULL,
    uploaded_by TEXT    NOT NULL REFERENCES users (id),
    uploaded_at BIGINT NOT NULL
);

-- A criteria set (criteria::CriteriaSet as JSON), by its id; replaced whole on each change.
CREATE TABLE criteria_sets (
    id         TEXT    NOT NULL PRIMARY KEY,
    json       TEXT    NOT NULL,
    updated_by TEXT    NOT NULL REFERENCES users (id),
    updated_at BIGINT NOT NULL
);

-- A target set (targets::TargetSet as JSON), by its id; replaced whole on each change.
CREATE TABLE target_sets (
    id         TEXT    NOT NULL PRIMARY KEY,
    json       TEXT    NOT NULL,
    updated_by TEXT    NOT NULL REFERENCES users (id),
    updated_at BIGINT NOT NULL
);
