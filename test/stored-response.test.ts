/**
 * The stored decision response (`decisions.response`) keeps each lifted line reason once, as a
 * `reason_ref`; everything that reads a decision back serves exactly the response the scoring
 * call returned: `GET /v1/decisions/:id` (`getDecision`, `getDecisionRecord`), the replay of a
 * resubmitted invoice, and a chunked batch's results. On PGlite and PostgreSQL, through the
 * production wiring, on the golden fixture's first invoices.
 */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { readGzipJson, type GoldenInput } from '../bin/golden-decisions.js';
import { registerVendorMaster } from '../bin/service-detector.js';
import { wire } from '../bin/bootstrap.js';
import type { DecisionResponse } from '../core/decision.js';
import { DEFAULT_TENANT } from '../inference/pipeline.js';
import { createProcessors, trainingUnavailable } from '../jobs/processors.js';
import type { SqlDatabase } from '../store/sql.js';
import { engines } from './fixtures.js';

const input = readGzipJson<GoldenInput>(fileURLToPath(new URL('./golden/input.json.gz', import.meta.url)));
const sample = input.invoices.slice(0, 30);

/** `d` as a jsonb column reads it back: what main's store served for a response stored whole. */
async function asStored(db: SqlDatabase, d: DecisionResponse): Promise<string> {
  const [r] = await db.query<{ e: unknown }>('SELECT $1::jsonb AS e', [JSON.stringify(d)]);
  return JSON.stringify(r!.e);
}

/** References and sizes of the tenant's stored responses. */
async function storedForm(db: SqlDatabase, tenantId: string) {
  const [r] = await db.query<{ refs: number; line_reasons: number; stored: number }>(
    `SELECT count(*) FILTER (WHERE lr ? 'reason_ref')::int AS refs, count(*)::int AS line_reasons,
       (SELECT sum(octet_length(response::text)) FROM decisions WHERE tenant_id = $1)::int AS stored
     FROM decisions, jsonb_array_elements(response->'lines') AS l, jsonb_array_elements(l->'reasons') AS lr
     WHERE tenant_id = $1`,
    [tenantId],
  );
  return r!;
}

describe.each(engines('storedresp'))('stored decision responses on $name', ({ config }) => {
  it('are stored without repeated line reasons and read back exactly as scored', async () => {
    const w = await wire(config(), { models: { reloadMs: null } });
    try {
      await registerVendorMaster(w.repo, input.vendors);
      const scored: DecisionResponse[] = [];
      for (const inv of sample) scored.push((await w.scoring.score(inv)).decision);

      const form = await storedForm(w.db, DEFAULT_TENANT);
      // Not vacuous: most line reasons are references, and the stored text is much smaller.
      expect(form.refs).toBeGreaterThan(20);
      expect(form.refs / form.line_reasons).toBeGreaterThan(0.5);
      let served = 0;
      for (const d of scored) served += Buffer.byteLength(await asStored(w.db, d));
      expect(form.stored).toBeLessThan(0.8 * served);

      for (const [i, d] of scored.entries()) {
        const want = await asStored(w.db, d);
        expect(JSON.stringify(await w.repo.getDecision(DEFAULT_TENANT, d.decision_id))).toBe(want);
        const record = await w.repo.getDecisionRecord(DEFAULT_TENANT, d.decision_id);
        const { explanation: _e, ...response } = record!.decision;
        expect(JSON.stringify(response)).toBe(want);
        const again = await w.scoring.score(sample[i]!);
        expect(again.created).toBe(false);
        expect(JSON.stringify(again.decision)).toBe(want);
      }

      // A chunked batch: multi-row write, then the batch's results as read back.
      const tenantId = 'stored-response-batch';
      const invoices = sample.map((inv) => ({ ...inv, invoice_id: `b-${inv.invoice_id}` }));
      const { batch } = await w.batches.create({
        tenantId,
        idempotencyKey: null,
        submittedByKeyId: null,
        requestSha256: '0'.repeat(64),
        chunkSize: invoices.length,
        invoices,
      });
      const p = createProcessors({ scoring: w.scoring, batches: w.batches, train: trainingUnavailable });
      await p['score-batch']({ tenantId, batchId: batch.id, chunk: 0 }, {
        updateProgress: async () => undefined,
      } as never);
      expect((await storedForm(w.db, tenantId)).refs).toBeGreaterThan(20);
      const page = await w.batches.results(tenantId, batch.id, -1, 1000);
      expect(page?.items.length).toBe(invoices.length);
      for (const item of page!.items) {
        const d = item.decision!;
        const [row] = await w.db.query<{ response: unknown }>(
          'SELECT response FROM decisions WHERE id = $1',
          [d.decision_id],
        );
        const stored = JSON.stringify(row!.response);
        // Served expanded: as many line reasons as stored, none of them a reference.
        expect(JSON.stringify(d)).not.toContain('reason_ref');
        expect(JSON.stringify(await w.repo.getDecision(tenantId, d.decision_id))).toBe(
          await asStored(w.db, d),
        );
        if (stored.includes('reason_ref')) expect(stored.length).toBeLessThan(JSON.stringify(d).length);
      }
    } finally {
      await w.closeModels();
      await w.repo.close();
    }
  }, 300_000);
});
