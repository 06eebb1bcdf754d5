/**
 * End to end on the shipped samples, through the CLI's scoreFile on the embedded store:
 * the SROIE receipts known to share company, date and total must be flagged as duplicates of
 * each other; the labelled exceptions of the HCPCS samples must be caught with the right reason.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { scoreFile, type ScoreSummary } from '../bin/cli.js';
import { packageRoot } from '../core/paths.js';
import type { DecisionResponse } from '../core/decision.js';

const samples = join(packageRoot(), 'datasets', 'samples');
const readDecisions = (file: string): Map<string, DecisionResponse> =>
  new Map(
    readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as DecisionResponse)
      .map((d) => [d.invoice_id, d]),
  );

describe('SROIE receipts', () => {
  let summary: ScoreSummary;
  let decisions: Map<string, DecisionResponse>;
  let order: string[];

  beforeAll(async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sroie-')), 'decisions.jsonl');
    summary = await scoreFile(join(samples, 'sroie_invoices.jsonl'), { store: { engine: 'pglite' }, out });
    decisions = readDecisions(out);
    order = [...decisions.keys()]; // file order = scoring order
  }, 300_000);

  it('scores all 626 receipts', () => {
    expect(summary).toMatchObject({ invoices: 626, scored: 626, invalid: [] });
  });

  it('flags every known same-company/date/total group as duplicates of each other', () => {
    const rows = parse(readFileSync(join(samples, 'sroie_same_company_date_total_groups.csv'), 'utf8'), {
      columns: true,
    }) as {
      group_id: string;
      key: string;
    }[];
    const groups = new Map<string, string[]>();
    for (const r of rows) groups.set(r.group_id, [...(groups.get(r.group_id) ?? []), `sroie-${r.key}`]);
    expect(groups.size).toBe(8);
    // Group 14 is two photocopy sales at one shop on one day with receipt numbers two apart
    // (CS-SA-0097491, CS-SA-0097493): two bills by the sequential-numbers rule
    // (inference/duplicate-detector.ts), like separate deliveries numbered in sequence.
    const twoBills = new Set(['14']);
    for (const [gid, members] of groups) {
      const [a, b] = (members as [string, string]).sort((x, y) => order.indexOf(x) - order.indexOf(y));
      const earlier = a;
      const later = decisions.get(b)!;
      if (twoBills.has(gid)) {
        expect(
          later.duplicates.map((d) => d.invoice_id),
          `group ${gid}`,
        ).not.toContain(earlier);
        continue;
      }
      // The later-scored member names the earlier one as its duplicate, with a duplicate reason.
      expect(later.duplicates[0]?.invoice_id, `group ${gid}`).toBe(earlier);
      expect(later.decision, `group ${gid}`).not.toBe('AUTO_APPROVE');
      expect(
        later.reasons.some((r) => r.code.startsWith('DUPLICATE_')),
        `group ${gid}`,
      ).toBe(true);
    }
    // Precision on this set: no flagged duplicate outside the known groups.
    const known = new Set(rows.map((r) => `sroie-${r.key}`));
    const extra = summary.duplicates.filter((d) => !known.has(d.invoice_id));
    expect(extra).toEqual([]);
  });
});

describe('HCPCS sample invoices', () => {
  it('heuristics: catch each labelled exception with its reason and approve the rest', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'hcpcs-')), 'decisions.jsonl');
    const summary = await scoreFile(join(samples, 'hcpcs_invoices.jsonl'), {
      store: { engine: 'pglite' },
      out,
      models: null,
    });
    const decisions = readDecisions(out);
    const labels = readFileSync(join(samples, 'hcpcs_invoices.labels.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as { invoice_id: string; kind: string; line_number?: number; duplicate_of?: string },
      );
    const expected: Record<string, string> = {
      description_mismatch: 'DESCRIPTION_CODE_MISMATCH',
      terminated_code: 'CODE_TERMINATED',
      price_outlier: 'PRICE_ABOVE_FEE_SCHEDULE',
      exact_duplicate: 'DUPLICATE_SAME_NUMBER',
      rekeyed_duplicate: 'DUPLICATE_SAME_NUMBER',
    };
    for (const label of labels) {
      const d = decisions.get(label.invoice_id)!;
      if (label.kind === 'hard_negative') {
        expect(d.decision, label.invoice_id).toBe('AUTO_APPROVE');
        continue;
      }
      const code = expected[label.kind]!;
      expect(
        d.reasons.map((r) => r.code),
        label.invoice_id,
      ).toContain(code);
      if (label.line_number !== undefined) {
        expect(
          d.lines.find((l) => l.line_number === label.line_number)!.reasons.map((r) => r.code),
        ).toContain(code);
      }
      if (label.duplicate_of) {
        expect(d.decision).toBe('HOLD');
        expect(d.duplicates[0]!.invoice_id).toBe(label.duplicate_of);
      } else {
        expect(d.decision).toBe('REVIEW');
        expect(d.queue).toBe('coding');
      }
    }
    const flagged = [...decisions.values()]
      .filter((d) => d.decision !== 'AUTO_APPROVE')
      .map((d) => d.invoice_id);
    const labelled = new Set(labels.filter((l) => l.kind !== 'hard_negative').map((l) => l.invoice_id));
    expect(flagged.filter((id) => !labelled.has(id))).toEqual([]);
    expect(summary.scored).toBe(decisions.size);
  });

  // The shipped champions were trained on the generated benchmark, not on these hand-built
  // invoices (other vendors, prices and phrasing): they must still catch every seeded exception;
  // their false alarms here are bounded by issue 14's target of 3 of 51 clean invoices, hard negatives
  // included (measured 2 of 51 with coding-mismatch@4 under the served default policy).
  it('shipped champions: catch every labelled exception, at most 3 false alarms of 51 clean invoices', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'hcpcs-')), 'decisions.jsonl');
    await scoreFile(join(samples, 'hcpcs_invoices.jsonl'), { store: { engine: 'pglite' }, out });
    const decisions = readDecisions(out);
    const labels = readFileSync(join(samples, 'hcpcs_invoices.labels.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { invoice_id: string; kind: string; duplicate_of?: string });
    const exceptions = labels.filter((l) => l.kind !== 'hard_negative');
    expect(exceptions).toHaveLength(9);
    for (const label of exceptions) {
      const d = decisions.get(label.invoice_id)!;
      expect(d.versions.models['coding-mismatch'], label.invoice_id).toBe('coding-mismatch@4');
      expect(d.decision, label.invoice_id).not.toBe('AUTO_APPROVE');
      if (label.duplicate_of) {
        expect(d.decision).toBe('HOLD');
        expect(d.queue).toBe('ap');
        expect(d.duplicates[0]!.invoice_id).toBe(label.duplicate_of);
      } else expect(d.queue, label.invoice_id).toBe('coding');
    }
    const labelled = new Set(exceptions.map((l) => l.invoice_id));
    const clean = [...decisions.values()].filter((d) => !labelled.has(d.invoice_id));
    expect(clean).toHaveLength(51);
    const falseAlarms = clean.filter((d) => d.decision !== 'AUTO_APPROVE');
    expect(falseAlarms.length).toBeLessThanOrEqual(3);
    // The two README states (2 of 51, "hand-built samples" in its guarantee section): a change
    // here is a change of the served default's behaviour.
    expect(falseAlarms.map((d) => d.invoice_id).sort()).toEqual(['hc-2025-0010', 'hc-2025-0046']);
  });
});
