#!/usr/bin/env tsx
/**
 * `npx tsx bench/body-parse.bench.ts [--before FILE]`: cost of parsing the JSON body of a
 * 10-line invoice with the API's parser (api/body/json.ts: UTF-8 check, JSON.parse, repeated-key
 * and prototype-key scan, and with the route's schema the integer-numeral check of cents)
 * beside bare `JSON.parse` of the same bytes, for the invoice as sent by the bench (integers
 * only) and with an extractor's confidences on every field and line (110 numbers with a
 * fraction, each looked up in the schema's integer places). `--before` adds the
 * `parseJsonBody` of another copy of the parser, e.g. main's, put beside it so that its imports
 * resolve: `git show main:api/body/json.ts > api/body/json-main.ts`, then
 * `--before api/body/json-main.ts`. Variants alternate within each round; prints microseconds
 * per body (median of 7 rounds of 20 000 parses) and each variant's ratio to bare `JSON.parse`.
 */
import { resolve } from 'node:path';
import { parseJsonBody } from '../api/body/json.js';
import { Invoice } from '../core/invoice.js';
import { benchInvoice } from './features.bench.js';

const ROUNDS = 7;
const N = 20_000;

const plain = benchInvoice(0);
const fields = ['line', 'description', 'code', 'modifiers', 'quantity', 'unit_price_cents', 'amount_cents'];
const confident = {
  ...plain,
  extraction: {
    extractor: { name: 'ocr', version: '3.1' },
    fields: { invoice_number: 0.97, invoice_date: 0.91, total_cents: 0.88, vendor_name: 0.93 },
    lines: plain.lines.map((l, i) => ({
      line_number: l.line_number,
      ...Object.fromEntries(fields.map((f, k) => [f, 0.8 + ((i + k) % 19) / 100])),
    })),
  },
};

const before = process.argv.indexOf('--before');
const older =
  before >= 0
    ? ((await import(resolve(process.argv[before + 1]!))) as { parseJsonBody: (b: Buffer) => unknown })
        .parseJsonBody
    : undefined;

const variants: [string, (b: Buffer) => unknown][] = [
  ['bare JSON.parse', (b) => JSON.parse(b.toString('utf8'))],
  ...(older ? ([['--before parser', older]] as [string, (b: Buffer) => unknown][]) : []),
  ['API parser', (b) => parseJsonBody(b)],
  ['API parser + schema', (b) => parseJsonBody(b, Invoice)],
];

for (const [name, invoice] of [
  ['10-line invoice', plain],
  ['10-line invoice with confidences', confident],
] as const) {
  const body = Buffer.from(JSON.stringify(invoice));
  const times = new Map<string, number[]>(variants.map(([v]) => [v, []]));
  for (let r = 0; r < ROUNDS; r++)
    for (const [v, parse] of variants) {
      const t = process.hrtime.bigint();
      for (let i = 0; i < N; i++) parse(body);
      times.get(v)!.push(Number(process.hrtime.bigint() - t) / N / 1000);
    }
  const median = (v: string): number => times.get(v)!.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)]!;
  const bare = median('bare JSON.parse');
  console.log(`${name}, ${body.length} bytes:`);
  for (const [v] of variants)
    console.log(
      `  ${v.padEnd(22)} ${median(v).toFixed(1).padStart(6)} us  x${(median(v) / bare).toFixed(2)}`,
    );
}
