/**
 * Version 2 of the decision representation (core/decision-v2.ts): asked for with `Accept`, the
 * scoring response lists each reason once (a line reason that is also an invoice reason is a
 * `reason_ref`), loses nothing against version 1, and version 1 stays the default; so does
 * `GET /v1/decisions/:id`. On both
 * store engines (a replay reads the stored decision), with the shipped champions.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { decisionVersionOf } from '../api/routes/invoices.js';
import type { DecisionResponse } from '../core/decision.js';
import {
  DECISION_V2_MEDIA_TYPE,
  isReasonRef,
  type DecisionResponseV2,
  type ReasonRef,
} from '../core/decision-v2.js';
import type { Invoice } from '../core/invoice.js';
import { packageRoot } from '../core/paths.js';
import { engines } from './fixtures.js';

/** What `fn` throws, or undefined when it returns. */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}
import { startHarness, type Harness } from './harness.js';

const example = JSON.parse(
  readFileSync(join(packageRoot(), 'datasets', 'samples', 'example-invoice.json'), 'utf8'),
) as Invoice;

type Reason = DecisionResponseV2['reasons'][number];

/** A reason without the `line_number` of its evidence. */
const withoutLine = (r: Reason) => {
  const { line_number: _n, ...evidence } = r.evidence;
  return { ...r, evidence };
};

describe('decisionVersionOf', () => {
  it('reads the media type among the ranges, its parameters and q aside, case-insensitively', () => {
    expect(decisionVersionOf(undefined)).toBe(1);
    expect(decisionVersionOf('')).toBe(1);
    expect(decisionVersionOf('application/json')).toBe(1);
    expect(decisionVersionOf('*/*')).toBe(1);
    expect(decisionVersionOf('application/*; q=0.2')).toBe(1);
    expect(decisionVersionOf(DECISION_V2_MEDIA_TYPE)).toBe(2);
    expect(decisionVersionOf(`application/json;q=0.5, ${DECISION_V2_MEDIA_TYPE.toUpperCase()}`)).toBe(2);
    expect(decisionVersionOf(`${DECISION_V2_MEDIA_TYPE}; charset=utf-8; q=0.8`)).toBe(2);
    expect(decisionVersionOf(`${DECISION_V2_MEDIA_TYPE};q=0, application/json`)).toBe(1);
  });

  it("answers the version the client prefers by q, the most specific range setting version 1's", () => {
    const v2 = DECISION_V2_MEDIA_TYPE;
    expect(decisionVersionOf(`application/json;q=0.9, ${v2};q=0.1`)).toBe(1);
    expect(decisionVersionOf(`${v2};q=0.1, application/json;q=0.9`)).toBe(1);
    expect(decisionVersionOf(`application/json;q=0.1, ${v2};q=0.9`)).toBe(2);
    expect(decisionVersionOf(`${v2};q=0.5, application/json;q=0.5`)).toBe(2);
    expect(decisionVersionOf(`${v2};q=0.5, */*`)).toBe(1);
    expect(decisionVersionOf(`${v2};q=0.5, application/json;q=0.2, */*`)).toBe(2);
    expect(decisionVersionOf('*/*;q=0.5, application/json;q=0')).toBe(2);
    expect(decisionVersionOf('application/*;q=0.3, application/json;q=0')).toBe(2);
  });

  it('refuses an Accept header naming no version it serves with a 406 naming the header', () => {
    for (const accept of [
      'application/vnd.invoice-triage.decision.v3+json',
      'text/xml',
      `application/json;q=0, ${DECISION_V2_MEDIA_TYPE};q=0`,
      `${DECISION_V2_MEDIA_TYPE};q=0, */*;q=0.5, application/json;q=0`,
      '*/*;q=0',
      'application/json;q=0.000',
    ]) {
      expect(
        thrownBy(() => decisionVersionOf(accept)),
        accept,
      ).toMatchObject({
        code: 'TRIAGE_NOT_ACCEPTABLE',
        errors: [{ path: '/headers/accept' }],
      });
    }
  });
});

