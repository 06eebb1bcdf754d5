/**
 * Per-invoice scoring time of PO-backed invoices against invoices without ERP data, in one
 * process on one store, after an untimed warm-up run: 10-line invoices of vendors without ERP data, then 10-line invoices
 * each citing its own loaded PO (PO lines, receipts, a GPO contract; the shipped line matcher
 * aligns 10 x 10 lines), then the plain ones again. The ratio is PO-backed over the mean of the
 * two plain runs, so that drift of a loaded machine shows up as a gap between those two.
 * Beside wall time, each run's CPU time of this process per invoice (`process.cpuUsage`, user +
 * system, warm-up invoices included), which the other processes of a loaded machine do not
 * inflate; PostgreSQL's own CPU is not in it.
 */
import type { Contract, GoodsReceipt, PurchaseOrder } from '../core/erp.js';
import type { Invoice } from '../core/invoice.js';
import { drawCatalogue } from '../datasets/procurement/catalogue.js';
import { Rng } from '../datasets/synth.js';
import type { Wired } from '../bin/bootstrap.js';
import { runScoringBenchmark, type ScoringResult } from './scoring.js';

/** One timed run with this process's CPU time per invoice scored, ms. */
export type ProcurementRun = ScoringResult & { cpuMsPerInvoice: number };

/** Result of {@link runProcurementBenchmark}. */
export interface ProcurementBenchResult {
  plainBefore: ProcurementRun;
  poBacked: ProcurementRun;
  plainAfter: ProcurementRun;
  /** p50 and mean per-invoice latency and CPU ms per invoice, PO-backed / plain (1.2 = 20 % slower). */
  ratio: { p50: number; mean: number; cpu: number };
}

/** {@link runScoringBenchmark} with the process CPU time it took per invoice. */
async function timedRun(w: Wired, invoices: readonly Invoice[]): Promise<ProcurementRun> {
  const cpu0 = process.cpuUsage();
  const r = await runScoringBenchmark(w.scoring, 'default', invoices);
  const cpu = process.cpuUsage(cpu0);
  return { ...r, cpuMsPerInvoice: (cpu.user + cpu.system) / 1000 / invoices.length };
}

/** `n` vendors with a 10-line PO each, its receipts and contract, and the invoices billing them. */
function poFixtures(n: number, tag: string) {
  const rng = new Rng(15);
  const pos: PurchaseOrder[] = [];
  const receipts: GoodsReceipt[] = [];
  const contracts: Contract[] = [];
  const invoices: Invoice[] = [];
  for (let i = 0; i < n; i++) {
    const vendor = `PB-${i % 20}`;
    const items = drawCatalogue(i, 14, rng).slice(0, 10);
    const po = `${tag}-PO-${i}`;
    pos.push({
      po_number: po,
      vendor_id: vendor,
      facility_id: 'FAC-B',
      status: 'open',
      order_date: '2025-02-01',
      version: 1,
      lines: items.map((it, j) => ({
        line_number: j + 1,
        description: it.description,
        identifiers: { supplier_part: it.supplierPart, manufacturer_part: it.manufacturerPart },
        uom: it.uom,
        pack_qty: it.pack,
        quantity: 10,
        unit_price_cents: it.priceCents,
      })),
    });
    items.forEach((it, j) =>
      receipts.push({
        receipt_id: `${po}-GR-${j + 1}`,
        po_number: po,
        po_line_number: j + 1,
        quantity: 10,
        uom: it.uom,
        pack_qty: it.pack,
        received_date: '2025-02-10',
        version: 1,
      }),
    );
    contracts.push({
      contract_id: `${po}-C`,
      vendor_id: vendor,
      effective_date: '2025-01-01',
      end_date: '2025-12-31',
      facilities: ['FAC-B'],
      items: items.map((it) => ({
        identifiers: { supplier_part: it.supplierPart },
        uom: it.uom,
        pack_qty: it.pack,
        price_cents: it.priceCents,
      })),
      version: 1,
    });
    const lines = items.map((it, j) => ({
      line_number: j + 1,
      description: it.description,
      item_identifiers: [it.supplierPart],
      uom: it.uom,
      quantity: 10,
      unit_price_cents: it.priceCents,
      amount_cents: 10 * it.priceCents,
    }));
    invoices.push({
      invoice_id: `${tag}-po-inv-${i}`,
      vendor: { id: vendor, name: `PO bench vendor ${i % 20}` },
      invoice_number: `PB${i}`,
      invoice_date: '2025-03-01',
      currency: 'USD',
      total_cents: lines.reduce((a, l) => a + l.amount_cents, 0),
      document_type: 'invoice',
      po_number: po,
      facility_id: 'FAC-B',
      lines,
    });
  }
  return { load: { purchase_orders: pos, receipts, contracts }, invoices };
}

/**
 * Runs the three timed runs on a wired service (see the module doc); `plain(i)` builds the
 * i-th invoice without ERP data.
 */
export async function runProcurementBenchmark(
  w: Wired,
  n: number,
  plain: (i: number, tag: string) => Invoice,
): Promise<ProcurementBenchResult> {
  const { load, invoices } = poFixtures(n + 20, 'pb');
  for (let v = 0; v < 20; v++)
    await w.repo.vendors.put('default', `PB-${v}`, { approved_betos: [], approved_hcpcs_prefixes: [] }, null);
  for (let i = 0; i < load.purchase_orders.length; i += 100)
    await w.repo.erp.load(
      'default',
      {
        purchase_orders: load.purchase_orders.slice(i, i + 100),
        receipts: load.receipts.slice(i * 10, (i + 100) * 10),
        contracts: load.contracts.slice(i, i + 100),
      },
      null,
    );
  const plainRun = (tag: string) =>
    timedRun(
      w,
      Array.from({ length: n + 20 }, (_, i) => plain(i, tag)),
    );
  await plainRun('pb-w'); // untimed: a first run pays for warming caches and the JIT
  const plainBefore = await plainRun('pb-a');
  const poBacked = await timedRun(w, invoices);
  const plainAfter = await plainRun('pb-b');
  const r = (k: 'p50' | 'mean') =>
    poBacked.latencyMs[k] / ((plainBefore.latencyMs[k] + plainAfter.latencyMs[k]) / 2);
  const cpu = poBacked.cpuMsPerInvoice / ((plainBefore.cpuMsPerInvoice + plainAfter.cpuMsPerInvoice) / 2);
  return { plainBefore, poBacked, plainAfter, ratio: { p50: r('p50'), mean: r('mean'), cpu } };
}

/** The section's table lines (invoices/s and per-invoice latency of the three runs, the ratios). */
export function procurementTable(r: ProcurementBenchResult, fmt: (x: number) => string): string {
  const row = (name: string, s: ProcurementRun) =>
    `${name.padEnd(26)} ${fmt(s.invoicesPerSecond).padStart(8)} ${fmt(s.latencyMs.p50).padStart(8)} ${fmt(s.latencyMs.mean).padStart(8)} ${fmt(s.cpuMsPerInvoice).padStart(8)}`;
  return [
    `${'10-line invoices'.padEnd(26)} ${'inv/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'mean ms'.padStart(8)} ${'cpu ms'.padStart(8)}`,
    row('no ERP data (before)', r.plainBefore),
    row('PO-backed (PO, receipts)', r.poBacked),
    row('no ERP data (after)', r.plainAfter),
    `PO-backed / no ERP data: p50 x${r.ratio.p50.toFixed(2)}, mean x${r.ratio.mean.toFixed(2)}, ` +
      `process CPU per invoice x${r.ratio.cpu.toFixed(2)} (target <= 1.5)`,
  ].join('\n');
}
