import { describe, expect, it } from 'vitest';
import { decisionInputs as inputs } from '../../test/stage-fixtures.js';
import { DEFAULT_POLICY_DEFINITION } from '../policy.js';
import { findCandidates } from './candidates.js';
import { buildDecision, duplicateOf } from './decision.js';
import { persist } from './persist.js';

describe('decision stage', () => {
  it('builds the decision and its audit payload from the same values', async () => {
    const i = await inputs();
    const { decision, auditPayload } = buildDecision(i);
    expect(decision).toMatchObject({
      decision_id: i.decisionId,
      invoice_id: 'again',
      decision: 'HOLD',
      queue: 'ap',
      created_at: '2025-03-10T09:00:00.000Z',
      priority: i.priority.dollars,
    });
    expect(decision.duplicates.map((d) => d.invoice_id)).toEqual(['orig']);
    expect(decision.lines.map((l) => [l.line_number, l.coding_mismatch])).toEqual([
      [1, 0.1],
      [2, 0.1],
    ]);
    // The version that scored the lines wins over the one serving new calls.
    expect(decision.versions.models).toEqual({
      'coding-mismatch': 'coding-mismatch@7',
      duplicate: 'heuristic-duplicate@1',
    });
    expect(auditPayload).toEqual({
      decision_id: i.decisionId,
      invoice_id: 'again',
      invoice_sha256: i.prepared.sha256,
      decision: 'HOLD',
      queue: 'ap',
      priority: decision.priority,
      scores: decision.scores,
      reason_codes: ['DUPLICATE_SAME_NUMBER'],
      duplicate_of: 'orig',
      reverses: null,
      versions: decision.versions,
      policy_sha256: DEFAULT_POLICY_DEFINITION.sha256,
    });
  });
});

describe('duplicateOf (the audit entry link)', () => {
  const match = (invoice_id: string, kind: 'invoice' | 'lines' | 'invoice_and_lines', score: number) =>
    ({ invoice_id, kind, score }) as Parameters<typeof duplicateOf>[1][number];
  const flagged = (id: string) =>
    ({ flagged: { candidate: { invoiceId: id } } }) as Parameters<typeof duplicateOf>[0];

  it('names the flagged pair, else the best earlier invoice of a re-billed line, else null', () => {
    const reported = [match('a', 'invoice', 0.9), match('b', 'lines', 0.85), match('c', 'lines', 0.8)];
    expect(duplicateOf(flagged('a'), reported)).toBe('a');
    expect(duplicateOf({ flagged: null }, reported)).toBe('b');
    expect(
      duplicateOf({ flagged: null }, [match('a', 'invoice', 0.01), match('d', 'invoice_and_lines', 0.85)]),
    ).toBe('d');
    expect(duplicateOf({ flagged: null }, [match('a', 'invoice', 0.01)])).toBeNull();
    expect(duplicateOf({ flagged: null }, [])).toBeNull();
  });
});

describe('candidates and persist stages', () => {
  it('search with the prepared keys and write the built decision with its extras', async () => {
    const i = await inputs();
    const queries: unknown[] = [];
    await findCandidates(
      {
        findDuplicateCandidates: async (q) => {
          queries.push(q);
          return {
            candidates: [],
            search: {
              method: 'exact',
              k: 4,
              tenantRowsCounted: 0,
              knnFound: 0,
              vendorKnnFound: 0,
              exactKeyFound: 0,
            },
          };
        },
      },
      i.prepared,
      4,
    );
    expect(queries).toEqual([
      {
        embedding: i.prepared.features.embedding,
        k: 4,
        vendorKey: i.prepared.features.vendorKey,
        vendorId: 'V-100',
        invoiceNumberCanonical: i.prepared.features.invoiceNumber.canonical,
        totalCents: 21_500,
        invoiceDate: '2025-03-01',
        documentType: 'invoice',
        replayInvoiceId: i.prepared.invoice.invoice_id,
      },
    ]);
    const built = buildDecision(i);
    const writes: unknown[][] = [];
    const explanation = {} as Parameters<typeof persist>[3];
    await persist(
      {
        insert: async (...args) => {
          writes.push(args);
          return { decision: built.decision, created: true };
        },
      },
      i.prepared,
      built,
      explanation,
      i.priority,
      'key-1',
    );
    expect(writes).toEqual([
      [
        i.prepared.invoice,
        i.prepared.sha256,
        i.prepared.keys,
        built.decision,
        {
          scoredByKeyId: 'key-1',
          priority: i.priority.components,
          explanation,
          reversesInvoiceId: null,
          auditPayload: built.auditPayload,
        },
      ],
    ]);
  });
});