describe('decisionVersionOf and quality values (RFC 9110 section 12.4.2)', () => {
  it('reads every well-formed q: 0 to 1, at most 3 decimals, any case', () => {
    expect(decisionVersionOf('application/json;q=1.000')).toBe(1);
    expect(decisionVersionOf('application/json;Q=0.5')).toBe(1);
    expect(decisionVersionOf('application/json;q=1.')).toBe(1);
    expect(decisionVersionOf(`application/json;q=0.001, ${DECISION_V2_MEDIA_TYPE};q=0.`)).toBe(1);
    expect(decisionVersionOf(`application/json;q=0.5, ${DECISION_V2_MEDIA_TYPE};q=0.501`)).toBe(2);
  });

  it('refuses a malformed q with a 400 naming the header, even where another range matches', () => {
    for (const accept of [
      'application/json;q=abc',
      'application/json;q=2',
      '*/*;q=2',
      'application/json;q=1.5',
      'application/json;q=1.001',
      'application/json;q=0.1234',
      'application/json;q=-0.5',
      'application/json;q=',
      'application/json;q',
      'application/json;q = 0.5',
      'application/json;q=0.5;q=0.4',
      'application/json;q=.5',
      `application/json, ${DECISION_V2_MEDIA_TYPE};q=abc`,
      'text/xml;q=high',
    ]) {
      expect(
        thrownBy(() => decisionVersionOf(accept)),
        accept,
      ).toMatchObject({
        code: 'TRIAGE_REQUEST_INVALID',
        status: 400,
        errors: [{ path: '/headers/accept', message: expect.stringContaining('malformed quality value') }],
      });
    }
  });
});

