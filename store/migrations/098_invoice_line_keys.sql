-- 098_invoice_line_keys: the line match keys of each invoice, in line order, as one compact row.
-- The candidate search (store/candidates.ts) returns every candidate's line match keys for the
-- pair features; read from `invoice_lines` that was an index descent plus one or two heap pages
-- of the widest table (about 700 bytes a line with its embedding) per candidate, about 70
-- candidates per search, mostly read from disk at 1M indexed invoices (BENCHMARKS.md "Vendor
-- block in index order", "Candidate read at 1M"). Here they are one row of about 300 bytes.
-- A statement-level trigger on `invoice_lines` keeps it for every writer (scoring, batches,
-- the history import's COPY); an invoice whose lines arrive in several statements gets its
-- keys recomputed from all of them. Invoices and lines are never updated, so inserts suffice.
CREATE TABLE invoice_line_keys (
  invoice_pk uuid PRIMARY KEY REFERENCES invoices (pk) ON DELETE CASCADE,
  match_keys text[] NOT NULL
);

INSERT INTO invoice_line_keys (invoice_pk, match_keys)
  SELECT invoice_pk, array_agg(match_key ORDER BY line_number) FROM invoice_lines GROUP BY invoice_pk;

CREATE FUNCTION index_invoice_line_keys() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO invoice_line_keys AS k (invoice_pk, match_keys)
    SELECT invoice_pk, array_agg(match_key ORDER BY line_number) FROM new_lines GROUP BY invoice_pk
  ON CONFLICT (invoice_pk) DO UPDATE SET match_keys = (
    SELECT array_agg(l.match_key ORDER BY l.line_number) FROM invoice_lines l WHERE l.invoice_pk = k.invoice_pk);
  RETURN NULL;
END
$$;

CREATE TRIGGER invoice_lines_index_keys AFTER INSERT ON invoice_lines
  REFERENCING NEW TABLE AS new_lines
  FOR EACH STATEMENT EXECUTE FUNCTION index_invoice_line_keys();
