/**
 * Vendor baselines fed per line (store/baseline-lines.ts), on both engines: which lines of a
 * scored invoice enter its vendor's quantity and unit-price histograms, through the single and
 * the batch scoring write, and how reviews add, take out and restore lines exactly once.
 */
import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { ReviewInput } from '../store/reviews.js';
import { reviewedBaselineLines, scoredBaselineLines } from '../store/baseline-lines.js';
import type { DecisionResponse, Reason } from '../core/decision.js';
import type { Invoice } from '../core/invoice.js';
import { decisionFor, engines, keysOf, makeInvoice } from './fixtures.js';
import { useStore } from './harness.js';

const CODES = ['E1390', 'E0570', 'A4253'] as const;

/** An invoice of `vendorId` with one line per code of {@link CODES} (line n bills CODES[n-1]). */
function threeLines(id: string, vendorId: string): Invoice {
  return makeInvoice({
    invoice_id: id,
    invoice_number: `N-${id}`,
    vendor: { id: vendorId, name: `Supplier ${vendorId}` },
    lines: CODES.map((c, i) => ({
      line_number: i + 1,
      description: `Supply item ${c}`,
      code: { system: 'HCPCS', value: c },
      quantity: 2,
      unit_price_cents: 1_000,
      amount_cents: 2_000,
    })),
    total_cents: 6_000,
  } as Partial<Invoice>);
}

const why = (code: Reason['code'], evidence: Record<string, unknown> = {}, weight = 0.6): Reason => ({
  code,
  message: code,
  weight,
  evidence,
});

/** A decision of `inv` routed `kind` with invoice reasons and per-line reasons. */
function decided(
  inv: Invoice,
  kind: DecisionResponse['decision'],
  reasons: Reason[] = [],
  lineReasons: Record<number, Reason[]> = {},
): DecisionResponse {
  return {
    ...decisionFor(inv, kind),
    ...(kind === 'AUTO_APPROVE' ? {} : { queue: 'ap' as const }),
    reasons,
    lines: inv.lines.map((l) => ({
      line_number: l.line_number,
      coding_mismatch: 0.01,
      reasons: lineReasons[l.line_number] ?? [],
      suggested_codes: [],
    })),
  };
}

