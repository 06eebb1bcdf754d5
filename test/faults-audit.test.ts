/**
 * Audit outbox faults, on both engines: scoring writes an outbox row in its transaction and a
 * linker hashes it onto the tenant's chain later. A crash between the scoring commit and the
 * link, or at any statement of a link, loses no decision from the chain and breaks nothing:
 * the chain verifies at every point, and once linked every decision appears exactly once.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  createRepository,
  linkAudit,
  openDatabase,
  verifyAudit,
  type RepositoryOptions,
  type SqlDatabase,
  type SqlExecutor,
  type StoreConfig,
  type TriageRepository,
} from '../store/index.js';
import { decisionFor, engines, keysOf, makeInvoice } from './fixtures.js';
import { dropSchema } from './harness.js';

/** `db` whose transactions throw at their `failAt`-th statement (0-based), as a crash would. */
function crashingAt(db: SqlDatabase, failAt: number): SqlDatabase {
  return {
    ...db,
    transaction: (fn, o) =>
      db.transaction((tx) => {
        let n = 0;
        const faulty: SqlExecutor = {
          query: (sql, params, qo) => {
            if (n++ === failAt) return Promise.reject(new Error(`crash at statement ${failAt}`));
            return tx.query(sql, params, qo);
          },
          exec: (sql) => tx.exec(sql),
        };
        return fn(faulty);
      }, o),
  };
}

async function counts(db: SqlDatabase, tenant: string): Promise<{ log: number; outbox: number }> {
  const r = await db.query<{ log: number; outbox: number }>(
    `SELECT (SELECT count(*) FROM audit_log WHERE tenant_id = $1)::int AS log,
            (SELECT count(*) FROM audit_outbox WHERE tenant_id = $1)::int AS outbox`,
    [tenant],
  );
  return r[0]!;
}

describe.each(engines('faults_audit'))('audit outbox faults on $name', ({ name, config }) => {
  const cfg: StoreConfig = config();
  // PGlite is in memory: the "processes" of this file share one database; PostgreSQL opens a pool each.
  const shared = name === 'pglite' ? openDatabase(cfg) : null;
  const open = async (): Promise<SqlDatabase> => {
    if (!shared) return openDatabase(cfg);
    const db = await shared;
    return { ...db, close: async () => undefined };
  };
  /** A repository as one process would open it. */
  const process = async (opts: RepositoryOptions = {}): Promise<TriageRepository> =>
    createRepository(await open(), opts);
  afterAll(async () => {
    if (shared) await (await shared).close();
    await dropSchema(cfg);
  });

  it('a crash between the scoring commit and the link loses nothing; a restart links every decision once', async () => {
    const tenant = 'crash-after-commit';
    // "Process 1" scores and commits, and dies before linking.
    const first = await process({ linkAfterCommit: false });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const inv = makeInvoice({ invoice_id: `cac-${i}` });
      const d = decisionFor(inv);
      ids.push(d.decision_id);
      await first.saveDecision(tenant, inv, `h${i}`, keysOf(inv), d);
    }
    await first.close();
    const db = await open();
    try {
      expect(await counts(db, tenant)).toEqual({ log: 0, outbox: 5 });
      // Verification without linking covers the waiting tail.
      expect(await verifyAudit(db, tenant)).toMatchObject({ ok: true, rowsChecked: 0, pending: 5 });
      // "Process 2" starts: its first read of the chain links the tail.
      const second = await process();
      expect(await second.audit.verify(tenant)).toMatchObject({ ok: true, rowsChecked: 5, pending: 0 });
      const rows = await second.audit.list(tenant, { limit: 100 });
      expect(rows.filter((r) => r.kind === 'decision.created').map((r) => r.subjectId)).toEqual(ids);
      await second.close();
    } finally {
      await db.close();
    }
  }, 120_000);

  it('a crash at any statement of a link rolls the batch back; the chain verifies throughout', async () => {
    const tenant = 'crash-in-link';
    const db = await open();
    const repo = await process({ linkAfterCommit: false });
    const ids: string[] = [];
    try {
      const score = async (i: number) => {
        const inv = makeInvoice({ invoice_id: `cil-${i}` });
        const d = decisionFor(inv);
        ids.push(d.decision_id);
        await repo.saveDecision(tenant, inv, `h${i}`, keysOf(inv), d);
      };
      let i = 0;
      // linkAudit runs 4 statements (read, lock head, re-read, write); crash at each in turn.
      for (let failAt = 0; failAt < 4; failAt++) {
        await score(i++);
        await score(i++);
        const before = await counts(db, tenant);
        await expect(linkAudit(crashingAt(db, failAt), tenant)).rejects.toThrow(/crash at statement/);
        expect(await counts(db, tenant)).toEqual(before);
        expect(await verifyAudit(db, tenant)).toMatchObject({ ok: true, pending: before.outbox });
        // Every other link completes.
        if (failAt % 2 === 1) expect(await linkAudit(db, tenant)).toBe(before.outbox);
      }
      await score(i++);
      expect(await repo.audit.link(tenant)).toBe(1);
      expect(await counts(db, tenant)).toEqual({ log: ids.length, outbox: 0 });
      expect(await verifyAudit(db, tenant)).toMatchObject({ ok: true, rowsChecked: ids.length, pending: 0 });
      const subjects = (await repo.audit.list(tenant, { limit: 100 })).map((r) => r.subjectId);
      expect([...subjects].sort()).toEqual([...ids].sort());
    } finally {
      await repo.close();
      await db.close();
    }
  }, 120_000);

  it('concurrent scoring with linking after commit and concurrent linkers: one chain, every decision once', async () => {
    const tenant = 'concurrent';
    const repo = await process();
    const db = await open();
    try {
      const saved = await Promise.all(
        Array.from({ length: 12 }, (_, i) => {
          const inv = makeInvoice({
            invoice_id: `cc-${i}`,
            vendor: { id: `V-${i % 3}`, name: `Vendor ${i % 3}` },
          });
          return repo.withScoringLock(tenant, [inv.vendor.id], (tx) =>
            tx.insert(inv, `h${i}`, keysOf(inv), decisionFor(inv)),
          );
        }),
      );
      await Promise.all([linkAudit(db, tenant), linkAudit(db, tenant), repo.audit.link(tenant)]);
      expect(await repo.audit.verify(tenant)).toMatchObject({ ok: true, rowsChecked: 12, pending: 0 });
      const subjects = (await repo.audit.list(tenant, { limit: 100 })).map((r) => r.subjectId);
      expect([...subjects].sort()).toEqual(saved.map((s) => s.decision.decision_id).sort());
    } finally {
      await repo.close();
      await db.close();
    }
  }, 120_000);

  it('an altered outbox row is caught by verify before it is linked', async () => {
    const tenant = 'tampered-tail';
    const repo = await process({ linkAfterCommit: false });
    const db = await open();
    try {
      for (let i = 0; i < 2; i++) {
        const inv = makeInvoice({ invoice_id: `tt-${i}` });
        await repo.saveDecision(tenant, inv, `h${i}`, keysOf(inv), decisionFor(inv));
      }
      await db.query(`UPDATE audit_outbox SET payload = payload || ' ' WHERE tenant_id = $1`, [tenant]);
      expect(await verifyAudit(db, tenant)).toMatchObject({
        ok: false,
        problem: 'pending_payload_altered',
        firstBadSeq: 1,
      });
    } finally {
      await repo.close();
      await db.close();
    }
  }, 60_000);
});
