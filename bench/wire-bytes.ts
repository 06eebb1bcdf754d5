/**
 * Bytes the PostgreSQL driver sends and receives per invoice of a chunked batch, for two
 * checkouts (`npx tsx bench/wire-bytes.ts BEFORE_DIR AFTER_DIR [--invoices 600] [--chunk 100]
 * [--concurrency 2]`): each tree's batch bench ({@link runBatchBenchmark} of its bench/batch.ts,
 * the chunked mode) runs twice on fresh schemas of `BENCH_DATABASE_URL` (default
 * `TEST_DATABASE_URL`), with 100 and with 100 + `--invoices` invoices; the bytes of every socket
 * to PostgreSQL's port (Node's `bytesWritten` / `bytesRead`) are summed over each run, and the
 * difference of the two runs divided by `--invoices` is the figure, so what does not grow with
 * the invoices (migrations, the models, the warm-up) cancels out. Prints one JSON line per tree.
 */
import net from 'node:net';
import { parseAbCommand } from './args.js';
import type { runBatchBenchmark as RunBatchBenchmark } from './batch.js';
import type { tenLineInvoice as TenLineInvoice } from './history.js';
import { openPostgres } from '../store/postgres.js';

/** Every socket this process opened to `port`, kept so their counters can be read after close. */
function countSockets(port: number): () => { sent: number; received: number } {
  const sockets = new Set<net.Socket>();
  const connect = net.Socket.prototype.connect as (...a: unknown[]) => net.Socket;
  net.Socket.prototype.connect = function (this: net.Socket, ...a: unknown[]) {
    this.once('connect', () => {
      if (this.remotePort === port) sockets.add(this);
    });
    return connect.apply(this, a);
  } as typeof net.Socket.prototype.connect;
  return () => {
    let sent = 0;
    let received = 0;
    for (const s of sockets) {
      sent += s.bytesWritten;
      received += s.bytesRead;
    }
    return { sent, received };
  };
}

async function main(): Promise<void> {
  const { trees, opts: o } = parseAbCommand<{ invoices: string; chunk: string; concurrency: string }>((c) =>
    c
      .option('--invoices <n>', 'invoices measured (the difference of the two runs)', '600')
      .option('--chunk <n>', 'batch chunk size', '100')
      .option('--concurrency <n>', 'chunk jobs in flight', '2'),
  );
  const connectionString = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  if (!connectionString) throw new Error('set BENCH_DATABASE_URL or TEST_DATABASE_URL');
  const bytes = countSockets(Number(new URL(connectionString).port || 5432));
  const base = 100;
  for (const dir of trees) {
    const { runBatchBenchmark } = (await import(`${dir}/bench/batch.ts`)) as {
      runBatchBenchmark: typeof RunBatchBenchmark;
    };
    const { tenLineInvoice } = (await import(`${dir}/bench/history.ts`)) as {
      tenLineInvoice: typeof TenLineInvoice;
    };
    const run = async (n: number, schema: string) => {
      const b0 = bytes();
      try {
        await runBatchBenchmark(
          { engine: 'postgres', connectionString, schema },
          n,
          Number(o.chunk),
          tenLineInvoice,
          ['chunked'],
          Number(o.concurrency),
        );
        const b1 = bytes();
        return { sent: b1.sent - b0.sent, received: b1.received - b0.received };
      } finally {
        const db = await openPostgres({ connectionString, schema });
        await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
        await db.close();
      }
    };
    const small = await run(base, 'bench_wire_small');
    const large = await run(base + Number(o.invoices), 'bench_wire_large');
    const per = (k: 'sent' | 'received') => Math.round((large[k] - small[k]) / Number(o.invoices));
    console.log(
      JSON.stringify({
        tree: dir,
        sentBytesPerInvoice: per('sent'),
        receivedBytesPerInvoice: per('received'),
      }),
    );
  }
}

await main();
