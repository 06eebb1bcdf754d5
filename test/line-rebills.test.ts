/**
 * Line-level duplicates through app.inject(), on both store engines, with the shipped line-pair
 * model: one line of an earlier invoice billed again among new lines is named (LINE_REBILLED with
 * the earlier invoice and line numbers, the model's score and the pair's features) and sent to AP
 * review, also when the copy is re-keyed under a reworded description without its code, and on a
 * vendor printing no line service dates when the copy repeats the earlier line's delivery
 * reference; the same items billed for the next month, a second invoice of the same day's
 * service, or an undated re-order under its own delivery reference are not. The earlier invoice
 * of a re-billed line is in the decision's `duplicates` list (kind `lines`, the line pairs).
 */
import { describe, expect, it } from 'vitest';
import type { DecisionResponse } from '../core/decision.js';
import type { Invoice, InvoiceLine } from '../core/invoice.js';
import { engines, invoiceOfLines } from './fixtures.js';
import { useHarness } from './harness.js';
import { LINE_PAIR_FEATURE_NAMES } from '../features/line-pair.js';
import { shippedLinePairModel } from '../models/line-pair.js';
import { EMBEDDING_DIM } from '../features/hashing.js';

const unitVector = Float32Array.from({ length: EMBEDDING_DIM }, (_, i) => (i === 0 ? 1 : 0));

const DESCRIPTIONS: Record<string, string> = {
  E0601: 'Continuous positive airway pressure (CPAP) device',
  A7037: 'Tubing used with positive airway pressure device',
  E0562: 'Humidifier, heated, used with positive airway pressure device',
  A4604: 'Tubing with integrated heating element for use with positive airway pressure device',
  E0570: 'Nebulizer, with compressor',
};

const line = (n: number, code: string, cents: number, serviceDate: string): InvoiceLine => ({
  line_number: n,
  description: DESCRIPTIONS[code]!,
  code: { system: 'HCPCS', value: code },
  quantity: 1,
  unit_price_cents: cents,
  amount_cents: cents,
  service_date: serviceDate,
});

const invoice = (id: string, number: string, date: string, lines: InvoiceLine[]): Invoice =>
  invoiceOfLines(
    id,
    { id: 'V-LR', name: 'Lakeside Rehab Supply' },
    date,
    lines.map((l, i) => ({ ...l, line_number: i + 1 })),
    { invoice_number: number },
  );

