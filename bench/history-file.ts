/**
 * `npx tsx bench/history-file.ts N FILE [TAG] [LINES] [SHAPE]`: writes N generated 10-line invoices
 * (the history benchmark's, {@link tenLineInvoice}, SHAPE `uniform` or `spread`, see
 * {@link HistoryShape}) as JSON Lines to FILE, for timing
 * `npm run cli -- import` on a file (1M invoices are about 2.9 GB), or `POST /v1/history`
 * (bench/history-latency.ts). With LINES (1-10), each invoice keeps its first LINES lines and
 * its total is their sum. Streams, so memory stays flat.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Invoice } from '../core/invoice.js';
import { HISTORY_SHAPES, tenLineInvoice, type HistoryShape } from './history.js';
import { parseBenchArgs } from './args.js';

const {
  args: [n, path, tag, keep, shapeArg],
} = parseBenchArgs<[string, string, string, string, string]>('bench/history-file.ts', (c) =>
  c
    .argument('<n>', 'invoices written')
    .argument('<file>', 'the JSON Lines file written')
    .argument('[tag]', 'tag of the invoice ids and numbers', 'f')
    .argument('[lines]', 'lines kept of each invoice (1-10)', '10')
    .argument('[shape]', `shape of the invoices (${HISTORY_SHAPES.join(' | ')})`, 'uniform'),
);
const lines = Number(keep);
const shape = shapeArg as HistoryShape;
if (
  !n ||
  !path ||
  !Number.isSafeInteger(Number(n)) ||
  !Number.isInteger(lines) ||
  lines < 1 ||
  lines > 10 ||
  !HISTORY_SHAPES.includes(shape)
)
  throw new Error('usage: tsx bench/history-file.ts N FILE [TAG] [LINES 1-10] [uniform|spread]');
const invoice = (i: number): Invoice => {
  const inv = tenLineInvoice(i, tag, true, shape);
  if (lines === 10) return inv;
  const kept = inv.lines.slice(0, lines);
  return { ...inv, lines: kept, total_cents: kept.reduce((s, l) => s + l.amount_cents, 0) };
};
const out = createWriteStream(path);
for (let i = 0; i < Number(n); i++)
  if (!out.write(JSON.stringify(invoice(i)) + '\n')) await once(out, 'drain');
out.end();
await once(out, 'finish');
