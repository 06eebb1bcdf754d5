import { describe, expect, it } from 'vitest';
import { candidateOf, makeInvoice } from '../../test/fixtures.js';
import type { LinePairModel } from '../../models/line-pair.js';
import type { CandidateInvoice } from '../../store/repository.js';
import type { EarlierLine } from '../../store/line-rebills.js';
import { createHeuristicDuplicateScorer } from '../heuristic-duplicate.js';
import { DEFAULT_POLICY } from '../policy.js';
import { duplicateMatches } from './decision.js';
import { scoreDuplicates } from './duplicates.js';
import { findLineRebills, LINE_REBILL_SCORE, withLineRebills } from './line-rebills.js';
import { prepare } from './prepare.js';

/** A line-pair model that calls every pair re-billed (score 0.9 against threshold 0.5). */
const everyPair: LinePairModel = {
  version: 'lp-test',
  threshold: 0.5,
  score: () => 0.9,
  contributions: () => ({}),
};

const earlier = (invoiceId: string, lineNumber: number, earlierLineNumber: number): EarlierLine => ({
  lineNumber,
  invoiceId,
  earlierLineNumber,
  earlierInvoiceDate: '2025-01-10',
  cosine: 1,
  code: 'E1390',
  quantity: 1,
  amountCents: 20_000,
  serviceDate: null,
  judgedDate: '2025-01-10',
  deliveryReference: null,
});

/** A transaction answering the line block and the invoices by id, recording what was asked by id. */
function txOf(block: EarlierLine[], stored: CandidateInvoice[]) {
  const asked: string[][] = [];
  return {
    asked,
    tx: {
      findEarlierLines: () => Promise.resolve(block),
      findInvoicesById: (_e: ArrayLike<number>, ids: readonly string[]) => {
        asked.push([...ids]);
        return Promise.resolve(stored.filter((c) => ids.includes(c.invoiceId)));
      },
    },
  };
}

const scorer = createHeuristicDuplicateScorer();
const orig = makeInvoice({ invoice_id: 'orig' });
const other = makeInvoice({ invoice_id: 'other', invoice_number: 'INV-0950', invoice_date: '2025-01-10' });

describe("line-level duplicates in the decision's duplicates list", () => {
  it('lists an earlier invoice found only by its re-billed lines, read from the store when it is no candidate', async () => {
    const p = prepare(makeInvoice({ invoice_id: 'new', invoice_number: 'INV-2044' }));
    const { tx, asked } = txOf([earlier('other', 1, 3)], [candidateOf(other, { sources: [] })]);
    const l = await findLineRebills(tx, p, [], everyPair);
    expect(asked).toEqual([['other']]);
    const d = withLineRebills(await scoreDuplicates(p, [], scorer, DEFAULT_POLICY, 0.3), l);
    expect(d.assessment.reported).toEqual([]);
    const m = duplicateMatches(d, p.invoice, []);
    expect(m).toMatchObject([
      {
        invoice_id: 'other',
        kind: 'lines',
        decision_id: 'd-other',
        earlier_decision: 'AUTO_APPROVE',
        earlier_approved: true,
        earlier_document_type: 'invoice',
        score: LINE_REBILL_SCORE,
        rule: null,
        match_sources: ['line_block'],
        rebilled_lines: [{ line_number: 1, earlier_line_number: 3, score: 0.9 }],
      },
    ]);
    expect(m[0]!.differences.find((x) => x.field === 'invoice_number')?.earlier_value).toBe('INV-0950');
    // The list accounts for the invoice's duplicate score.
    expect(Math.max(...m.map((x) => x.score))).toBe(d.score);
  });

  it('merges a reported pair with its re-billed lines, best first, and asks the store only for the others', async () => {
    const p = prepare({ ...orig, invoice_id: 'again' });
    const block = [earlier('orig', 1, 1), earlier('other', 2, 1)];
    const { tx, asked } = txOf(block, [candidateOf(other, { sources: [] })]);
    const pairs = await scoreDuplicates(p, [candidateOf(orig)], scorer, DEFAULT_POLICY, 0.3);
    const l = await findLineRebills(tx, p, [candidateOf(orig)], everyPair);
    expect(asked).toEqual([['other']]);
    const m = duplicateMatches(withLineRebills(pairs, l), p.invoice, []);
    expect(pairs.score).toBeGreaterThan(LINE_REBILL_SCORE);
    expect(m.map((x) => [x.invoice_id, x.kind, x.score, x.match_sources])).toEqual([
      ['orig', 'invoice_and_lines', pairs.score, ['knn', 'line_block']],
      ['other', 'lines', LINE_REBILL_SCORE, ['line_block']],
    ]);
    expect(m[0]!.rebilled_lines).toEqual([{ line_number: 1, earlier_line_number: 1, score: 0.9 }]);
    // Without re-billed lines the pair alone is listed, as an invoice-level match.
    expect(duplicateMatches(pairs, p.invoice, []).map((x) => [x.invoice_id, x.kind])).toEqual([
      ['orig', 'invoice'],
    ]);
    // Every earlier invoice a candidate: nothing is read by id.
    const all = txOf(block, []);
    await findLineRebills(all.tx, p, [candidateOf(orig), candidateOf(other)], everyPair);
    expect(all.asked).toEqual([]);
  });
});