describe.each(engines('lrb'))('line-level duplicates on $name', ({ config }) => {
  const ref = useHarness(config());
  const score = (i: Invoice): Promise<DecisionResponse> => ref.h.scoreOk(i);

  it('names a line billed again among new lines, and leaves repeat purchases alone', async () => {
    const march = [line(1, 'E0601', 9_800, '2025-03-03'), line(2, 'A7037', 2_150, '2025-03-03')];
    const first = await score(invoice('lr-1', 'LR-5001', '2025-03-05', march));
    expect(first.reasons.filter((x) => x.code.startsWith('DUPLICATE') || x.code === 'LINE_REBILLED')).toEqual(
      [],
    );

    // April: two new items plus the March mask line (same code, amount, quantity, service date).
    const april = await score(
      invoice('lr-2', 'LR-5107', '2025-04-14', [
        line(1, 'E0562', 31_000, '2025-04-10'),
        march[1]!,
        line(3, 'A4604', 4_400, '2025-04-10'),
      ]),
    );
    const r = april.reasons.find((x) => x.code === 'LINE_REBILLED');
    expect(r).toBeDefined();
    expect(r!.evidence).toMatchObject({
      duplicate_of: 'lr-1',
      model: shippedLinePairModel().version,
      lines: [{ line_number: 2, earlier_line_number: 2 }],
    });
    const pair = (r!.evidence as { lines: { score: number; features: Record<string, number> }[] }).lines[0]!;
    expect(pair.score).toBeGreaterThanOrEqual(shippedLinePairModel().threshold);
    expect(Object.keys(pair.features)).toEqual([...LINE_PAIR_FEATURE_NAMES]);
    expect(pair.features).toMatchObject({ code_equal: 1, amount_equal: 1, service_date_equal: 1 });
    expect(
      april.decision,
      JSON.stringify([april.queue, april.scores, april.reasons.map((x) => [x.code, x.weight])]),
    ).toBe('REVIEW');
    expect(april.scores.duplicate).toBeGreaterThanOrEqual(0.85);
    // The earlier invoice is in the decision's duplicates list too, as a line-level match.
    expect(april.duplicates, JSON.stringify(april.duplicates)).toMatchObject([
      {
        invoice_id: 'lr-1',
        kind: 'lines',
        decision_id: first.decision_id,
        earlier_decision: first.decision,
        earlier_document_type: 'invoice',
        score: april.scores.duplicate,
        rebilled_lines: [{ line_number: 2, earlier_line_number: 2, score: pair.score }],
      },
    ]);
    expect(april.duplicates[0]!.match_sources).toContain('line_block');
    // Its audit entry names that earlier invoice too (no pair was flagged: only LINE_REBILLED).
    expect(april.reasons.map((x) => x.code)).not.toContain('DUPLICATE_SUSPECTED');
    expect(april.reasons.map((x) => x.code)).not.toContain('DUPLICATE_SAME_NUMBER');
    const audit = await ref.h.call('auditor', {
      method: 'GET',
      url: `/v1/audit?subject_id=${april.decision_id}`,
    });
    const created = audit
      .json<{ items: { kind: string; payload: Record<string, unknown> }[] }>()
      .items.filter((e) => e.kind === 'decision.created');
    expect(
      created.map((e) => e.payload.duplicate_of),
      audit.body,
    ).toEqual(['lr-1']);
    const firstAudit = await ref.h.call('auditor', {
      method: 'GET',
      url: `/v1/audit?subject_id=${first.decision_id}`,
    });
    expect(
      firstAudit
        .json<{ items: { kind: string; payload: Record<string, unknown> }[] }>()
        .items.map((e) => e.payload.duplicate_of),
    ).toEqual([null]);
    // The store reads an earlier invoice that no candidate search returned by its client id.
    const byId = await ref.h.wired.repo.withScoringLock('default', [], (tx) =>
      tx.findInvoicesById(unitVector, ['lr-1', 'no-such-id']),
    );
    expect(byId.map((c) => [c.invoiceId, c.decisionId, c.decision, c.sources])).toEqual([
      ['lr-1', first.decision_id, first.decision, []],
    ]);

    // May: the same items again for May (their own service date): a repeat purchase.
    const may = await score(
      invoice('lr-3', 'LR-5230', '2025-05-05', [
        line(1, 'E0601', 9_800, '2025-05-02'),
        line(2, 'A7037', 2_150, '2025-05-02'),
        line(3, 'A4604', 4_400, '2025-05-09'),
      ]),
    );
    expect(may.reasons.map((x) => x.code)).not.toContain('LINE_REBILLED');

    // A second invoice for the same day's service with one shared item: no newer line, not flagged.
    const sameDay = await score(
      invoice('lr-4', 'LR-5231', '2025-05-06', [
        line(1, 'E0601', 9_800, '2025-05-02'),
        line(2, 'E0570', 1_500, '2025-05-02'),
      ]),
    );
    expect(sameDay.reasons.map((x) => x.code)).not.toContain('LINE_REBILLED');
  });

  it('names a re-billed line re-keyed under a reworded description without its code', async () => {
    const june = [line(1, 'E0601', 9_800, '2025-06-02'), line(2, 'A4604', 4_400, '2025-06-02')];
    await score(invoice('lr-10', 'LR-6001', '2025-06-04', june));
    const rekeyed: InvoiceLine = {
      ...june[1]!,
      description: 'HEATED TUBING W/ INTEGRATED ELEMENT FOR POSITIVE AIRWAY PRESSURE DEVICE',
      code: undefined,
    };
    const july = await score(
      invoice('lr-11', 'LR-6107', '2025-07-15', [
        line(1, 'E0562', 31_000, '2025-07-11'),
        rekeyed,
        line(3, 'A7037', 2_150, '2025-07-11'),
      ]),
    );
    const r = july.reasons.find((x) => x.code === 'LINE_REBILLED');
    expect(r?.evidence, JSON.stringify(july.reasons)).toMatchObject({
      duplicate_of: 'lr-10',
      lines: [{ line_number: 2, earlier_line_number: 2, features: { code_equal: 0 } }],
    });
  });

  it('names an undated line billed again under its earlier delivery reference, not an undated re-order', async () => {
    const undated = (n: number, code: string, cents: number, delivery: string): InvoiceLine => {
      const { service_date: _none, ...l } = line(n, code, cents, '2025-01-01');
      return { ...l, delivery_reference: delivery };
    };
    const aug = [undated(1, 'E0601', 9_800, 'DN-70411'), undated(2, 'A7037', 2_150, 'DN-70411')];
    await score(invoice('lr-20', 'LR-7001', '2025-08-04', aug));
    const sept = await score(
      invoice('lr-21', 'LR-7109', '2025-09-15', [
        undated(1, 'E0562', 31_000, 'DN-70977'),
        // The same delivery typed differently (case, spaces) is the same delivery.
        { ...aug[1]!, delivery_reference: ' dn-70411  ' },
        undated(3, 'A4604', 4_400, 'DN-70977'),
      ]),
    );
    const r = sept.reasons.find((x) => x.code === 'LINE_REBILLED');
    expect(r?.evidence, JSON.stringify(sept.reasons)).toMatchObject({
      duplicate_of: 'lr-20',
      lines: [
        {
          line_number: 2,
          earlier_line_number: 2,
          features: { delivery_reference_equal: 1, delivery_reference_missing: 0, service_date_missing: 1 },
        },
      ],
    });
    // October: the same tubing re-ordered, its own delivery: not flagged.
    const oct = await score(
      invoice('lr-22', 'LR-7230', '2025-10-13', [
        undated(1, 'E0570', 1_500, 'DN-71502'),
        undated(2, 'A7037', 2_150, 'DN-71502'),
        undated(3, 'A4604', 4_400, 'DN-71502'),
      ]),
    );
    expect(oct.reasons.map((x) => x.code)).not.toContain('LINE_REBILLED');
  });
});
