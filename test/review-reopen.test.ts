/**
 * Review sequences on a HOLD with findings of both tasks (a duplicate of an earlier invoice whose
 * line 2 is also miscoded), against the real store (PGlite, and PostgreSQL + pgvector when
 * configured): where the invoice goes after each label, which settlement the event feed
 * announces and what the audit chain records. The invoice's state is derived in one place
 * (store/settlement.ts `decisionState`) from its reviews and its tasks with findings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines, makeInvoice } from './fixtures.js';
import { startHarness, type Harness } from './harness.js';
import { heldExample, settlements, worklistItem } from './review-helpers.js';

type AuditItem = { kind: string; payload: Record<string, unknown> };

describe.each(engines('reopen'))('review sequences on a HOLD with two tasks on $name', ({ config }) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(config());
  });
  afterAll(async () => h?.close());

  /** The audit entries about the decision (its state changes), oldest first. */
  const audited = async (decisionId: string): Promise<AuditItem[]> => {
    const r = await h.call('auditor', {
      method: 'GET',
      url: `/v1/audit?subject_id=${decisionId}&limit=1000`,
    });
    expect(r.statusCode, r.body).toBe(200);
    return r.json<{ items: AuditItem[] }>().items;
  };
  const reviewsOf = async (decisionId: string) =>
    (await h.wired.repo.reviews.listForDecision('default', decisionId)).map((r) => [
      r.task,
      r.outcome,
      r.item_status,
      r.unreviewed_tasks,
    ]);

  it('sends the invoice to the coding queue when its confirmed duplicate becomes a false positive', async () => {
    const post = await heldExample(h, 'reopen-a');
    const confirmed = await post({ task: 'duplicate', outcome: 'confirmed' }, 'a-1');
    expect(await worklistItem(h, post.decisionId)).toBeNull();
    await post({ task: 'duplicate', outcome: 'false_positive' }, 'a-2');
    // The duplicate was the only hold reason; the coding exception was never reviewed.
    expect(await worklistItem(h, post.decisionId)).toEqual(['HOLD', 'coding']);
    expect(await reviewsOf(post.decisionId)).toEqual([
      ['duplicate', 'confirmed', 'open', ['coding-mismatch']],
      ['duplicate', 'false_positive', 'open', ['coding-mismatch']],
    ]);
    expect((await audited(post.decisionId)).map((a) => [a.kind, a.payload])).toEqual([
      ['decision.created', expect.anything()],
      [
        'decision.state_changed',
        expect.objectContaining({
          from: { state: 'open', queue: 'ap', unreviewed_tasks: ['coding-mismatch', 'duplicate'] },
          to: { state: 'confirmed', review_id: confirmed },
        }),
      ],
      [
        'decision.state_changed',
        expect.objectContaining({
          from: { state: 'confirmed', review_id: confirmed },
          to: { state: 'open', queue: 'coding', unreviewed_tasks: ['coding-mismatch'] },
        }),
      ],
    ]);
    // The coding review then releases it, superseding the confirmation the ERP heard.
    const coding = await post({ task: 'coding-mismatch', outcome: 'false_positive' }, 'a-3');
    expect(await worklistItem(h, post.decisionId)).toBeNull();
    expect(await settlements(h, 'reopen-a')).toEqual([
      ['decision.reviewed.v1', 'confirmed', null],
      ['decision.confirmed.v1', 'confirmed', null],
      ['decision.reviewed.v1', 'false_positive', null],
      ['decision.reviewed.v1', 'false_positive', null],
      ['decision.released.v1', 'false_positive', { review_id: confirmed, outcome: 'confirmed' }],
    ]);
    expect((await audited(post.decisionId)).at(-1)).toMatchObject({
      kind: 'decision.state_changed',
      payload: { from: { state: 'open', queue: 'coding' }, to: { state: 'released', review_id: coding } },
    });
  });

  it('holds it again when a false positive becomes confirmed, before and after a reopening', async () => {
    const post = await heldExample(h, 'reopen-b');
    // The duplicate cleared while the item is still open: on to the coding queue.
    expect(await worklistItem(h, post.decisionId)).toEqual(['HOLD', 'ap']);
    await post({ task: 'duplicate', outcome: 'false_positive' }, 'b-1');
    expect(await worklistItem(h, post.decisionId)).toEqual(['HOLD', 'coding']);
    await post({ task: 'duplicate', outcome: 'confirmed' }, 'b-2');
    expect(await worklistItem(h, post.decisionId)).toBeNull();
    await post({ task: 'duplicate', outcome: 'false_positive' }, 'b-3');
    expect(await worklistItem(h, post.decisionId)).toEqual(['HOLD', 'coding']);
    await post({ task: 'duplicate', outcome: 'confirmed' }, 'b-4');
    expect(await worklistItem(h, post.decisionId)).toBeNull();
    expect((await settlements(h, 'reopen-b')).filter((s) => !s[0].startsWith('decision.reviewed'))).toEqual([
      ['decision.confirmed.v1', 'confirmed', null],
      ['decision.confirmed.v1', 'confirmed', null],
    ]);
    expect(
      (await audited(post.decisionId))
        .filter((a) => a.kind === 'decision.state_changed')
        .map((a) => [(a.payload.from as { state: string }).state, (a.payload.to as { state: string }).state]),
    ).toEqual([
      ['open', 'open'],
      ['open', 'confirmed'],
      ['confirmed', 'open'],
      ['open', 'confirmed'],
    ]);
  });

  it('keeps a coding exception held when it is corrected, and reopens for the duplicate when it is withdrawn', async () => {
    const post = await heldExample(h, 'reopen-c');
    await post({ outcome: 'confirmed', line_number: 2 }, 'c-1');
    const corrected = await post(
      { outcome: 'corrected_code', line_number: 2, corrected_code: { system: 'HCPCS', value: 'E1130' } },
      'c-2',
    );
    // Still an exception: nothing new to announce, nothing on the worklist.
    expect(await worklistItem(h, post.decisionId)).toBeNull();
    expect((await settlements(h, 'reopen-c')).filter((s) => !s[0].startsWith('decision.reviewed'))).toEqual([
      ['decision.confirmed.v1', 'confirmed', null],
    ]);
    const labels = (await h.wired.repo.reviews.listLabels()).filter((l) => l.decision_id === post.decisionId);
    expect(labels.map((l) => [l.line_number, l.label, l.corrected_code])).toEqual([[2, 1, 'E1130']]);
    // The line withdrawn as a false positive: the duplicate finding was never reviewed.
    await post({ outcome: 'false_positive', line_number: 2 }, 'c-3');
    expect(await worklistItem(h, post.decisionId)).toEqual(['HOLD', 'ap']);
    await post({ task: 'duplicate', outcome: 'false_positive' }, 'c-4');
    expect(await worklistItem(h, post.decisionId)).toBeNull();
    expect((await settlements(h, 'reopen-c')).at(-1)).toEqual([
      'decision.released.v1',
      'false_positive',
      { review_id: corrected, outcome: 'corrected_code' },
    ]);
  });

  it('labels the stored decision of a re-scored invoice and keeps its state', async () => {
    const post = await heldExample(h, 'reopen-d');
    await post({ task: 'duplicate', outcome: 'confirmed' }, 'd-1');
    await post({ task: 'duplicate', outcome: 'false_positive' }, 'd-2');
    const again = await h.call('workflow', {
      method: 'POST',
      url: '/v1/invoices/score',
      payload: { ...post.payload, invoice_id: 'reopen-d' },
    });
    expect(again.statusCode, again.body).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json<{ decision_id: string }>().decision_id).toBe(post.decisionId);
    // Re-scoring does not reset the worklist item or the reviews.
    expect(await worklistItem(h, post.decisionId)).toEqual(['HOLD', 'coding']);
    await post({ task: 'coding-mismatch', outcome: 'false_positive' }, 'd-3');
    expect(await worklistItem(h, post.decisionId)).toBeNull();
    expect((await reviewsOf(post.decisionId)).map((r) => r[2])).toEqual(['closed', 'closed', 'closed']);
  });

  it('stores a label sent twice once: one review, one state change, one set of events', async () => {
    const post = await heldExample(h, 'reopen-e');
    await post({ task: 'duplicate', outcome: 'confirmed' }, 'e-1');
    const first = await post({ task: 'duplicate', outcome: 'false_positive' }, 'e-2');
    const events = await settlements(h, 'reopen-e');
    const audit = await audited(post.decisionId);
    expect(await post({ task: 'duplicate', outcome: 'false_positive' }, 'e-2', 200)).toBe(first);
    expect(await post({ task: 'duplicate', outcome: 'confirmed' }, 'e-2', 409)).toBeUndefined();
    expect(await settlements(h, 'reopen-e')).toEqual(events);
    expect(await audited(post.decisionId)).toEqual(audit);
    expect(await reviewsOf(post.decisionId)).toHaveLength(2);
    expect(await worklistItem(h, post.decisionId)).toEqual(['HOLD', 'coding']);
    // The same label sent twice at once: stored once, the other answer replays it.
    const body = { task: 'coding-mismatch', outcome: 'false_positive', idempotency_key: 'e-3' };
    const both = await Promise.all(
      [1, 2].map(() =>
        h.call('reviewer', {
          method: 'POST',
          url: '/v1/reviews',
          payload: { decision_id: post.decisionId, ...body },
        }),
      ),
    );
    expect(both.map((r) => r.statusCode).sort()).toEqual([200, 201]);
    expect(new Set(both.map((r) => r.json<{ review_id: string }>().review_id)).size).toBe(1);
    expect(await reviewsOf(post.decisionId)).toHaveLength(3);
    expect(await worklistItem(h, post.decisionId)).toBeNull();
    expect((await audited(post.decisionId)).filter((a) => a.kind === 'decision.state_changed')).toHaveLength(
      3,
    );
  });

  it('records no state change for a review of an auto-approved decision (no worklist item)', async () => {
    const d = await h.scoreOk(
      makeInvoice({
        invoice_id: 'reopen-g',
        invoice_number: 'INV-REOPEN-G',
        vendor: { id: 'V-REOPEN-G', name: 'Reopen Respiratory Care' },
        invoice_date: '2025-05-09',
        due_date: '2025-06-08',
      }),
    );
    expect(d.decision).toBe('AUTO_APPROVE');
    const r = await h.call('reviewer', {
      method: 'POST',
      url: '/v1/reviews',
      payload: { decision_id: d.decision_id, outcome: 'confirmed', idempotency_key: 'g-1' },
    });
    expect(r.statusCode, r.body).toBe(201);
    expect(r.json()).toMatchObject({ item_status: null });
    expect((await audited(d.decision_id)).map((a) => a.kind)).toEqual(['decision.created']);
  });

  it('settles labels of two reviewers at once in the order they were stored', async () => {
    for (const round of [1, 2, 3]) {
      const invoiceId = `reopen-f${round}`;
      const post = await heldExample(h, invoiceId);
      await post({ task: 'duplicate', outcome: 'confirmed' }, `f${round}-0`);
      await Promise.all([
        post({ task: 'duplicate', outcome: 'false_positive' }, `f${round}-1`, 201, 'reviewer'),
        post({ task: 'duplicate', outcome: 'confirmed' }, `f${round}-2`, 201, 'multi'),
      ]);
      const stored = await reviewsOf(post.decisionId);
      expect(stored).toHaveLength(3);
      // Whichever was stored last decides, as if they had come one after the other.
      const last = stored.at(-1)![1];
      expect(await worklistItem(h, post.decisionId)).toEqual(
        last === 'false_positive' ? ['HOLD', 'coding'] : null,
      );
      const changes = (await audited(post.decisionId)).filter((a) => a.kind === 'decision.state_changed');
      expect(changes.map((a) => (a.payload.to as { state: string }).state)).toEqual(
        last === 'false_positive' ? ['confirmed', 'open'] : ['confirmed', 'open', 'confirmed'],
      );
    }
  });
});
