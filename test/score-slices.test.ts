/**
 * A long invoice is scored in slices of lines with a turn of the event loop between them
 * (core/slices.ts), and the abort signal is checked after each turn: a callback scheduled when
 * the work starts runs before the work is done, and an abort raised from it stops the scoring
 * within one slice, with nothing stored. No timing: the order of events is what is checked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InvoiceLine } from '../core/invoice.js';
import { LINE_CHUNK } from '../inference/stages/coding.js';
import type { LineFeatures } from '../features/invoice-features.js';
import { createHeuristicDuplicateScorer } from '../inference/heuristic-duplicate.js';
import { createScoringService } from '../inference/pipeline.js';
import type { CodingMismatchScorer } from '../inference/scorers.js';
import type { TriageRepository } from '../store/index.js';
import { engines, invoiceOfLines } from './fixtures.js';
import { startHarness, type Harness } from './harness.js';

const N = 1_000;
const CODES = ['E0570', 'K0001', 'A4253', 'E1390', 'A7003'];

const bigInvoice = (id: string) =>
  invoiceOfLines(
    id,
    { id: 'V-SLICE', name: 'Slice Supplies' },
    '2026-01-12',
    Array.from({ length: N }, (_, i): InvoiceLine => ({
      line_number: i + 1,
      description: `Item ${i} supply description for durable medical equipment`,
      code: { system: 'HCPCS', value: CODES[i % 5]! },
      quantity: 1,
      unit_price_cents: 100,
      amount_cents: 100,
      service_date: '2026-01-10',
    })),
  );

/** A coding scorer that scores every line 0.1 and counts the lines it was given in `seen.lines`. */
function countingScorer(seen: { lines: number; onFirst?: () => void }): CodingMismatchScorer {
  return {
    task: 'coding-mismatch',
    kind: 'heuristic',
    version: 'counting@1',
    scoreLines: (_inv, lines: readonly LineFeatures[]) => {
      if (seen.lines === 0) seen.onFirst?.();
      seen.lines += lines.length;
      return lines.map((f) => ({ lineNumber: f.lineNumber, score: 0.1, reasons: [], suggestedCodes: [] }));
    },
  };
}

/** Rows of tenant `t` in the tables a scored invoice writes. */
async function rowsOf(repo: TriageRepository, t: string): Promise<number> {
  const [r] = await repo.transaction((tx) =>
    tx.query<{ n: string | number }>(
      `SELECT (SELECT count(*) FROM invoices WHERE tenant_id = $1) + (SELECT count(*) FROM decisions
        WHERE tenant_id = $1) + (SELECT count(*) FROM events WHERE tenant_id = $1) AS n`,
      [t],
    ),
  );
  return Number(r!.n);
}

describe.each(engines('slices'))('a long invoice scored in slices on $name', ({ name, config }) => {
  const ref = {} as { h: Harness };
  beforeAll(async () => {
    ref.h = await startHarness(config());
  }, 120_000);
  afterAll(async () => {
    await ref.h.close();
  });

  /** The scoring service over the harness's store with the counting scorer; `reads` counts replay reads. */
  function service(seen: { lines: number; onFirst?: () => void }, reads = { n: 0 }) {
    const repo = ref.h.wired.repo;
    return createScoringService({
      repo: Object.assign(Object.create(repo) as TriageRepository, {
        findByInvoiceId: (tenantId: string, invoiceId: string) => {
          reads.n++;
          return repo.findByInvoiceId(tenantId, invoiceId);
        },
      }),
      coding: countingScorer(seen),
      duplicate: createHeuristicDuplicateScorer(),
      referenceVersion: 'test',
    });
  }

  it('an abort from a turn taken while the lines are scored stops it within one slice; nothing is stored', async () => {
    const tenant = `slices-coding-${name}`;
    const inv = bigInvoice('slices-coding');
    const stop = new AbortController();
    const seen: { lines: number; onFirst?: () => void; atTurn?: number } = { lines: 0 };
    // Scheduled when the first slice is scored; runs at the first turn the scoring gives.
    seen.onFirst = () =>
      setImmediate(() => {
        seen.atTurn = seen.lines;
        stop.abort(new Error('stopped'));
      });
    await expect(service(seen).score(inv, tenant, null, { signal: stop.signal })).rejects.toThrow('stopped');
    expect(seen.atTurn).toBe(LINE_CHUNK);
    expect(seen.lines).toBe(LINE_CHUNK);
    expect(await ref.h.wired.repo.findByInvoiceId(tenant, inv.invoice_id)).toBeNull();
    expect(await rowsOf(ref.h.wired.repo, tenant)).toBe(0);

    const again = { lines: 0 };
    const retry = await service(again).score(inv, tenant);
    expect(retry.created).toBe(true);
    expect(again.lines).toBe(N);
    expect(retry.decision.lines).toHaveLength(N);
    expect(await rowsOf(ref.h.wired.repo, tenant)).toBeGreaterThanOrEqual(2);
  });

  it('a callback scheduled at the start runs while the lines are prepared, and its abort stops them', async () => {
    const tenant = `slices-prepare-${name}`;
    const inv = bigInvoice('slices-prepare');
    const stop = new AbortController();
    const seen = { lines: 0 };
    const reads = { n: 0 };
    const state: { readsAtTurn?: number } = {};
    const work = service(seen, reads).score(inv, tenant, null, { signal: stop.signal });
    setImmediate(() => {
      state.readsAtTurn = reads.n;
      stop.abort(new Error('stopped'));
    });
    await expect(work).rejects.toThrow('stopped');
    // The turn came during the preparation: before the replay read, and no line was scored.
    expect(state.readsAtTurn).toBe(0);
    expect(reads.n).toBe(0);
    expect(seen.lines).toBe(0);
    expect(await rowsOf(ref.h.wired.repo, tenant)).toBe(0);
  });
});
