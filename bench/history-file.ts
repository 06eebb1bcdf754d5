/**
 * `npx tsx bench/history-file.ts N FILE [TAG]`: writes N generated 10-line invoices (the history
 * benchmark's, {@link tenLineInvoice}) as JSON Lines to FILE, for timing `npm run cli -- import`
 * on a file (1M invoices are about 2.9 GB). Streams, so memory stays flat.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { tenLineInvoice } from './history.js';

const [n, path, tag = 'f'] = process.argv.slice(2);
if (!n || !path || !Number.isSafeInteger(Number(n)))
  throw new Error('usage: tsx bench/history-file.ts N FILE [TAG]');
const out = createWriteStream(path);
for (let i = 0; i < Number(n); i++)
  if (!out.write(JSON.stringify(tenLineInvoice(i, tag)) + '\n')) await once(out, 'drain');
out.end();
await once(out, 'finish');
