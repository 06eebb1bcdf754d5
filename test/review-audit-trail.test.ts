/**
 * Every reviewer action on a decision is in the audit chain by its own `review.created` entry,
 * also a review that leaves the decision as it stood (a second `confirmed` of a confirmed hold, a
 * corrected code of a line already confirmed, a review that does not close the item), which
 * writes no `decision.state_changed`; an idempotent replay is no new action and adds nothing. On
 * the real store (PGlite, and PostgreSQL when configured).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines } from './fixtures.js';
import { startHarness, type Harness } from './harness.js';
import { heldExample, worklistItem } from './review-helpers.js';

describe.each(engines('revaudit'))('the audit trail of every review on $name', ({ config }) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(config());
  });
  afterAll(async () => h?.close());

  /** The tenant's audit entries about `decisionId` (the decision's, and its reviews'), oldest first. */
  const trail = async (decisionId: string) =>
    (await h.wired.repo.audit.list('default', { limit: 1000 }))
      .map((a) => ({ ...a, body: JSON.parse(a.payload) as Record<string, unknown> }))
      .filter((a) => a.subjectId === decisionId || a.body.decision_id === decisionId);

  it('audits each review by its own entry, also one that leaves the state unchanged', async () => {
    const post = await heldExample(h, 'revaudit-a');
    const ids = [
      await post({ task: 'duplicate', outcome: 'confirmed' }, 'ra-1'),
      // The hold is confirmed already: the same state, by the latest confirming review.
      await post({ task: 'duplicate', outcome: 'confirmed' }, 'ra-2'),
      await post(
        { outcome: 'corrected_code', line_number: 2, corrected_code: { system: 'HCPCS', value: 'E1130' } },
        'ra-3',
      ),
      await post({ outcome: 'confirmed', line_number: 2, close_item: false }, 'ra-4'),
    ];
    // A replay of the same request is the same action, answered from the store.
    expect(await post({ task: 'duplicate', outcome: 'confirmed' }, 'ra-2', 200)).toBe(ids[1]);
    expect(await worklistItem(h, post.decisionId)).toBeNull();

    const entries = await trail(post.decisionId);
    expect(entries.map((a) => [a.kind, a.subjectId])).toEqual([
      ['decision.created', post.decisionId],
      ['review.created', ids[0]],
      ['decision.state_changed', post.decisionId],
      ['review.created', ids[1]],
      ['review.created', ids[2]],
      ['review.created', ids[3]],
    ]);
    const changed = entries.find((a) => a.kind === 'decision.state_changed')!;
    expect(changed.body).toMatchObject({
      review_id: ids[0],
      from: { state: 'open', queue: 'ap', unreviewed_tasks: ['coding-mismatch', 'duplicate'] },
      to: { state: 'confirmed', review_id: ids[0] },
    });
    // Each entry names the reviewer's key and what the reviewer said, as the review is stored.
    const stored = await h.wired.repo.reviews.listForDecision('default', post.decisionId);
    expect(stored.map((r) => r.review_id)).toEqual(ids);
    const reviewed = entries.filter((a) => a.kind === 'review.created');
    expect(reviewed.map((a) => a.actorKeyId)).toEqual(ids.map(() => h.keyIds.reviewer));
    expect(reviewed.map((a) => a.body)).toEqual(
      stored.map((r) => ({
        review_id: r.review_id,
        decision_id: post.decisionId,
        invoice_id: 'revaudit-a',
        task: r.task,
        outcome: r.outcome,
        line_number: r.line_number,
        corrected_code: r.corrected_code,
        duplicate_of_invoice_id: r.duplicate_of_invoice_id,
        closes_item: r.closes_item,
        item_status: expect.any(String),
      })),
    );
    expect(
      reviewed.map((a) => [a.body.task, a.body.outcome, a.body.line_number, a.body.closes_item]),
    ).toEqual([
      ['duplicate', 'confirmed', null, true],
      ['duplicate', 'confirmed', null, true],
      ['coding-mismatch', 'corrected_code', 2, true],
      ['coding-mismatch', 'confirmed', 2, false],
    ]);
    expect(reviewed[2]!.body.corrected_code).toEqual({ system: 'HCPCS', value: 'E1130' });
    expect((await h.wired.repo.audit.verify('default')).ok).toBe(true);
  });
});