describe('the baseline rule', () => {
  const inv = threeLines('rule', 'V-RULE');
  it('lets in every line but those with a reason of their own or of a duplicate', () => {
    expect(scoredBaselineLines(decided(inv, 'AUTO_APPROVE'), inv.lines)).toEqual(new Set([1, 2, 3]));
    const po = decided(inv, 'HOLD', [why('PO_UNKNOWN'), why('PRICE_ABOVE_PO', { line_number: 3 })]);
    expect(scoredBaselineLines(po, inv.lines)).toEqual(new Set([1, 2]));
    const coding = decided(inv, 'REVIEW', [], { 2: [why('CODING_MODEL_RISK', {}, 0.4)] });
    expect(scoredBaselineLines(coding, inv.lines)).toEqual(new Set([1, 3]));
    // A weightless reason is no flag.
    const weightless = decided(inv, 'REVIEW', [], { 2: [why('CODING_MODEL_RISK', {}, 0)] });
    expect(scoredBaselineLines(weightless, inv.lines)).toEqual(new Set([1, 2, 3]));
    const dup = decided(inv, 'HOLD', [why('DUPLICATE_SUSPECTED', {}, 0.99)]);
    expect(scoredBaselineLines(dup, inv.lines)).toEqual(new Set());
    const rebill = decided(inv, 'REVIEW', [why('LINE_REBILLED', { lines: [{ line_number: 1 }] }, 0.05)]);
    expect(scoredBaselineLines(rebill, inv.lines)).toEqual(new Set([2, 3]));
  });

  it('lets the latest verdict on each question win', () => {
    const coding = decided(inv, 'REVIEW', [], { 2: [why('CODING_MODEL_RISK', {}, 0.4)] });
    const r =
      (task: 'coding-mismatch' | 'duplicate' | 'other', outcome: 'confirmed' | 'false_positive') =>
      (lineNumber: number | null) => ({ task, outcome, lineNumber });
    const fp = r('coding-mismatch', 'false_positive');
    const confirmed = r('coding-mismatch', 'confirmed');
    expect(reviewedBaselineLines(coding, inv.lines, [fp(2)])).toEqual(new Set([1, 2, 3]));
    expect(reviewedBaselineLines(coding, inv.lines, [fp(2), confirmed(2)])).toEqual(new Set([1, 3]));
    // A confirmed line stays out when the invoice is closed as a false positive after it.
    expect(reviewedBaselineLines(coding, inv.lines, [confirmed(1), fp(null)])).toEqual(new Set([2, 3]));
    expect(reviewedBaselineLines(coding, inv.lines, [fp(null), confirmed(null)])).toEqual(new Set([1, 3]));
    const dup = decided(inv, 'HOLD', [why('DUPLICATE_SAME_NUMBER', {}, 0.99)]);
    const dfp = r('duplicate', 'false_positive');
    const dconfirmed = r('duplicate', 'confirmed');
    expect(reviewedBaselineLines(dup, inv.lines, [dfp(null)])).toEqual(new Set([1, 2, 3]));
    expect(reviewedBaselineLines(dup, inv.lines, [dfp(null), dconfirmed(null)])).toEqual(new Set());
    // A coding false positive does not make a duplicate's lines the vendor's billing.
    expect(reviewedBaselineLines(dup, inv.lines, [fp(null)])).toEqual(new Set());
    const rebill = decided(inv, 'REVIEW', [why('LINE_REBILLED', { lines: [{ line_number: 1 }] }, 0.05)]);
    expect(reviewedBaselineLines(rebill, inv.lines, [dfp(null), dconfirmed(null)])).toEqual(new Set([2, 3]));
    // An auto-approved invoice found a duplicate later: every line out.
    expect(reviewedBaselineLines(decided(inv, 'AUTO_APPROVE'), inv.lines, [dconfirmed(null)])).toEqual(
      new Set(),
    );
  });
});

