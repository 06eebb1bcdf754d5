/**
 * Deferred line explanations: the coding model explains while scoring only the lines whose
 * reasons need it (above the reason threshold); the others are stored with their input row and
 * explained when the decision is read. Read back, every decision's explanation is byte for byte
 * the one a service explaining every line at scoring time stores, on PGlite and PostgreSQL,
 * through the production wiring (the golden run's path) on the golden fixture's first invoices.
 */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { goldenDecisions, readGzipJson, type GoldenInput } from '../bin/golden-decisions.js';
import { openDatabase, type StoreConfig } from '../store/index.js';
import { engines } from './fixtures.js';

const input = readGzipJson<GoldenInput>(fileURLToPath(new URL('./golden/input.json.gz', import.meta.url)));
const sample: GoldenInput = { ...input, invoices: input.invoices.slice(0, 40) };

/** Stored coding lines of a store's decisions: deferred (an input row kept) and explained now. */
async function storedLines(config: StoreConfig): Promise<{ deferred: number; explained: number }> {
  const db = await openDatabase(config);
  try {
    const rows = await db.query<{ deferred: number; explained: number }>(
      `SELECT count(*) FILTER (WHERE l ? 'explain_later')::int AS deferred,
              count(*) FILTER (WHERE l ? 'model')::int AS explained
         FROM decisions, jsonb_array_elements(explanation->'coding_mismatch'->'lines') AS l`,
    );
    return rows[0]!;
  } finally {
    await db.close();
  }
}

describe.each(engines('lazyex'))('deferred line explanations on $name', ({ name, config }) => {
  it('reads back exactly as explanations computed while scoring', async () => {
    const lazyStore = config();
    const eagerStore = config();
    const models = { reloadMs: null };
    const lazy = await goldenDecisions(sample, { store: lazyStore, models });
    const eager = await goldenDecisions(sample, {
      store: eagerStore,
      models: { ...models, explainAllLines: true },
    });
    expect(lazy.length).toBe(sample.invoices.length);
    lazy.forEach((line, i) => expect(line).toBe(eager[i]));
    if (name !== 'postgres') return;
    // Not vacuous: the lazy store deferred lines that the eager one explained at once.
    const l = await storedLines(lazyStore);
    const e = await storedLines(eagerStore);
    expect(l.deferred).toBeGreaterThan(20);
    expect(e.deferred).toBe(0);
    expect(e.explained).toBe(l.explained + l.deferred);
  }, 300_000);
});
