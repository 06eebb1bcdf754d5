-- 012: widen decisions.priority from numeric(14, 2) to numeric(20, 2). Priority is dollars and
-- sums line amounts and gaps: an invoice within the documented limits (2000 lines of up to
-- 10^13 cents, a total that misses their sum) reaches about 6 x 10^14 dollars, beyond the
-- 10^12 of numeric(14, 2), and its insert failed with 22003 (numeric field overflow).
ALTER TABLE decisions ALTER COLUMN priority TYPE numeric(20, 2);
