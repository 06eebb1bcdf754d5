-- Copy c (1-9) of a `spread` history of 100,000 invoices (bench/history-file.ts 100000 F f 10
-- spread, imported with bench/history-cli.ts): invoice i becomes invoice i + c * 100000 with the
-- date and line quantities bench/history.ts `tenLineInvoice` gives that index (its `mix`, below,
-- in 32-bit arithmetic), its ids, number and lot numbers, and the embeddings of invoice i (the
-- same text up to the lot number). Nine copies make the 1M history in minutes instead of the
-- hours an import takes on a loaded machine (BENCHMARKS.md, branch lb1m). Run on a copy of the
-- 100k database with its secondary indexes dropped, then build them, VACUUM (ANALYZE) invoices,
-- invoice_line_keys and ANALYZE invoice_lines:
--   psql -v c=1 -d DB -f bench/history-copies.sql   (c = 1..9; copies may run in parallel)
\set ON_ERROR_STOP 1
SET synchronous_commit = off;
CREATE FUNCTION pg_temp.mul32(x bigint, y bigint) RETURNS bigint LANGUAGE sql IMMUTABLE
  AS $$ SELECT ((x::numeric * y::numeric) % 4294967296)::bigint $$;
CREATE FUNCTION pg_temp.mix(a bigint, b bigint) RETURNS bigint LANGUAGE sql IMMUTABLE
  AS $$ SELECT pg_temp.mul32(h # (h >> 15), 2246822507)
          FROM (SELECT pg_temp.mul32(a # pg_temp.mul32(b + 1, 2654435761), 2654435761) AS h) s $$;
CREATE TEMP TABLE src AS
  SELECT pk, substring(invoice_id from 3)::int AS i FROM invoices
   WHERE tenant_id = 'default' AND invoice_id ~ '^f-[0-9]+$' AND substring(invoice_id from 3)::int < 100000;
BEGIN;
CREATE TEMP TABLE m ON COMMIT DROP AS
  SELECT s.pk AS src, s.i + :c * 100000 AS j,
         ('01b00000-0000-7000-8000-' || lpad(to_hex(s.i + :c * 100000), 12, '0'))::uuid AS pk,
         '2024-01-01'::date + (pg_temp.mix(s.i + :c * 100000, 97) % 730)::int AS d
    FROM src s;
INSERT INTO invoices (pk, tenant_id, invoice_id, payload, payload_sha256, vendor_id, vendor_name, vendor_key,
    vendor_tax_id, vendor_npi, invoice_number, invoice_number_normalised, invoice_number_canonical, invoice_date,
    due_date, currency, total_cents, document_type, po_number, facility_id, service_period_start,
    service_period_end, embedding, created_at, reverses_invoice_pk, indexed_as)
SELECT x.pk, s.tenant_id, 'f-' || x.j, x.payload, encode(sha256(convert_to(x.payload::text, 'UTF8')), 'hex'),
       s.vendor_id, s.vendor_name, s.vendor_key, s.vendor_tax_id, s.vendor_npi, 'INV-f-' || x.j,
       regexp_replace(s.invoice_number_normalised, '[0-9]+', x.j::text),
       regexp_replace(s.invoice_number_canonical, '[0-9]+', x.j::text), x.d,
       s.due_date + (x.d - s.invoice_date), s.currency, x.total, s.document_type, s.po_number, s.facility_id,
       s.service_period_start + (x.d - s.invoice_date), s.service_period_end + (x.d - s.invoice_date),
       s.embedding, now(), NULL, s.indexed_as
  FROM (SELECT m.*, l.total,
               s.payload || jsonb_build_object('invoice_id', 'f-' || m.j, 'invoice_number', 'INV-f-' || m.j,
                 'invoice_date', m.d::text, 'total_cents', l.total, 'lines', l.lines) AS payload
          FROM m JOIN invoices s ON s.pk = m.src
         CROSS JOIN LATERAL (
           SELECT jsonb_agg(e || jsonb_build_object('quantity', q.q,
                    'amount_cents', q.q * (e->>'unit_price_cents')::bigint,
                    'description', regexp_replace(e->>'description', 'lot [0-9]+x', 'lot ' || m.j || 'x')) ORDER BY n) AS lines,
                  sum(q.q * (e->>'unit_price_cents')::bigint) AS total
             FROM jsonb_array_elements(s.payload->'lines') WITH ORDINALITY t(e, n)
            CROSS JOIN LATERAL (SELECT 1 + pg_temp.mix(m.j, n - 1) % 8 AS q) q) l) x
  JOIN invoices s ON s.pk = x.src
 ORDER BY x.pk;
INSERT INTO invoice_lines (invoice_pk, tenant_id, vendor_key, vendor_id, invoice_date, invoice_id, document_type,
    total_cents, service_period_start, line_number, description,
    code_system, code, modifiers, quantity, unit_price_cents, amount_cents, service_date, match_key, embedding,
    delivery_reference, in_baseline)
SELECT m.pk, ni.tenant_id, ni.vendor_key, ni.vendor_id, ni.invoice_date, ni.invoice_id, ni.document_type, ni.total_cents,
       ni.service_period_start, l.line_number, regexp_replace(l.description, 'lot [0-9]+x', 'lot ' || m.j || 'x'), l.code_system,
       l.code, l.modifiers, q.q, l.unit_price_cents, q.q * l.unit_price_cents, l.service_date,
       split_part(l.match_key, '|', 1) || '|' || (q.q * l.unit_price_cents), l.embedding, l.delivery_reference, l.in_baseline
  FROM m JOIN invoice_lines l ON l.invoice_pk = m.src
  JOIN invoices ni ON ni.pk = m.pk
 CROSS JOIN LATERAL (SELECT 1 + pg_temp.mix(m.j, l.line_number - 1) % 8 AS q) q
 ORDER BY m.pk, l.line_number;
COMMIT;
