/**
 * The chunk scorer's look-ahead (inference/chunk-scoring.ts): while a group's write and commit
 * run, the next group's members that share no key with it are read and scored (stages 2-4);
 * the others wait for the commit. Every member must still read its vendor's inputs (policy and
 * profile versions, code counts, baselines) as one-by-one scoring reads them, i.e. after every
 * earlier invoice of its vendor is stored, and find earlier groups' invoices as duplicates.
 */
import { describe, expect, it } from 'vitest';
import { isDeepStrictEqual } from 'node:util';
import type { Invoice } from '../core/invoice.js';
import type { Wired } from '../bin/bootstrap.js';
import type { ScoringInputs } from '../store/scoring-reads.js';
import { engines } from './fixtures.js';
import { datedLine, wirePair, withLines } from './batch-chunk-fixtures.js';

/** Vendors of the chunk in order: groups [0 1 2 3], [0 4 5 1 6 7 2], [0 3 4 8 1 5 6], then o-dup's [0]. */
const VENDORS = [0, 1, 2, 3, 0, 4, 5, 1, 6, 7, 2, 0, 3, 4, 8, 1, 5, 6];

/** Two lines of codes every vendor bills, priced and dated per invoice. */
function chunkOf(): Invoice[] {
  const invs = VENDORS.map((v, i) =>
    withLines(`o-${i}`, v, `2025-03-${String(1 + i).padStart(2, '0')}`, [
      datedLine(1, 'E0570', 5_000 + 700 * i, `2025-02-${String(1 + i).padStart(2, '0')}`),
      datedLine(2, 'A4253', 2_000 + 300 * i, `2025-02-${String(1 + i).padStart(2, '0')}`),
    ]),
  );
  // o-0 again under another id, in a later group than o-0: a duplicate of the same number.
  return [...invs, { ...invs[0]!, invoice_id: 'o-dup' }];
}

/** Records the inputs each vendor read, in order, and how many reads ran inside a group's transaction. */
function recordReads(w: Wired): { byVendor: Map<string, ScoringInputs[]>; inTransaction: () => number } {
  const byVendor = new Map<string, ScoringInputs[]>();
  let open = 0;
  let inTransaction = 0;
  const read = w.repo.scoringInputsMany.bind(w.repo);
  w.repo.scoringInputsMany = async (tenantId, queries, withCodeCounts) => {
    if (open > 0) inTransaction += queries.length;
    const got = await read(tenantId, queries, withCodeCounts);
    queries.forEach((q, m) => byVendor.set(q.vendorId, [...(byVendor.get(q.vendorId) ?? []), got[m]!]));
    return got;
  };
  const lock = w.repo.withChunkLock.bind(w.repo);
  w.repo.withChunkLock = (tenantId, keys, fn) =>
    lock(tenantId, keys, async (tx) => {
      open++;
      try {
        return await fn(tx);
      } finally {
        open--;
      }
    });
  return { byVendor, inTransaction: () => inTransaction };
}

describe.each(engines('boverlap'))('batch chunk look-ahead on $name', ({ config }) => {
  let one: Wired;
  let many: Wired;
  wirePair(config, (a, b) => {
    one = a;
    many = b;
  });

  it("reads each member's vendor inputs after its vendor's earlier groups committed, the rest while a write runs", async () => {
    const tenant = 'overlap';
    const chunk = chunkOf();
    const single = recordReads(one);
    const decided = [];
    for (const inv of chunk) decided.push((await one.scoring.score(inv, tenant)).decision);
    const chunked = recordReads(many);
    const groups: number[] = [];
    const settled = await many.scoring.scoreChunk!(chunk, tenant, {
      committed: (s) => groups.push(s.length),
    });

    expect(settled.map((x) => ('outcome' in x ? x.outcome.decision : x))).toEqual(decided);
    expect(groups).toEqual([4, 7, 7, 1]);
    // Per vendor, the same inputs in the same order as one by one: a member sharing a key with
    // the group being written read only after its commit.
    expect(chunked.byVendor).toEqual(single.byVendor);
    // The inputs do change with the vendor's earlier invoices (the check above can fail).
    const moved = [...single.byVendor.values()].filter((l) => l.length > 1 && !isDeepStrictEqual(l[0], l[1]));
    expect(moved.length).toBeGreaterThan(0);
    // The look-ahead ran: the members sharing no key with the group before them (V-4 to V-7 of
    // group 2, V-3 and V-8 of group 3; none of group 4) were read during that group's transaction.
    expect(chunked.inTransaction()).toBe(4 + 2);
    expect(single.inTransaction()).toBe(0);
    // A duplicate of an invoice of an earlier group is found.
    const dup = decided.at(-1)!;
    expect(dup.reasons.map((r) => r.code)).toContain('DUPLICATE_SAME_NUMBER');
    expect(dup.reasons.map((r) => (r.evidence as { duplicate_of?: string }).duplicate_of)).toContain('o-0');
  }, 240_000);
});
