-- Each household's class, stored when the record is written (postgres). Keep in step with
-- ../sqlite/0008_household_class.sql.

-- poor | near_poor | average_living_standard | above (thidua_domain::poverty::classify_fields), or
-- unreadable; NULL for other data sets and deleted records. The dashboard counts households by class
-- in SQL instead of reading tens of thousands of records. Rows written before this column existed
-- are filled in at start (Store::backfill_household_classes).
ALTER TABLE records ADD COLUMN household_class TEXT;
CREATE INDEX records_period_data_set_class ON records (period, data_set, org_unit, deleted, household_class);
