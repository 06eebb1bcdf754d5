/**
 * Migration 104: vendor keys of names holding the word "constructor", stored before the vendor
 * normaliser read its abbreviation table by own keys only, become the normalised name again, so
 * that such a vendor's history and its new invoices share one key (duplicate search blocks on it).
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { normaliseVendorName } from '../features/vendor.js';
import { importHistoryChunk } from '../inference/history.js';
import { openStore, type StoreConfig } from '../store/index.js';
import { makeInvoice, TEST_DATABASE_URL, uniqueSchema } from './fixtures.js';
import { dropSchema } from './harness.js';

const MIGRATION_104 = readFileSync(
  new URL('../store/migrations/104_vendor_key_own_words.sql', import.meta.url),
  'utf8',
);
const PROTOTYPE_KEY = 'function Object() { [native code] } medical';

describe.skipIf(!TEST_DATABASE_URL)('migration 104 on PostgreSQL', () => {
  it('rewrites a prototype-read vendor key to the normalised name and leaves other keys alone', async () => {
    expect(normaliseVendorName('Constructor Medical, Inc.')).toBe('constructor medical');
    const cfg: StoreConfig = {
      engine: 'postgres',
      connectionString: TEST_DATABASE_URL!,
      schema: uniqueSchema('vk104'),
    };
    const store = await openStore(cfg);
    const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await c.connect();
    try {
      const inputs = [
        makeInvoice({ invoice_id: 'vk-1', vendor: { id: 'V-CON', name: 'Constructor Medical, Inc.' } }),
        makeInvoice({ invoice_id: 'vk-2', vendor: { id: 'V-ACME', name: 'Acme Medical Supply' } }),
      ].map((value, i) => ({ location: `/${i}`, value }));
      const imported = await importHistoryChunk(store.history, 't', inputs, {
        actorKeyId: null,
        onBadRecord: 'refuse',
      });
      expect(imported.imported).toBe(2);
      await c.query(`SET search_path TO "${cfg.schema}"`);
      // The key as the earlier normaliser stored it.
      await c.query(`UPDATE invoices SET vendor_key = $1 WHERE invoice_id = 'vk-1'`, [PROTOTYPE_KEY]);
      await c.query(MIGRATION_104);
      const keys = await c.query<{ invoice_id: string; vendor_key: string }>(
        'SELECT invoice_id, vendor_key FROM invoices ORDER BY invoice_id',
      );
      expect(keys.rows).toEqual([
        { invoice_id: 'vk-1', vendor_key: 'constructor medical' },
        { invoice_id: 'vk-2', vendor_key: 'acme medical supply' },
      ]);
    } finally {
      await c.end();
      await store.close();
      await dropSchema(cfg);
    }
  }, 120_000);
});
