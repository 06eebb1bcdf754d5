/**
 * Round trips of the scoring transaction, counted by wrapping the executor: BEGIN with the
 * scoring locks (one round trip on PostgreSQL), the candidate search with the replay check,
 * the scoring write, the audit outbox row, the event, COMMIT. A replayed invoice stops after
 * the search. The audit link runs after the commit, off the answer's path, once per batch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRepository,
  openDatabase,
  type SqlDatabase,
  type SqlExecutor,
  type TriageRepository,
} from '../store/index.js';
import { extractInvoiceFeatures } from '../features/invoice-features.js';
import { decisionFor, engines, keysOf, makeInvoice } from './fixtures.js';
import { dropSchema } from './harness.js';
import { enqueueAuditMany, linkAllAudit, verifyAudit } from '../store/audit.js';

/** `db` counting its round trips: each statement, and BEGIN (with its locks) and COMMIT of each transaction. */
function counting(db: SqlDatabase): { db: SqlDatabase; trips: string[] } {
  const trips: string[] = [];
  const first = (sql: string) => sql.trim().split(/\s+/).slice(0, 3).join(' ');
  const wrap = (ex: SqlExecutor): SqlExecutor => ({
    query: (sql, params, o) => {
      trips.push(o?.name ?? first(sql));
      return ex.query(sql, params, o);
    },
    exec: (sql) => {
      trips.push(first(sql));
      return ex.exec(sql);
    },
  });
  return {
    trips,
    db: {
      ...db,
      ...wrap(db),
      transaction: async (fn, o) => {
        trips.push(o?.lockKeys?.length ? 'BEGIN+locks' : 'BEGIN');
        const out = await db.transaction((tx) => fn(wrap(tx)), o);
        trips.push('COMMIT');
        return out;
      },
    },
  };
}

describe.each(engines('trips'))('scoring round trips on $name', ({ config }) => {
  const cfg = config();
  let db: SqlDatabase;
  let counted: ReturnType<typeof counting>;
  let repo: TriageRepository;
  beforeAll(async () => {
    db = await openDatabase(cfg);
    counted = counting(db);
    repo = createRepository(counted.db, { linkAfterCommit: false });
  });
  afterAll(async () => {
    await repo.close();
    await dropSchema(cfg);
  });

  const scoreTx = (inv: ReturnType<typeof makeInvoice>) => {
    const f = extractInvoiceFeatures(inv);
    return repo.withScoringLock('trips', [f.vendorKey, inv.vendor.id], async (tx) => {
      const { stored } = await tx.findDuplicateCandidates({
        embedding: f.embedding,
        k: 10,
        vendorKey: f.vendorKey,
        vendorId: inv.vendor.id,
        invoiceNumberCanonical: f.invoiceNumber.canonical,
        totalCents: inv.total_cents,
        invoiceDate: inv.invoice_date,
        documentType: inv.document_type,
        replayInvoiceId: inv.invoice_id,
      });
      if (stored) return stored.decision;
      return (await tx.insert(inv, 'h', keysOf(inv), decisionFor(inv))).decision;
    });
  };

  it('a new invoice: 7 round trips in the scoring transaction; a replay: 3', async () => {
    await scoreTx(makeInvoice({ invoice_id: 'warm' }));
    counted.trips.length = 0;
    const inv = makeInvoice({ invoice_id: 'trip-1', invoice_number: 'T-1' });
    await scoreTx(inv);
    expect(counted.trips).toEqual([
      'BEGIN+locks',
      expect.stringMatching(/^candidate_search_invoice_/),
      `score_write_${inv.lines.length}`,
      'vendor_line_stats',
      'audit_enqueue',
      'append_events',
      'COMMIT',
    ]);
    counted.trips.length = 0;
    await scoreTx(inv);
    expect(counted.trips).toEqual([
      'BEGIN+locks',
      expect.stringMatching(/^candidate_search_invoice_/),
      'COMMIT',
    ]);
  });

  it('linking after commit: one transaction of 4 named statements for a whole batch of decisions', async () => {
    for (let i = 0; i < 5; i++)
      await scoreTx(makeInvoice({ invoice_id: `batch-${i}`, invoice_number: `B-${i}` }));
    counted.trips.length = 0;
    expect(await repo.audit.link('trips')).toBe(7);
    // One batch (anything waiting, lock head, read the rows, write); a batch shorter than its
    // limit took every waiting row, so no second transaction looks for more.
    expect(counted.trips).toEqual([
      'BEGIN',
      'audit_outbox_any',
      'audit_lock_head',
      'audit_outbox_batch',
      'audit_write_linked',
      'COMMIT',
    ]);
  });

  it('linking everything: batches of 1000 until one is short, then no further look', async () => {
    const waiting = (tenantId: string, n: number) =>
      db.transaction((tx) =>
        enqueueAuditMany(
          tx,
          Array.from({ length: n }, (_, i) => ({
            tenantId,
            actorKeyId: null,
            kind: 'decision.created' as const,
            subjectId: `s-${i}`,
            payload: { i },
          })),
        ),
      );
    await waiting('trips-1001', 1001);
    counted.trips.length = 0;
    expect(await linkAllAudit(counted.db, 'trips-1001')).toBe(1001);
    expect(counted.trips.filter((t) => t === 'audit_write_linked')).toHaveLength(2);
    expect(counted.trips.filter((t) => t === 'BEGIN')).toHaveLength(2);
    expect(await verifyAudit(db, 'trips-1001')).toMatchObject({ ok: true, rowsChecked: 1001, pending: 0 });
    // A full batch may have left rows behind: one more look finds none and locks nothing.
    await waiting('trips-1000', 1000);
    counted.trips.length = 0;
    expect(await linkAllAudit(counted.db, 'trips-1000')).toBe(1000);
    expect(counted.trips.slice(-3)).toEqual(['BEGIN', 'audit_outbox_any', 'COMMIT']);
    expect(await verifyAudit(db, 'trips-1000')).toMatchObject({ ok: true, rowsChecked: 1000, pending: 0 });
  });
});
