/**
 * Batch chunks scored together (inference/chunk-scoring.ts) make the decisions that scoring the
 * same invoices one by one in order makes, byte for byte (with the same clock and id sequences):
 * duplicates inside the chunk, a look-alike of another vendor reached only by the tenant-wide
 * kNN, a credit memo reversing an invoice of the chunk, a re-sent invoice (replayed) and a
 * conflicting one (refused); and the reads batched per group (policy and vendor-profile
 * versions, code counts, baselines, line rebills, the ERP lookups) as the single score makes
 * them. A group that fails is rolled back whole and the job resumes.
 */
import { describe, expect, it } from 'vitest';
import type { Invoice } from '../core/invoice.js';
import type { Wired } from '../bin/bootstrap.js';
import { createProcessors } from '../jobs/processors.js';
import type { ChunkSettled } from '../inference/chunk-scoring.js';
import { importHistoryChunk } from '../inference/history.js';
import { engines } from './fixtures.js';
import { datedLine, invoice, wirePair, withLines } from './batch-chunk-fixtures.js';
import { hcpcsCode } from '../features/baselines.js';
import { makePo, makeReceipts } from './erp-fixtures.js';

/** Negated copy of an invoice as a credit memo of the same vendor. */
function creditMemo(of: Invoice, id: string): Invoice {
  return {
    ...of,
    invoice_id: id,
    document_type: 'credit_memo',
    invoice_number: `CM-${of.invoice_number}`,
    total_cents: -of.total_cents,
    lines: of.lines.map((l) => ({
      ...l,
      unit_price_cents: -l.unit_price_cents,
      amount_cents: -l.amount_cents,
    })),
  };
}

/** Invoices stored before the chunk, then the chunk itself (with its special cases mixed in). */
function scenario(): { before: Invoice[]; chunk: Invoice[] } {
  const before = [100, 101, 102, 103].map((i) => invoice(i));
  const base = Array.from({ length: 20 }, (_, i) => invoice(i));
  const c3dup = { ...base[3]!, invoice_id: 'dup-of-3' };
  const lookalike5 = {
    ...base[5]!,
    invoice_id: 'look-5',
    vendor: { id: 'V-9', name: 'Other Ninth Supplier Inc' },
  };
  const lookalike1 = {
    ...base[1]!,
    invoice_id: 'look-1',
    vendor: { id: 'V-8', name: 'Eighth Home Care Co' },
  };
  const priorDup = { ...before[1]!, invoice_id: 'dup-of-prior' };
  const chunk = [
    ...base.slice(0, 10),
    c3dup,
    lookalike5,
    ...base.slice(10, 15),
    creditMemo(base[1]!, 'cm-1'),
    lookalike1,
    base[2]!, // re-sent: replayed
    { ...base[2]!, total_cents: base[2]!.total_cents + 1 }, // same id, other content: refused
    priorDup,
    ...base.slice(15),
    invoice(30, { po_number: 'PO-7' }),
    invoice(31, { po_number: 'PO-7' }),
    invoice(40, { vendor: { id: 'V-40', name: 'Fortieth Respiratory Partners' } }),
    invoice(40, { invoice_id: 'look-40', vendor: { id: 'V-41', name: 'Forty First Oxygen Ltd' } }),
  ];
  return { before, chunk };
}

type Outcome = { decision: unknown } | { error: string };

/**
 * The store state every batched read looks at (a vendor profile, a policy version, open and
 * cited POs) and a chunk whose vendors repeat, so that later groups read what earlier ones wrote.
 */
function readsScenario(): Invoice[] {
  const r1 = withLines('r-1', 1, '2025-03-10', [
    datedLine(1, 'E0570', 5_000, '2025-03-01'),
    datedLine(2, 'A4253', 2_000, '2025-03-02'),
  ]);
  // Line 1 of r-1 again beside a line served two weeks later: a stale line among new ones.
  const r1b = withLines('r-1b', 1, '2025-03-20', [
    datedLine(1, 'E0570', 5_000, '2025-03-01'),
    datedLine(2, 'K0001', 3_000, '2025-03-15'),
  ]);
  return [
    invoice(50, { invoice_id: 'r-50' }), // V-2: a profile allowing K codes only
    r1,
    invoice(51, { invoice_id: 'r-51' }), // V-3: one open PO
    invoice(52, { invoice_id: 'r-52' }), // V-4: two open POs to choose from
    invoice(54, { invoice_id: 'r-54', po_number: 'PO-X' }), // V-0: a PO the tenant lacks
    invoice(53, { invoice_id: 'r-53', po_number: 'PO-D' }), // V-5: its own cited PO
    invoice(56, { invoice_id: 'r-56' }), // V-2 again: a later group
    r1b,
    invoice(57, { invoice_id: 'r-57' }),
    invoice(58, { invoice_id: 'r-58' }),
    invoice(62, { invoice_id: 'r-62' }), // V-2 a third time
  ];
}

