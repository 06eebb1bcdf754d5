/**
 * The served coding model gives a line a coding reason only above its reason floor (its card's
 * auto-approve threshold), and routing reviews a coding score only with a reason: `PUT
 * /v1/policy` refuses a coding review threshold at or below the floor, and a stored policy that
 * asks for one (stored before a promotion raised the floor) is reported and recorded with the
 * threshold routing applies, its source naming the floor.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { shippedModelsDir } from '../bin/bootstrap.js';
import { DEFAULT_POLICY_DOCUMENT, type PolicyDocument } from '../inference/policy.js';
import { makeInvoice } from './fixtures.js';
import { useHarness } from './harness.js';

const champion = (
  JSON.parse(readFileSync(join(shippedModelsDir(), 'coding-mismatch', 'aliases.json'), 'utf8')) as {
    champion: string;
  }
).champion;
/** The served coding model and its reason floor, read from its card. */
const model = `coding-mismatch@${champion.replace(/^v/, '')}`;
const floor = (
  JSON.parse(readFileSync(join(shippedModelsDir(), 'coding-mismatch', champion, 'card.json'), 'utf8')) as {
    thresholds: { autoApprove: number };
  }
).thresholds.autoApprove;

const low = (review: number, overrideReview?: number): PolicyDocument => ({
  ...DEFAULT_POLICY_DOCUMENT,
  name: 'low',
  queues: { ...DEFAULT_POLICY_DOCUMENT.queues, coding: { review_at: review } },
  overrides:
    overrideReview === undefined
      ? []
      : [{ when: { vendor_category: 'lab' }, queues: { coding: { review_at: overrideReview } } }],
});

describe('coding review thresholds and the served model reason floor', () => {
  const ref = useHarness({ engine: 'pglite' }, { wire: { models: { reloadMs: null } } });

  it('PUT /v1/policy refuses a coding review_at at or below the floor with a 400 naming each path', async () => {
    expect(floor).toBeGreaterThan(0.1);
    const put = (doc: PolicyDocument) =>
      ref.h.call('admin', { method: 'PUT', url: '/v1/policy', payload: doc });
    const before = (await ref.h.call('admin', { method: 'GET', url: '/v1/policy' })).json<{ label: string }>()
      .label;

    const refused = await put(low(0.01, 0.1));
    expect(refused).toBeProblem(400, 'TRIAGE_INPUT_INVALID');
    const errors = refused.json<{ errors: { path: string; message: string }[] }>().errors;
    expect(errors.map((e) => e.path)).toEqual([
      '/queues/coding/review_at',
      '/overrides/0/queues/coding/review_at',
    ]);
    expect(errors[0]!.message).toContain(
      `must be above ${floor}, the reason floor of the served coding model ${model}`,
    );
    expect(await put(low(floor))).toBeProblem(400, 'TRIAGE_INPUT_INVALID');
    // Nothing stored.
    expect(
      (await ref.h.call('admin', { method: 'GET', url: '/v1/policy' })).json<{ label: string }>().label,
    ).toBe(before);

    const ok = await put(low(0.3, 0.5));
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().effective_thresholds['coding.review_at']).toEqual({
      value: 0.3,
      source: expect.stringMatching(/^policy:low@/),
    });
  });

  it('reports and records the applied threshold, not the one a stored policy asks below the floor', async () => {
    const stored = await ref.h.wired.repo.policies.put(
      'default',
      { name: 'low', document: low(0.01), sha256: 'asks-below-floor' },
      null,
    );
    const applied = {
      value: floor + 1e-9,
      source: `model-card:${model} reason floor (policy ${stored.label} asks 0.01)`,
    };

    const shown = (await ref.h.call('admin', { method: 'GET', url: '/v1/policy' })).json<{
      effective_thresholds: Record<string, { value: number; source: string }>;
    }>();
    expect(shown.effective_thresholds['coding.review_at']).toEqual(applied);

    const d = await ref.h.scoreOk(makeInvoice({ invoice_id: 'floor-1' }));
    expect(d.versions.policy).toBe(stored.label);
    expect(d.versions.thresholds!['coding.review_at']).toBe(applied.source);
    const rec = await ref.h.wired.repo.getDecisionRecord('default', d.decision_id);
    const ex = (
      rec!.decision as unknown as { explanation: { routing: { thresholds: Record<string, number> } } }
    ).explanation;
    expect(ex.routing.thresholds['coding.review_at']).toBe(applied.value);
    // What routing did agrees with the recorded threshold.
    if (d.scores.coding_mismatch < applied.value) expect(d.queue).not.toBe('coding');
  });
});
