/**
 * Labels with provenance on both engines: reviewer and audit-sample reviews through the API,
 * ERP labels through `recordLabel` (idempotent, checked against the decision, audited), listed
 * for training deduplicated per decision by the documented precedence.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecisionResponse } from '../core/decision.js';
import type { Invoice } from '../core/invoice.js';
import { listAudit, verifyAudit } from '../store/audit.js';
import {
  createLabelStore,
  erpStatusLabels,
  type LabelStore,
  type RecordLabelInput,
} from '../store/labels.js';
import { storeLabelSource } from '../training/labels.js';
import { engines, makeInvoice } from './fixtures.js';
import { startHarness, type Harness } from './harness.js';

/** A coding exception: line 2 describes a wheelchair but bills E0570 (nebulizer). */
function mismatch(id: string): Invoice {
  const inv = makeInvoice({ invoice_id: id, invoice_number: `N-${id}` });
  inv.lines[1] = { ...inv.lines[1]!, description: 'Standard wheelchair, fixed full length arms' };
  return inv;
}

describe.each(engines('labels'))('labels with provenance on $name', ({ config }) => {
  let h: Harness;
  let labels: LabelStore;
  const cfg = config();
  const dec: Record<string, DecisionResponse> = {};
  const erp = (over: Partial<RecordLabelInput> & { decisionId: string }): RecordLabelInput => ({
    tenantId: 'default',
    source: 'erp',
    task: 'coding-mismatch',
    label: 0,
    event: 'posted',
    reference: 'ERP-DOC-1',
    idempotencyKey: `erp-${over.decisionId}`,
    actorKeyId: null,
    ...over,
  });
  const review = async (decisionId: string, body: Record<string, unknown>, key: string) => {
    const r = await h.call('reviewer', {
      method: 'POST',
      url: '/v1/reviews',
      payload: { decision_id: decisionId, ...body },
      headers: { 'idempotency-key': key },
    });
    expect(r.statusCode, r.body).toBe(201);
  };

  beforeAll(async () => {
    h = await startHarness(cfg, { wire: { monitoring: { defaultAuditRate: 1, flushMs: 0 } } });
    labels = createLabelStore(h.wired.db);
    dec.clean = await h.scoreOk(makeInvoice({ invoice_id: 'clean', invoice_number: 'C-1' }));
    dec.m1 = await h.scoreOk(mismatch('m1'));
    dec.m2 = await h.scoreOk({ ...mismatch('m2'), vendor: { id: 'V-200', name: 'Beta Medical' } });
  }, 120_000);
  afterAll(async () => h?.close());

  it('the fixture: one AUTO_APPROVE drawn into the audit sample, two coding exceptions routed to people', () => {
    expect(dec.clean!.decision).toBe('AUTO_APPROVE');
    expect(dec.m1!.decision).not.toBe('AUTO_APPROVE');
    expect(dec.m2!.decision).not.toBe('AUTO_APPROVE');
  });

  it('records an ERP label once per idempotency key, checked against its decision and audited', async () => {
    const first = await labels.record(erp({ decisionId: dec.m1!.decision_id, lineNumber: 2 }));
    expect(first.created).toBe(true);
    expect(first.label).toMatchObject({
      decision_id: dec.m1!.decision_id,
      invoice_id: 'm1',
      source: 'erp',
      task: 'coding-mismatch',
      label: 0,
      line_number: 2,
      event: 'posted',
      reference: 'ERP-DOC-1',
    });
    const again = await labels.record(erp({ decisionId: dec.m1!.decision_id, lineNumber: 2 }));
    expect(again).toEqual({ label: first.label, created: false });
    await expect(
      labels.record(erp({ decisionId: dec.m1!.decision_id, lineNumber: 2, label: 1 })),
    ).rejects.toMatchObject({ code: 'TRIAGE_IDEMPOTENCY_CONFLICT', errors: [{ path: '/idempotency_key' }] });
    await expect(
      labels.record(erp({ decisionId: dec.m1!.decision_id, lineNumber: 9, idempotencyKey: 'k9' })),
    ).rejects.toMatchObject({ code: 'TRIAGE_REVIEW_INVALID', errors: [{ path: '/line_number' }] });
    await expect(
      labels.record(
        erp({
          decisionId: dec.m1!.decision_id,
          task: 'duplicate',
          duplicateOfInvoiceId: 'nope',
          idempotencyKey: 'kd',
        }),
      ),
    ).rejects.toMatchObject({ code: 'TRIAGE_REVIEW_INVALID', errors: [{ path: '/duplicate_of' }] });
    await expect(
      labels.record(erp({ decisionId: dec.m1!.decision_id, event: 'has space', idempotencyKey: 'ke' })),
    ).rejects.toMatchObject({ code: 'TRIAGE_REVIEW_INVALID', errors: [{ path: '/event' }] });
    // another tenant's decision is not found, like an unknown one
    await expect(
      labels.record(erp({ decisionId: dec.m1!.decision_id, tenantId: 'other', idempotencyKey: 'ko' })),
    ).rejects.toMatchObject({ code: 'TRIAGE_DECISION_NOT_FOUND' });
    expect(await labels.listForDecision('default', dec.m1!.decision_id)).toEqual([first.label]);
    const audit = await listAudit(h.wired.db, 'default', { subjectId: first.label.label_id });
    expect(audit.map((a) => [a.kind, JSON.parse(a.payload)])).toEqual([
      [
        'label.recorded',
        expect.objectContaining({
          source: 'erp',
          label: 0,
          line_number: 2,
          event: 'posted',
          invoice_id: 'm1',
        }),
      ],
    ]);
    expect((await verifyAudit(h.wired.db, 'default')).ok).toBe(true);
  });

  it('an ERP rejection for coding labels every flagged line; statuses map to labels as documented', async () => {
    expect(erpStatusLabels('rejected', dec.m2!, 'coding')).toEqual([{ task: 'coding-mismatch', label: 1 }]);
    expect(erpStatusLabels('rejected', dec.m2!, 'missing_po')).toEqual([]);
    // A duplicate rejection labels the pair the decision named; with none it is a status only.
    expect(erpStatusLabels('rejected', { ...dec.m2!, duplicates: [] }, 'duplicate')).toEqual([]);
    expect(erpStatusLabels('posted', dec.clean!)).toEqual([]);
    expect(erpStatusLabels('paid', { ...dec.m2!, duplicates: [] })).toEqual([
      { task: 'coding-mismatch', label: 0 },
    ]);
    for (const l of erpStatusLabels('rejected', dec.m2!, 'coding'))
      await labels.record(erp({ decisionId: dec.m2!.decision_id, ...l, event: 'rejected' }));
    const rows = (await labels.listLabels({ tenant: 'default' })).filter((l) => l.invoice_id === 'm2');
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.map((r) => [r.source, r.event, r.label, r.outcome])).toEqual(
      rows.map(() => ['erp', 'rejected', 1, null]),
    );
    expect(rows.map((r) => r.line_number)).toContain(2);
  });

  it('lists labels with provenance; a person’s label beats a later ERP label of the same line', async () => {
    await review(dec.m1!.decision_id, { outcome: 'confirmed', line_number: 2 }, 'rev-m1');
    await review(dec.clean!.decision_id, { outcome: 'false_positive', task: 'coding-mismatch' }, 'aud-clean');
    // the ERP's later posting of m1 line 2 (label 0) must not override the reviewer's 1
    await labels.record(
      erp({
        decisionId: dec.m1!.decision_id,
        lineNumber: 2,
        idempotencyKey: 'erp-m1-late',
        at: new Date(Date.now() + 60_000),
      }),
    );
    const all = await labels.listLabels({ tenant: 'default', latestOnly: false });
    const line = (rows: typeof all, id: string, ln: number | null) =>
      rows.filter((r) => r.invoice_id === id && r.line_number === ln).map((r) => [r.source, r.label]);
    expect(line(all, 'm1', 2)).toEqual([
      ['erp', 0],
      ['reviewer', 1],
      ['erp', 0],
    ]);
    const kept = await labels.listLabels({ tenant: 'default' });
    expect(line(kept, 'm1', 2)).toEqual([['reviewer', 1]]);
    expect(kept.filter((r) => r.invoice_id === 'clean').map((r) => [r.source, r.label, r.outcome])).toEqual([
      ['audit_sample', 0, 'false_positive'],
    ]);
    // filtered to one provenance, ERP labels compete only with each other (the later one wins)
    const erpOnly = await labels.listLabels({ tenant: 'default', sources: ['erp'] });
    expect(new Set(erpOnly.map((r) => r.source))).toEqual(new Set(['erp']));
    expect(erpOnly.filter((r) => r.invoice_id === 'm1').map((r) => r.review_id)).toHaveLength(1);
    // the review store lists the same rows, and training sees the provenance
    expect(await h.wired.repo.reviews.listLabels({ tenant: 'default' })).toEqual(kept);
    const training = await storeLabelSource({
      listLabels: (q) => labels.listLabels({ ...q, tenant: 'default' }),
    }).listLabels();
    expect(new Set(training.map((l) => l.source))).toEqual(new Set(['reviewer', 'audit_sample', 'erp']));
    expect(await labels.listLabels({ tenant: 'other' })).toEqual([]);
  });
});
