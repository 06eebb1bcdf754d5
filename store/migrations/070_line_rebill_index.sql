-- 070_line_rebill_index: earlier lines billed again (store/line-rebills.ts) are looked up by
-- line key (code or description stems with the amount) and service date.
CREATE INDEX invoice_lines_rebill_key ON invoice_lines (match_key, service_date);
