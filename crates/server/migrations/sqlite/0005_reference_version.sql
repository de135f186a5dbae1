-- The version of the reference data (sqlite). Keep in step with ../postgres/0005_reference_version.sql.
-- Every change to unit_lists, criteria_sets or target_sets adds one to it in the same transaction.
-- Each server process keeps the reference data in memory with the version it read; before using its
-- copy it compares that with this row and reloads when they differ, so with several processes on one
-- database an upload through one is in force on all of them from the next request on
-- (crates/server/src/reference.rs). A change locks this row first, so changes from different
-- processes are made one after the other, each on the latest version.
INSERT INTO server_sequence (name, value) VALUES ('reference_data', 0);
