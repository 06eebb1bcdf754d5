-- 103_line_in_baseline: whether each stored line is counted in its vendor's quantity and
-- unit-price histograms (vendor_code_bins), so that a review adds or takes out a line exactly once
-- (store/baseline-lines.ts). The scoring writes set it per line from the decision's reasons; the
-- default (true) is the history import's, whose lines all feed the baselines.
ALTER TABLE invoice_lines ADD COLUMN in_baseline boolean NOT NULL DEFAULT true;

-- Lines stored before: counted when their invoice was auto-approved (or imported as history), or
-- when a reviewer closed its item as a coding false positive.
UPDATE invoice_lines l SET in_baseline = false
  FROM decisions d
 WHERE d.invoice_pk = l.invoice_pk
   AND d.decision <> 'AUTO_APPROVE'
   AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.id = d.closed_by_review
                      AND r.outcome = 'false_positive' AND r.task = 'coding-mismatch');