describe.each(engines('baselinelines'))('vendor baselines per line on $name', ({ config }) => {
  const store = useStore(config());

  /** Quantity observations per code of `vendorId`'s baselines (0 when none). */
  const observed = async (vendorId: string): Promise<number[]> => {
    const b = await store.repo.vendors.baselines('t1', vendorId, [...CODES]);
    return CODES.map((c) => b.get(c)?.quantity?.observations ?? 0);
  };
  /** The lines recorded as counted, by line number. */
  const counted = async (invoiceId: string): Promise<number[]> => {
    const rows = await store.repo.transaction((tx) =>
      tx.query<{ line_number: number }>(
        `SELECT l.line_number FROM invoices i JOIN invoice_lines l ON l.invoice_pk = i.pk
          WHERE i.tenant_id = 't1' AND i.invoice_id = $1 AND l.in_baseline ORDER BY 1`,
        [invoiceId],
      ),
    );
    return rows.map((r) => r.line_number);
  };
  const save = async (d: DecisionResponse, inv: Invoice) => {
    await store.repo.saveDecision('t1', inv, `h-${inv.invoice_id}`, keysOf(inv), d);
    return d;
  };
  let n = 0;
  const review = (d: DecisionResponse, over: Partial<ReviewInput>) =>
    store.repo.reviews.save({
      tenantId: 't1',
      decisionId: d.decision_id,
      reviewerKeyId: 'reviewer-1',
      idempotencyKey: `k-${++n}`,
      requestSha256: randomUUID(),
      task: 'coding-mismatch',
      outcome: 'false_positive',
      lineNumber: null,
      correctedCode: null,
      duplicateOfInvoiceId: null,
      closesItem: false,
      ...over,
    });

  it("feeds a held or reviewed invoice's clean lines through both writes; flagged and duplicate lines stay out", async () => {
    const po = threeLines('po-1', 'V-PO');
    const poDecision = decided(po, 'HOLD', [why('PO_UNKNOWN'), why('PRICE_ABOVE_PO', { line_number: 2 })]);
    // The batch write.
    await store.repo.withChunkLock('t1', [], async (tx) =>
      tx.insertMany([
        {
          pk: tx.newPk(),
          invoice: po,
          payloadSha256: 'h-po-1',
          keys: keysOf(po),
          decision: poDecision,
          extras: {},
        },
      ]),
    );
    expect(await observed('V-PO')).toEqual([1, 0, 1]);
    expect(await counted('po-1')).toEqual([1, 3]);

    const other = threeLines('cod-1', 'V-COD');
    await save(decided(other, 'REVIEW', [], { 3: [why('QUANTITY_IMPLAUSIBLE', {}, 0.5)] }), other);
    expect(await observed('V-COD')).toEqual([1, 1, 0]);

    const dup = threeLines('dup-1', 'V-PO');
    await save(decided(dup, 'HOLD', [why('DUPLICATE_SAME_NUMBER', {}, 0.99)]), dup);
    const rebill = threeLines('reb-1', 'V-PO');
    await save(
      decided(rebill, 'REVIEW', [why('LINE_REBILLED', { lines: [{ line_number: 1 }] }, 0.05)]),
      rebill,
    );
    expect(await observed('V-PO')).toEqual([1, 1, 2]);
    expect(await counted('dup-1')).toEqual([]);
  });

  it('adds false positives once, takes confirmed lines out, and a reversal restores', async () => {
    const inv = threeLines('rev-1', 'V-REV');
    const d = await save(decided(inv, 'REVIEW', [], { 2: [why('CODING_MODEL_RISK', {}, 0.4)] }), inv);
    expect(await observed('V-REV')).toEqual([1, 0, 1]);
    await review(d, { lineNumber: 2 });
    expect(await observed('V-REV')).toEqual([1, 1, 1]);
    // Again, and the invoice closed as a false positive: nothing counted twice.
    await review(d, { lineNumber: 2 });
    await review(d, { closesItem: true });
    expect(await observed('V-REV')).toEqual([1, 1, 1]);
    // A clean line confirmed as an exception leaves the baseline.
    await review(d, { lineNumber: 1, outcome: 'confirmed' });
    expect(await observed('V-REV')).toEqual([0, 1, 1]);
    expect(await counted('rev-1')).toEqual([2, 3]);
    // The reversal of the line's verdict restores it.
    await review(d, { lineNumber: 1, outcome: 'false_positive' });
    expect(await observed('V-REV')).toEqual([1, 1, 1]);
    expect(await counted('rev-1')).toEqual([1, 2, 3]);
  });

  it('a duplicate hold closed as a false positive, then reversed, adds and takes out its lines', async () => {
    const earlier = threeLines('hold-0', 'V-HOLD');
    await save(decided(earlier, 'AUTO_APPROVE'), earlier);
    const inv = threeLines('hold-1', 'V-HOLD');
    const d = await save(decided(inv, 'HOLD', [why('DUPLICATE_SUSPECTED', {}, 0.99)]), inv);
    expect(await observed('V-HOLD')).toEqual([1, 1, 1]);
    const dup = { task: 'duplicate' as const, duplicateOfInvoiceId: 'hold-0', closesItem: true };
    await review(d, dup);
    expect(await observed('V-HOLD')).toEqual([2, 2, 2]);
    await review(d, { ...dup, outcome: 'confirmed' });
    expect(await observed('V-HOLD')).toEqual([1, 1, 1]);
    expect(await counted('hold-1')).toEqual([]);
  });
});