describe.each(engines('decisionv2'))('the decision in version 2 on $name', ({ config }) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(config(), { wire: { models: { reloadMs: null } } });
  }, 300_000);
  afterAll(async () => h?.close());

  const post = (invoice: Invoice, accept?: string): Promise<LightMyRequestResponse> =>
    h.call('workflow', {
      method: 'POST',
      url: '/v1/invoices/score',
      payload: invoice,
      ...(accept ? { headers: { accept } } : {}),
    });

  it('lists each reason once, refers to it from its line, and loses nothing against version 1', async () => {
    // Line 1's amount misses quantity x unit price: a rule reason whose evidence names the line.
    const invoice: Invoice = {
      ...example,
      invoice_id: 'v2-example',
      invoice_number: 'INV-V2-1',
      lines: example.lines.map((l, i) => (i === 0 ? { ...l, amount_cents: l.amount_cents + 500 } : l)),
      total_cents: example.total_cents + 500,
    };
    const r2 = await post(invoice, DECISION_V2_MEDIA_TYPE);
    expect(r2.statusCode, r2.body).toBe(200);
    expect(r2.headers['content-type']).toBe(`${DECISION_V2_MEDIA_TYPE}; charset=utf-8`);
    expect(r2.headers.vary).toMatch(/accept/i);
    // The same stored decision in version 1 (a replay), the default.
    const r1 = await post(invoice);
    expect(r1.statusCode).toBe(200);
    expect(r1.headers['idempotent-replayed']).toBe('true');
    expect(r1.headers['content-type']).toBe('application/json; charset=utf-8');
    const v1 = r1.json<DecisionResponse>();
    const v2 = r2.json<DecisionResponseV2>();

    const { lines: lines1, ...rest1 } = v1;
    const { lines: lines2, ...rest2 } = v2;
    expect(rest2).toEqual(rest1);
    expect(lines2.map(({ reasons: _r, ...l }) => l)).toEqual(lines1.map(({ reasons: _r, ...l }) => l));

    let refs = 0;
    const referenced = new Set<number>();
    for (const [i, line] of lines2.entries()) {
      const want = lines1[i]!.reasons;
      expect(line.reasons).toHaveLength(want.length);
      for (const [j, r] of line.reasons.entries()) {
        if (isReasonRef(r)) {
          refs += 1;
          referenced.add(r.reason_ref);
          const top = v2.reasons[(r as ReasonRef).reason_ref]!;
          // The reference names this line's reason: the invoice reason of this line.
          expect(top.evidence.line_number).toBe(line.line_number);
          expect(withoutLine(top)).toEqual(withoutLine(want[j]!));
        } else {
          expect(r).toEqual(want[j]);
          // Nothing left twice: a line reason in full is none of the invoice's reasons.
          expect(
            v2.reasons.some(
              (t) =>
                t.evidence.line_number === line.line_number &&
                t.code === r.code &&
                JSON.stringify(withoutLine(t)) === JSON.stringify(withoutLine(r as Reason)),
            ),
          ).toBe(false);
        }
      }
    }
    // Every invoice reason that names a line is referenced from it, the rule reason too.
    const naming = v2.reasons.flatMap((t, k) => (typeof t.evidence.line_number === 'number' ? [k] : []));
    expect([...referenced].sort((a, b) => a - b)).toEqual(naming);
    expect(refs).toBeGreaterThanOrEqual(5);
    expect(v2.reasons.map((t) => t.code)).toContain('LINE_AMOUNT_MISMATCH');
    expect(Buffer.byteLength(r2.body)).toBeLessThan(0.7 * Buffer.byteLength(r1.body));

    // The stored decision read back: version 1 by default, version 2 when asked, with the explanation.
    const get = (accept?: string) =>
      h.call('workflow', {
        method: 'GET',
        url: `/v1/decisions/${v1.decision_id}`,
        ...(accept ? { headers: { accept } } : {}),
      });
    const g1 = await get();
    const g2 = await get(DECISION_V2_MEDIA_TYPE);
    expect(g2.headers['content-type']).toBe(`${DECISION_V2_MEDIA_TYPE}; charset=utf-8`);
    expect(g1.json<DecisionResponse>().lines).toEqual(v1.lines);
    const read2 = g2.json<DecisionResponseV2 & { explanation?: unknown }>();
    expect(read2.lines).toEqual(v2.lines);
    expect(read2.explanation).toEqual(g1.json<{ explanation: unknown }>().explanation);
  });

  it.each([
    {
      what: 'naming no decision version',
      status: 406,
      code: 'TRIAGE_NOT_ACCEPTABLE',
      id: 'v2-not-acceptable',
      refused: ['application/vnd.invoice-triage.decision.v3+json', 'text/xml'],
      served: '*/*',
    },
    {
      what: 'with a malformed quality value',
      status: 400,
      code: 'TRIAGE_REQUEST_INVALID',
      id: 'v2-bad-q',
      refused: ['application/json;q=abc', 'application/json;q=2'],
      served: 'application/json;q=0.5',
    },
  ])('answers an Accept $what with a $status problem+json naming it, and stores nothing', async (c) => {
    const invoice: Invoice = { ...example, invoice_id: c.id, invoice_number: `INV-${c.id}` };
    for (const accept of c.refused) {
      const r = await post(invoice, accept);
      expect(r.statusCode, r.body).toBe(c.status);
      expect(r.headers['content-type']).toContain('application/problem+json');
      expect(r.json<{ code: string; errors: { path: string }[] }>()).toMatchObject({
        code: c.code,
        errors: [{ path: '/headers/accept' }],
      });
    }
    const scored = await post(invoice, c.served);
    expect(scored.statusCode, scored.body).toBe(200);
    // The refusals stored nothing: this is the first scoring of the invoice.
    expect(scored.headers['idempotent-replayed']).toBeUndefined();
    const got = await h.call('workflow', {
      method: 'GET',
      url: `/v1/decisions/${scored.json<DecisionResponse>().decision_id}`,
      headers: { accept: c.refused.at(-1)! },
    });
    expect(got.statusCode, got.body).toBe(c.status);
    expect(got.json<{ errors: { path: string }[] }>().errors).toMatchObject([{ path: '/headers/accept' }]);
  });

  it('documents both versions of the response in the OpenAPI document', async () => {
    const doc = await h.call(null, { method: 'GET', url: '/docs/json' });
    const ok = doc.json<{
      paths: Record<
        string,
        Partial<Record<'post' | 'get', { responses: Record<string, { content: Record<string, unknown> }> }>>
      >;
    }>().paths;
    for (const [path, method] of [
      ['/v1/invoices/score', 'post'],
      ['/v1/decisions/{id}', 'get'],
    ] as const) {
      const content = ok[path]![method]!.responses['200']!.content;
      expect(Object.keys(content).sort(), path).toEqual(['application/json', DECISION_V2_MEDIA_TYPE]);
    }
  });
});
