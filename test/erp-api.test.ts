/**
 * ERP reference data through app.inject() on both engines: bulk loads are idempotent and
 * versioned, bad data is a problem+json naming the record and field and stores nothing, loads
 * and callbacks are audited and need the `erp` role, callbacks close and reopen worklist items;
 * a rejection citing a duplicate reason code (LINE_REBILLED included) labels the duplicate pair.
 */
import { describe, expect, it } from 'vitest';
import type { ErpCallbackResult, ErpLoad, ErpLoadResult } from '../core/erp.js';
import { engines, makeInvoice } from './fixtures.js';
import { useHarness } from './harness.js';
import { makeContract, makeErpLoad, makePo, makeReceipts, putErpVendor } from './erp-fixtures.js';
import { datedLine, withLines } from './batch-chunk-fixtures.js';
import { createLabelStore } from '../store/labels.js';

describe.each(engines('erp'))('ERP data API on $name', ({ config }) => {
  const ref = useHarness(config());
  const load = (body: unknown, key: 'erp' | 'admin' | 'workflow' = 'erp') =>
    ref.h.call(key, { method: 'POST', url: '/v1/erp/load', payload: body as object });
  const sql = (text: string, params: unknown[] = []) =>
    ref.h.wired.repo.transaction((tx) => tx.query(text, params));
  const count = async (table: string) =>
    Number((await sql(`SELECT count(*)::int AS n FROM ${table} WHERE tenant_id = 'default'`))[0]!.n);
  const vendor = (id: string) => putErpVendor(ref.h, id);

  it('refuses a load naming an unknown vendor, and stores nothing', async () => {
    const r = await load(makeErpLoad());
    expect(r).toBeProblem(422, 'TRIAGE_ERP_REFERENCE_INVALID', '/purchase_orders/0/vendor_id');
    expect(r).toBeProblem(422, 'TRIAGE_ERP_REFERENCE_INVALID', '/contracts/0/vendor_id');
    expect(await count('erp_purchase_orders')).toBe(0);
    expect(await count('erp_receipts')).toBe(0);
  });

  it('loads POs, receipts and contracts, idempotently, and audits the load', async () => {
    await vendor('V-100');
    const first = await load(makeErpLoad());
    expect(first.statusCode).toBe(200);
    const a = first.json<ErpLoadResult>();
    expect(a.purchase_orders).toEqual({ created: 1, updated: 0, unchanged: 0, stale: 0 });
    expect(a.receipts.created).toBe(2);
    expect(a.contracts.created).toBe(1);
    expect(a.audit_seq).toBeGreaterThan(0);
    const again = (await load(makeErpLoad())).json<ErpLoadResult>();
    expect(again.purchase_orders).toEqual({ created: 0, updated: 0, unchanged: 1, stale: 0 });
    expect(again.receipts.unchanged).toBe(2);
    expect(again.audit_seq).toBeNull();
    const audit = await sql(
      "SELECT payload FROM audit_log WHERE tenant_id = 'default' AND kind = 'erp.loaded' ORDER BY seq",
    );
    expect(audit).toHaveLength(1);
    // A higher version replaces the record; an older one is ignored.
    const closed = (
      await load({ purchase_orders: [makePo({ version: 3, status: 'closed' })] })
    ).json<ErpLoadResult>();
    expect(closed.purchase_orders.updated).toBe(1);
    const older = (await load({ purchase_orders: [makePo({ version: 2 })] })).json<ErpLoadResult>();
    expect(older.purchase_orders.stale).toBe(1);
    expect(
      (
        await sql(
          "SELECT status, version::int AS version FROM erp_purchase_orders WHERE po_number = 'PO-1001'",
        )
      )[0],
    ).toEqual({
      status: 'closed',
      version: 3,
    });
  });

  it('names the record and field of bad data, and a failing load stores nothing', async () => {
    await vendor('V-100');
    const before = await count('erp_contracts');
    const noQty = makePo({ po_number: 'PO-BAD' }) as unknown as { lines: Record<string, unknown>[] };
    delete noQty.lines[1]!.quantity;
    expect(await load({ purchase_orders: [noQty] })).toBeProblem(
      400,
      'TRIAGE_INPUT_INVALID',
      '/purchase_orders/0/lines/1/quantity',
    );
    const negative = makePo({ po_number: 'PO-NEG' });
    negative.lines[0]!.unit_price_cents = -5;
    expect(await load({ purchase_orders: [negative] })).toBeProblem(
      400,
      'TRIAGE_INPUT_INVALID',
      '/purchase_orders/0/lines/0/unit_price_cents',
    );
    // A good contract beside a receipt for a PO line that does not exist: neither is stored.
    const r = await load({
      contracts: [makeContract({ contract_id: 'LOC-9' })],
      receipts: makeReceipts({ receipt_id: 'GR-X', po_line_number: 9 }).slice(0, 1),
    } satisfies ErpLoad);
    expect(r).toBeProblem(422, 'TRIAGE_ERP_REFERENCE_INVALID', '/receipts/0/po_line_number');
    expect(await count('erp_contracts')).toBe(before);
    // The same version with other content conflicts with the stored record.
    const changed = makeContract({
      items: [{ identifiers: { supplier_part: 'X' }, uom: 'EA', price_cents: 1 }],
    });
    expect(await load({ contracts: [changed] })).toBeProblem(
      409,
      'TRIAGE_ERP_VERSION_CONFLICT',
      '/contracts/0/version',
    );
  });

  it('a receipt may refer only to lines of the PO as it stands after the load (a stale version in the load does not count)', async () => {
    await vendor('V-100');
    const v2 = makePo({ po_number: 'PO-STALE', version: 2 });
    v2.lines = v2.lines.slice(0, 1);
    expect((await load({ purchase_orders: [v2] })).statusCode).toBe(200);
    const receiptsBefore = await count('erp_receipts');
    const r = await load({
      purchase_orders: [makePo({ po_number: 'PO-STALE', version: 1 })],
      receipts: makeReceipts({ receipt_id: 'GR-STALE', po_number: 'PO-STALE', po_line_number: 2 }).slice(
        0,
        1,
      ),
    } satisfies ErpLoad);
    expect(r).toBeProblem(422, 'TRIAGE_ERP_REFERENCE_INVALID', '/receipts/0/po_line_number');
    expect(await count('erp_receipts')).toBe(receiptsBefore);
  });

  it('needs the erp (or admin) role', async () => {
    expect(await load(makeErpLoad(), 'workflow')).toBeProblem(403, 'TRIAGE_FORBIDDEN');
    const cb = await ref.h.call('admin', {
      method: 'POST',
      url: '/v1/erp/callbacks',
      payload: { invoice_id: 'x', status: 'paid', idempotency_key: 'k' },
    });
    expect(cb).toBeProblem(403, 'TRIAGE_FORBIDDEN');
  });

  it('refuses a callback whose reason is blank (400 naming each field), storing nothing', async () => {
    // Checked before the invoice is looked up: this id was never scored.
    const before = await count('erp_callbacks');
    const r = await ref.h.call('erp', {
      method: 'POST',
      url: '/v1/erp/callbacks',
      payload: {
        invoice_id: 'erp-cb-blank',
        status: 'rejected',
        reason_code: '  ',
        reason_text: '\u200B',
        idempotency_key: 'cb-blank',
      },
    });
    expect(r).toBeProblem(400, 'TRIAGE_INPUT_INVALID', '/reason_code');
    const blank = 'must not be blank (only spaces or invisible characters)';
    expect(r.json()).toMatchObject({
      errors: [
        { path: '/reason_code', message: blank },
        { path: '/reason_text', message: blank },
      ],
    });
    expect(await count('erp_callbacks')).toBe(before);
  });

  it('callbacks set the ERP status, close and reopen the worklist item, idempotently', async () => {
    const inv = makeInvoice({ invoice_id: 'erp-cb-1', total_cents: 99_999 });
    const d = await ref.h.scoreOk(inv);
    expect(d.decision).not.toBe('AUTO_APPROVE');
    const post = (body: object) =>
      ref.h.call('erp', { method: 'POST', url: '/v1/erp/callbacks', payload: body });
    const rejected = await post({
      invoice_id: 'erp-cb-1',
      status: 'rejected',
      reason_code: 'TOTAL_MISMATCH',
      idempotency_key: 'cb-1',
    });
    expect(rejected.statusCode).toBe(200);
    expect(rejected.json<ErpCallbackResult>()).toMatchObject({
      erp_status: 'rejected',
      review_status: 'open',
      confirms_flag: true,
      replayed: false,
    });
    const paid = (
      await post({ invoice_id: 'erp-cb-1', status: 'paid', idempotency_key: 'cb-2' })
    ).json<ErpCallbackResult>();
    expect(paid).toMatchObject({ erp_status: 'paid', review_status: 'closed', confirms_flag: null });
    const replay = (
      await post({ invoice_id: 'erp-cb-1', status: 'paid', idempotency_key: 'cb-2' })
    ).json<ErpCallbackResult>();
    expect(replay.replayed).toBe(true);
    expect(await post({ invoice_id: 'erp-cb-1', status: 'posted', idempotency_key: 'cb-2' })).toBeProblem(
      409,
      'TRIAGE_IDEMPOTENCY_CONFLICT',
      '/idempotency_key',
    );
    // Paid is final: a later rejection would free the PO quantity the payment used.
    expect(
      await post({
        invoice_id: 'erp-cb-1',
        status: 'rejected',
        reason_code: 'TOTAL_MISMATCH',
        idempotency_key: 'cb-4',
      }),
    ).toBeProblem(409, 'TRIAGE_ERP_STATUS_CONFLICT', '/status');
    expect(await post({ invoice_id: 'nope', status: 'paid', idempotency_key: 'cb-3' })).toBeProblem(
      404,
      'TRIAGE_DECISION_NOT_FOUND',
      '/invoice_id',
    );
    // The rejection's reason (a total mismatch) says nothing about the models; paid after review: coding 0.
    const labels = await sql(
      'SELECT source, task, label::int AS label, event FROM external_labels WHERE decision_id = $1 ORDER BY created_at',
      [d.decision_id],
    );
    expect(labels).toEqual([{ source: 'erp', task: 'coding-mismatch', label: 0, event: 'paid' }]);
    const rows = await sql('SELECT erp_status, review_status FROM decisions WHERE id = $1', [d.decision_id]);
    expect(rows[0]).toEqual({ erp_status: 'paid', review_status: 'closed' });
    const audit = await sql(
      "SELECT count(*)::int AS n FROM audit_log WHERE kind = 'erp.callback' AND subject_id = $1",
      [d.decision_id],
    );
    expect(audit[0]!.n).toBe(2);
  });

  it('one idempotency key sent at once for several invoices is stored once, the others a 409', async () => {
    const ids = ['erp-ck-1', 'erp-ck-2', 'erp-ck-3', 'erp-ck-4', 'erp-ck-5', 'erp-ck-6'];
    for (const [i, id] of ids.entries())
      await ref.h.scoreOk(
        makeInvoice({
          invoice_id: id,
          invoice_number: `CK-${i}`,
          vendor: { id: `V-CK${i}`, name: `Vendor ${i}` },
        }),
      );
    const answers = await Promise.all(
      ids.map((invoice_id) =>
        ref.h.call('erp', {
          method: 'POST',
          url: '/v1/erp/callbacks',
          payload: { invoice_id, status: 'posted', idempotency_key: 'ck-shared' },
        }),
      ),
    );
    expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 409, 409, 409, 409, 409]);
    for (const a of answers.filter((x) => x.statusCode === 409))
      expect(a).toBeProblem(409, 'TRIAGE_IDEMPOTENCY_CONFLICT', '/idempotency_key');
    const stored = await sql("SELECT invoice_id FROM erp_callbacks WHERE idempotency_key = 'ck-shared'");
    expect(stored).toEqual([
      { invoice_id: answers.find((a) => a.statusCode === 200)!.json<ErpCallbackResult>().invoice_id },
    ]);
    const statuses = await sql(
      "SELECT count(*)::int AS n FROM decisions d JOIN invoices i ON i.pk = d.invoice_pk WHERE i.invoice_id LIKE 'erp-ck-%' AND d.erp_status = 'posted'",
    );
    expect(statuses[0]!.n).toBe(1);
  });

  it('a rejection citing LINE_REBILLED confirms the flag and labels the duplicate pair', async () => {
    await ref.h.scoreOk(
      withLines('erp-rb-1', 1, '2025-03-10', [
        datedLine(1, 'E0570', 5_000, '2025-03-01'),
        datedLine(2, 'A4253', 2_000, '2025-03-02'),
      ]),
    );
    // Line 1 of erp-rb-1 billed again beside a line served two weeks later.
    const d = await ref.h.scoreOk(
      withLines('erp-rb-2', 1, '2025-03-20', [
        datedLine(1, 'E0570', 5_000, '2025-03-01'),
        datedLine(2, 'K0001', 3_000, '2025-03-15'),
      ]),
    );
    expect(d.reasons.map((r) => r.code)).toContain('LINE_REBILLED');
    const rejected = await ref.h.call('erp', {
      method: 'POST',
      url: '/v1/erp/callbacks',
      payload: {
        invoice_id: 'erp-rb-2',
        status: 'rejected',
        reason_code: 'LINE_REBILLED',
        idempotency_key: 'rb-1',
      },
    });
    expect(rejected.statusCode, rejected.body).toBe(200);
    expect(rejected.json<ErpCallbackResult>().confirms_flag).toBe(true);
    const labels = await createLabelStore(ref.h.wired.db).listForDecision('default', d.decision_id);
    expect(labels.map((l) => [l.task, l.label, l.duplicate_of_invoice_id, l.event])).toEqual([
      ['duplicate', 1, 'erp-rb-1', 'rejected'],
    ]);
  });

  it('a rejection of an auto-approved invoice opens an item in the AP queue (the worklist still answers)', async () => {
    const d = await ref.h.scoreOk(
      makeInvoice({
        invoice_id: 'erp-aa-1',
        invoice_number: 'AA-77',
        vendor: { id: 'V-AA1', name: 'Harbor Surgical Supply' },
        // Citing a PO the tenant's ERP data lacks would be PO_UNKNOWN.
        po_number: undefined,
      }),
    );
    expect(d.decision).toBe('AUTO_APPROVE');
    const rejected = await ref.h.call('erp', {
      method: 'POST',
      url: '/v1/erp/callbacks',
      payload: {
        invoice_id: 'erp-aa-1',
        status: 'rejected',
        reason_code: 'PRICE_ABOVE_PO',
        idempotency_key: 'aa-1',
      },
    });
    expect(rejected.statusCode).toBe(200);
    const list = await ref.h.call('reviewer', { method: 'GET', url: '/v1/worklist?limit=500' });
    expect(list.statusCode).toBe(200);
    const item = list
      .json<{ items: { decision_id: string; queue: string }[] }>()
      .items.find((i) => i.decision_id === d.decision_id);
    expect(item?.queue).toBe('ap');
  });
});
