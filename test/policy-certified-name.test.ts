/**
 * `PUT /v1/policy` under the certified served default: an edited policy may not keep the
 * certified policy's name (its label would claim a certification its thresholds lack); under
 * a name of its own it is stored, and the certified document itself may be stored again.
 */
import { describe, expect, it } from 'vitest';
import type { PolicyDocument } from '../inference/policy.js';
import { useHarness } from './harness.js';

describe('PUT /v1/policy under the certified default', () => {
  const ref = useHarness({ engine: 'pglite' }, { wire: { models: { reloadMs: null } } });

  it('refuses an edited policy under the certified name with a 400 naming /name', async () => {
    const served = (await ref.h.call('admin', { method: 'GET', url: '/v1/policy' })).json<{
      label: string;
      document: PolicyDocument;
    }>();
    expect(served.label).toBe('policy-certified@1');
    const certified = served.document;
    const edited: PolicyDocument = {
      ...certified,
      queues: { ...certified.queues, coding: { ...certified.queues.coding, review_at: 0.25 } },
    };
    const put = (doc: PolicyDocument) =>
      ref.h.call('admin', { method: 'PUT', url: '/v1/policy', payload: doc });

    const refused = await put(edited);
    expect(refused).toBeProblem(400, 'TRIAGE_INPUT_INVALID');
    expect(refused.json<{ errors: { path: string; message: string }[] }>().errors).toEqual([
      {
        path: '/name',
        message: expect.stringMatching(
          /^is the name of the certified policy policy-certified@1 \(certified for /,
        ),
      },
    ]);
    expect((await ref.h.call('admin', { method: 'GET', url: '/v1/policy' })).json().label).toBe(
      'policy-certified@1',
    );

    const renamed = await put({ ...edited, name: 'policy-certified-edited' });
    expect(renamed.statusCode, renamed.body).toBe(200);
    expect(renamed.json().label).toBe('policy-certified-edited@2');

    const back = await put(certified);
    expect(back.statusCode, back.body).toBe(200);
    expect(back.json().label).toBe('policy-certified@3');
  });
});
