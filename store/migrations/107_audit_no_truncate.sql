-- 107_audit_no_truncate: TRUNCATE fires no row triggers, so the append-only audit_log (002) could
-- be emptied, and with audit_heads emptied too the chain verified as empty. Statement-level
-- BEFORE TRUNCATE triggers refuse it on both tables (PGlite runs the same triggers).
CREATE FUNCTION audit_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% cannot be truncated: the audit chain is append-only', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_no_truncate();
CREATE TRIGGER audit_heads_no_truncate BEFORE TRUNCATE ON audit_heads
  FOR EACH STATEMENT EXECUTE FUNCTION audit_no_truncate();