describe.each(engines('bchunk'))('batch chunks on $name', ({ name, config }) => {
  let one: Wired;
  let many: Wired;
  wirePair(config, (a, b) => {
    one = a;
    many = b;
  });

  it('decides a chunk exactly as one by one, within-chunk duplicates and credit memos included', async () => {
    const { before, chunk } = scenario();
    for (const w of [one, many]) for (const inv of before) await w.scoring.score(inv, 'default');

    const single: Outcome[] = [];
    for (const inv of chunk) {
      try {
        single.push({ decision: (await one.scoring.score(inv, 'default')).decision });
      } catch (e) {
        single.push({ error: (e as { code: string }).code });
      }
    }
    const groups: number[] = [];
    const settled = await many.scoring.scoreChunk!(chunk, 'default', {
      committed: (s) => groups.push(s.length),
    });
    const chunked: Outcome[] = settled.map((x: ChunkSettled) =>
      'error' in x ? { error: x.error.code } : { decision: x.outcome.decision },
    );
    expect(settled.map((x) => x.index)).toEqual(chunk.map((_, i) => i));
    expect(chunked).toEqual(single);
    // The cases the test is about happened.
    const codes = (i: number) =>
      ((single[i] as { decision: { reasons: { code: string }[] } }).decision?.reasons ?? []).map(
        (r) => r.code,
      );
    expect(codes(10)).toContain('DUPLICATE_SAME_NUMBER');
    expect(single[20]).toEqual({ error: 'TRIAGE_INVOICE_CONFLICT' });
    expect(settled[19]).toMatchObject({ outcome: { created: false } });
    // Groups of several invoices, cut at a shared vendor: fewer groups than invoices.
    expect(groups.length).toBeGreaterThan(1);
    expect(groups.length).toBeLessThan(chunk.length / 2);
    const groupOf = (i: number) =>
      groups.findIndex((_, g) => groups.slice(0, g + 1).reduce((a, b) => a + b, 0) > i);
    // look-40 (another vendor) shares a group with c-40, not yet stored when look-40 is judged:
    // it is found by the tenant-wide kNN all the same.
    expect(groupOf(29)).toBe(groupOf(30));
    const look40 = (single[30] as { decision: { reasons: { evidence: { duplicate_of?: string } }[] } })
      .decision;
    expect(look40.reasons.map((r) => r.evidence.duplicate_of)).toContain('c-40');

    // The stored explanations (candidate search included) are the same too.
    for (const o of single) {
      if (!('decision' in o)) continue;
      const id = (o.decision as { decision_id: string }).decision_id;
      const a = await one.repo.getDecisionRecord('default', id);
      const b = await many.repo.getDecisionRecord('default', id);
      expect(b).toEqual(a);
    }
    const count = (w: Wired) =>
      w.db.query<{ n: number; c: number }>(
        `SELECT (SELECT count(*) FROM invoices)::int AS n, (SELECT sum(invoices) FROM tenant_invoice_counts WHERE tenant_id = 'default')::int AS c`,
      );
    expect(await count(many)).toEqual(await count(one));
    // Every stored column of invoices, lines and decisions (the group's multi-row write) and of
    // the events (one statement per group) equals what one by one stored, the insert time aside.
    const rows = (w: Wired) =>
      w.db.query(
        `SELECT to_jsonb(i) - 'created_at' AS invoice,
           (SELECT jsonb_agg(to_jsonb(l) ORDER BY l.line_number) FROM invoice_lines l WHERE l.invoice_pk = i.pk) AS lines,
           (SELECT to_jsonb(d) FROM decisions d WHERE d.invoice_pk = i.pk) AS decision
         FROM invoices i WHERE i.tenant_id = 'default' ORDER BY i.invoice_id`,
      );
    const stored = await rows(many);
    expect(stored.length).toBe((await count(one))[0]!.n);
    expect(stored).toEqual(await rows(one));
    const events = (w: Wired) =>
      w.db.query(
        `SELECT seq::int AS seq, type, subject, ordering_key, data, scope_key_id FROM events
         WHERE tenant_id = 'default' ORDER BY seq`,
      );
    const evs = await events(many);
    expect(evs.map((e) => e.seq)).toEqual(evs.map((_, i) => i + 1));
    expect(evs).toEqual(await events(one));
    const audit = await many.repo.audit.verify('default');
    expect(audit.ok).toBe(true);
    expect(audit).toMatchObject({ ok: true });
  }, 240_000);

  it('reads vendor profiles, code counts, baselines, line rebills and ERP data per group as one by one does', async () => {
    const tenant = 'reads';
    const po = (n: string, v: string) =>
      makePo({ po_number: n, vendor_id: v, lines: makePo().lines.map(({ contract_id: _, ...l }) => l) });
    for (const w of [one, many]) {
      await w.repo.vendors.put(tenant, 'V-2', { approved_betos: [], approved_hcpcs_prefixes: ['K'] }, null);
      for (const v of ['V-3', 'V-4', 'V-5'])
        await w.repo.vendors.put(
          tenant,
          v,
          { approved_betos: [], approved_hcpcs_prefixes: ['A', 'E', 'K'] },
          null,
        );
      await w.repo.erp.load(
        tenant,
        {
          purchase_orders: [
            po('PO-A', 'V-3'),
            po('PO-B', 'V-4'),
            { ...po('PO-C', 'V-4'), order_date: '2025-02-11' },
            po('PO-D', 'V-5'),
          ],
        },
        null,
      );
    }
    const chunk = readsScenario();
    const single: Outcome[] = [];
    for (const inv of chunk) single.push({ decision: (await one.scoring.score(inv, tenant)).decision });
    const groups: number[] = [];
    const settled = await many.scoring.scoreChunk!(chunk, tenant, {
      committed: (s) => groups.push(s.length),
    });
    expect(settled.map((x) => ('outcome' in x ? { decision: x.outcome.decision } : x))).toEqual(single);
    expect(groups).toEqual([6, 4, 1]);
    const codes = (id: string) =>
      (
        single.find((o) => (o as { decision: { invoice_id: string } }).decision.invoice_id === id) as {
          decision: { reasons: { code: string }[] };
        }
      ).decision.reasons.map((r) => r.code);
    // The cases the batched reads answer happened, in groups after the ones that wrote their inputs.
    expect(codes('r-1b')).toContain('LINE_REBILLED');
    expect(codes('r-1')).not.toContain('LINE_REBILLED');
    expect(codes('r-50')).toContain('CODE_OUTSIDE_VENDOR_PROFILE');
    expect(codes('r-62')).toContain('CODE_OUTSIDE_VENDOR_PROFILE');
    const stored = async (w: Wired) =>
      w.db.query<{ invoice_id: string; procurement: unknown }>(
        `SELECT i.invoice_id, d.response -> 'procurement' AS procurement FROM decisions d
           JOIN invoices i ON i.pk = d.invoice_pk WHERE i.tenant_id = $1 ORDER BY i.invoice_id`,
        [tenant],
      );
    const procurement = await stored(one);
    expect(await stored(many)).toEqual(procurement);
    // PO-A (the only open one) and PO-D (cited) were matched: their context was read; PO-X
    // (cited, unknown) and V-4's two open POs were settled by the group's first ERP read.
    expect(JSON.stringify(procurement)).toContain('PO-A');
    expect(JSON.stringify(procurement)).toContain('PO-D');
    for (const o of single) {
      const id = (o as { decision: { decision_id: string } }).decision.decision_id;
      expect(await many.repo.getDecisionRecord(tenant, id)).toEqual(
        await one.repo.getDecisionRecord(tenant, id),
      );
    }
    // Both paths read through scoringInputsMany: each member's inputs equal the three reads
    // made one by one, for vendors with a profile and code counts and one without.
    const queries = [
      ...chunk.map((inv) => ({
        vendorId: inv.vendor.id,
        codes: inv.lines.map(hcpcsCode).filter((c): c is string => c !== null),
      })),
      { vendorId: 'V-none', codes: ['A6563'] },
    ];
    const merged = await one.repo.scoringInputsMany(tenant, queries, true);
    const apart = await Promise.all(
      queries.map(async (q) => ({
        versions: await one.repo.configVersions(tenant, q.vendorId),
        codeCounts: await one.repo.vendors.codeCounts(tenant, q.vendorId),
        baselines: await one.repo.vendors.baselines(tenant, q.vendorId, q.codes),
      })),
    );
    expect(merged).toEqual(apart);
    expect(merged.some((m) => m.codeCounts.size > 0 && m.versions.vendor !== null)).toBe(true);
  }, 240_000);

  it("records a member's PO billing at its group's end without changing the decision of another vendor citing that PO", async () => {
    // A PO's billing is read for a decision only by invoices of the PO's own vendor (of another
    // vendor: PO_OTHER_VENDOR, or a credit memo that gives nothing back), and no two members of
    // a group share a vendor. So an invoice of another vendor citing the PO a member bills, in
    // the member's group before or after it, is decided as one by one; the vendor's next invoice
    // falls in a later group and sees the billing.
    const tenant = 'xpo';
    const { contract_id: _, ...gloveLine } = makePo().lines[0]!;
    const po = makePo({ po_number: 'PO-E', vendor_id: 'V-3', lines: [gloveLine] });
    for (const w of [one, many]) {
      await w.repo.vendors.put(tenant, 'V-3', { approved_betos: [], approved_hcpcs_prefixes: ['A'] }, null);
      await w.repo.erp.load(
        tenant,
        { purchase_orders: [po], receipts: [{ ...makeReceipts()[0]!, po_number: 'PO-E' }] },
        null,
      );
    }
    const gloves = (quantity: number) => ({
      line_number: 1,
      description: 'Exam gloves nitrile medium powder free',
      item_identifiers: ['010-00715-20'],
      uom: 'BX',
      quantity,
      unit_price_cents: 4_120,
      amount_cents: quantity * 4_120,
    });
    const of = (id: string, vendor: number, quantity: number, over: Partial<Invoice> = {}): Invoice =>
      invoice(0, {
        invoice_id: id,
        invoice_number: `X-${id}`,
        invoice_date: '2025-03-05',
        vendor: { id: `V-${vendor}`, name: `Vendor ${vendor} Medical Supply LLC` },
        facility_id: 'FAC-1',
        lines: [gloves(quantity)],
        total_cents: quantity * 4_120,
        ...over,
      } as Partial<Invoice>);
    const chunk = [
      of('x-2', 6, 10, { po_number: 'PO-E' }), // another vendor cites PO-E, ahead of the member billing it
      of('x-1', 3, 10), // V-3's only open PO: bills all 10 BX received, recorded at the group's end
      of('x-5', 3, 1), // V-3 again (a later group): PO-E is billed in full
      creditMemo(of('x-4', 7, 2, { po_number: 'PO-E' }), 'x-4'), // another vendor's credit on PO-E, after x-5
      of('x-3', 3, 2, { po_number: 'PO-E' }), // V-3 cites PO-E (a third group)
    ];
    const single: Outcome[] = [];
    for (const inv of chunk) single.push({ decision: (await one.scoring.score(inv, tenant)).decision });
    const groups: number[] = [];
    const settled = await many.scoring.scoreChunk!(chunk, tenant, {
      committed: (s) => groups.push(s.length),
    });
    expect(settled.map((x) => ('outcome' in x ? { decision: x.outcome.decision } : x))).toEqual(single);
    expect(groups).toEqual([2, 2, 1]);
    const codes = (i: number) =>
      (single[i] as { decision: { reasons: { code: string }[] } }).decision.reasons.map((r) => r.code);
    expect(codes(0)).toContain('PO_OTHER_VENDOR');
    expect(codes(1).filter((c) => c.startsWith('PO_') || c.includes('QUANTITY'))).toEqual([]);
    expect(codes(2)).toContain('PO_EXHAUSTED');
    expect(codes(4)).toContain('PO_EXHAUSTED');
    const billed = (w: Wired) =>
      w.db.query<{ invoice_id: string; po_line_number: number; base_quantity: number }>(
        `SELECT invoice_id, po_line_number, base_quantity::float8 AS base_quantity FROM erp_po_invoiced
          WHERE tenant_id = $1 ORDER BY invoice_id, po_line_number`,
        [tenant],
      );
    const rows = await billed(one);
    expect(rows.map((r) => [r.invoice_id, r.base_quantity])).toEqual([
      ['x-1', 1_000],
      ['x-3', 200],
      ['x-5', 100],
    ]);
    expect(await billed(many)).toEqual(rows);
    for (const o of single) {
      const id = (o as { decision: { decision_id: string } }).decision.decision_id;
      expect(await many.repo.getDecisionRecord(tenant, id)).toEqual(
        await one.repo.getDecisionRecord(tenant, id),
      );
    }
  }, 240_000);

  it('refuses an id imported as history as the single write does, and scores the rest of its group', async () => {
    const past = invoice(300, { invoice_id: 'h-300' });
    await importHistoryChunk(many.repo.history, 'hist', [{ location: '/0', value: past }], {
      actorKeyId: null,
      onBadRecord: 'refuse',
    });
    const later = invoice(301, { invoice_id: 'h-301' });
    const settled = await many.scoring.scoreChunk!([later, past], 'hist');
    expect('outcome' in settled[0]! && settled[0].outcome.created).toBe(true);
    const refused = settled[1]!;
    expect('error' in refused && refused.error.code).toBe('TRIAGE_INVOICE_CONFLICT');
    expect('error' in refused && refused.error.errors).toEqual([
      { path: '/invoice_id', message: 'already imported as history' },
    ]);
    await expect(one.scoring.score(past, 'hist')).resolves.toBeDefined(); // not imported in the other store
  }, 120_000);

  it('a failing group writes nothing of itself; the job resumes and settles every item once', async () => {
    const w = many;
    const invs = Array.from({ length: 24 }, (_, i) => invoice(200 + i, { invoice_id: `f-${i}` }));
    const { batch } = await w.batches.create({
      tenantId: 'fail',
      idempotencyKey: null,
      submittedByKeyId: null,
      requestSha256: 'x'.repeat(64),
      chunkSize: 24,
      invoices: invs,
    });
    await w.db.exec(`CREATE FUNCTION fail_f13() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.invoice_id = 'f-13' THEN RAISE EXCEPTION 'injected'; END IF; RETURN NEW; END $$;
      CREATE TRIGGER fail_f13 BEFORE INSERT ON invoices FOR EACH ROW EXECUTE FUNCTION fail_f13()`);
    const p = createProcessors({
      scoring: w.scoring,
      batches: w.batches,
      train: async () => {
        throw new Error('unused');
      },
    });
    const data = { tenantId: 'fail', batchId: batch.id, chunk: 0, from: 0, to: 24 };
    const ctx = { updateProgress: async () => undefined };
    await expect(p['score-batch'](data, ctx as never)).rejects.toThrow();
    const state = async () =>
      w.db.query<{ idx: number; state: string; stored: boolean; decided: boolean }>(
        `SELECT b.idx, b.state, EXISTS (SELECT 1 FROM invoices i WHERE i.tenant_id = 'fail' AND i.invoice_id = 'f-' || b.idx) AS stored,
           b.decision_id IS NOT NULL AS decided
         FROM batch_items b WHERE b.batch_id = $1 ORDER BY b.idx`,
        [batch.id],
      );
    const mid = await state();
    // Nothing half-written: an item is stored exactly when it is done.
    for (const r of mid) expect([r.idx, r.stored]).toEqual([r.idx, r.state === 'done']);
    expect(mid.find((r) => r.idx === 13)!.state).toBe('pending');
    expect(mid.filter((r) => r.state === 'done').length).toBeGreaterThan(0);

    await w.db.exec(`DROP TRIGGER fail_f13 ON invoices; DROP FUNCTION fail_f13()`);
    const second = await p['score-batch'](data, ctx as never);
    const doneBefore = mid.filter((r) => r.state === 'done').length;
    expect(second).toMatchObject({ scored: 24 - doneBefore, replayed: 0, failed: 0, skipped: doneBefore });
    const third = await p['score-batch'](data, ctx as never);
    expect(third).toMatchObject({ scored: 0, skipped: 24 });
    const end = await state();
    expect(end.every((r) => r.state === 'done' && r.stored && r.decided)).toBe(true);
    const [n] = await w.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM decisions d JOIN invoices i ON i.pk = d.invoice_pk WHERE i.tenant_id = 'fail'`,
    );
    expect(n!.n).toBe(24);
    expect((await w.repo.audit.verify('fail')).ok).toBe(true);
    expect(name).toBeTruthy();
  }, 240_000);
});
