/**
 * Bytes of the `POST /v1/invoices/score` response in both versions of the decision
 * representation (core/decision-v2.ts): `npx tsx bench/response-bytes.ts [invoices]`. Scores
 * the README example (datasets/samples/example-invoice.json) and `invoices` ten-line benchmark
 * invoices (bench/history.ts `tenLineInvoice`, default 20) through the app on a fresh in-memory
 * PGlite store with the shipped champions, once as `application/json` (version 1), then asks for
 * the same stored decisions again as version 2 (an idempotent replay) and prints the response
 * body bytes of each.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildApp } from '../api/app.js';
import { appDepsOf, wire } from '../bin/bootstrap.js';
import { DECISION_V2_MEDIA_TYPE } from '../core/decision-v2.js';
import type { Invoice } from '../core/invoice.js';
import { packageRoot } from '../core/paths.js';
import { tenLineInvoice } from './history.js';
import { parseBenchArgs } from './args.js';

const {
  args: [invoices],
} = parseBenchArgs<[string]>('bench/response-bytes.ts', (c) =>
  c.argument('[invoices]', 'ten-line benchmark invoices scored', '20'),
);
const n = Number(invoices);
const w = await wire({ engine: 'pglite' }, { models: { reloadMs: null } });
const key = await w.repo.keys.create({ tenantId: 'default', name: 'bench bytes', roles: ['workflow'] }, null);
const app = await buildApp({
  ...appDepsOf(w),
  bodyLimitBytes: 1024 * 1024,
});

/** Response body bytes of scoring `invoice` with `accept`. */
async function bytes(invoice: Invoice, accept: string): Promise<number> {
  const r = await app.inject({
    method: 'POST',
    url: '/v1/invoices/score',
    headers: { authorization: `Bearer ${key.key}`, accept },
    payload: invoice,
  });
  if (r.statusCode !== 200) throw new Error(`${invoice.invoice_id}: ${r.statusCode} ${r.body}`);
  return Buffer.byteLength(r.body);
}

/** Mean bytes of both versions over `invoices`. */
async function measure(label: string, invoices: readonly Invoice[]): Promise<void> {
  let v1 = 0;
  let v2 = 0;
  for (const inv of invoices) v1 += await bytes(inv, 'application/json');
  for (const inv of invoices) v2 += await bytes(inv, DECISION_V2_MEDIA_TYPE);
  const k = invoices.length;
  console.log(
    `${label.padEnd(36)} v1 ${(v1 / k).toFixed(0).padStart(7)} B   v2 ${(v2 / k).toFixed(0).padStart(7)} B   ` +
      `v2/v1 ${(v2 / v1).toFixed(3)}`,
  );
}

try {
  const example = JSON.parse(
    readFileSync(join(packageRoot(), 'datasets', 'samples', 'example-invoice.json'), 'utf8'),
  ) as Invoice;
  await measure('README example (2 lines)', [example]);
  await measure(
    `ten-line invoices (mean of ${n})`,
    Array.from({ length: n }, (_, i) => tenLineInvoice(i, 'bytes')),
  );
} finally {
  await app.close();
  await w.repo.close();
}
