/**
 * `npm run bench:features`: features per second for a 10-line invoice, stage by stage, on this
 * machine. Prints invoices/s, lines/s and per-invoice latency (median, p95):
 *
 * - invoice features (`extractInvoiceFeatures`: keys, line stems, recipe-1 line and invoice embeddings);
 * - line vectors (`lineFeatureVector` for the 10 lines: recipe-2 embedding, CMS reference lookups,
 *   nearest other code over ~7,000 active codes, fee, dose, profile), once with descriptions the
 *   service has seen before (memoised nearest-code search) and once with new descriptions;
 * - pair vectors (`comparePair` + `pairFeatureVector` against 10 candidates, as the duplicate
 *   detector does per invoice);
 * - all three together.
 *
 * Usage: `npm run bench:features -- [--seconds 3]` (time budget per stage after a warm-up).
 */
import { performance } from 'node:perf_hooks';
import { parseBenchArgs } from './args.js';
import type { Invoice } from '../core/invoice.js';
import { loadReferenceData } from '../datasets/reference.js';
import {
  comparePair,
  extractInvoiceFeatures,
  lineFeatureVector,
  lineServiceDate,
  pairFeatureVector,
  pairSideOfInvoice,
  type PairSide,
} from '../features/index.js';
import { buildReferenceIndex, type ReferenceIndex } from '../features/reference-index.js';

const LINES: [string, string, number, number][] = [
  ['Oxygen concentrator, single delivery port, monthly rental', 'E1390', 1, 17_900],
  ['Nebulizer w/ compressor', 'E0570', 1, 5_200],
  ['Dexamethasone sodium phosphate 10 mg', 'J1100', 10, 11],
  ['Blood glucose test strips, box of 50', 'A4253', 2, 2_800],
  ['Standard wheelchair, fixed full length arms', 'K0001', 1, 31_500],
  ['Gauze pad sterile 4x4, 25/bx', 'A6402', 4, 90],
  ['Portable gaseous O2 system, rental', 'E0431', 1, 2_600],
  ['CPAP device', 'E0601', 1, 9_400],
  ['Ondansetron HCl 4 mg/2 ml inj', 'J2405', 4, 15],
  ['Walker, folding, wheeled, adjustable height', 'E0143', 1, 9_100],
];

/**
 * The benchmark invoice: 10 HCPCS lines from different sections, as a DME supplier bills them.
 * With `fresh`, every description gets a unique lot number, so no per-description cache helps.
 */
export function benchInvoice(i = 0, fresh = false): Invoice {
  const lines = LINES.map(([description, code, quantity, unit], n) => ({
    line_number: n + 1,
    description: fresh ? `${description}, lot ${i}x${n}` : description,
    code: { system: 'HCPCS' as const, value: code },
    quantity,
    unit_price_cents: unit,
    amount_cents: quantity * unit,
  }));
  return {
    invoice_id: `bench-${i}`,
    vendor: { id: 'V-100', name: 'Acme Medical Supply, Inc.', npi: '1234567893' },
    invoice_number: `INV-${10_000 + i}`,
    invoice_date: '2025-03-01',
    currency: 'USD',
    total_cents: lines.reduce((a, l) => a + l.amount_cents, 0),
    document_type: 'invoice',
    lines,
  };
}

interface StageResult {
  stage: string;
  invoices: number;
  perSecond: number;
  linesPerSecond: number;
  medianMs: number;
  p95Ms: number;
}

function run(stage: string, seconds: number, fn: (i: number) => void): StageResult {
  for (let i = 0; i < 20; i++) fn(i); // warm-up (JIT, caches)
  const times: number[] = [];
  const end = performance.now() + seconds * 1000;
  let i = 0;
  while (performance.now() < end) {
    const t = performance.now();
    fn(i++);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const total = times.reduce((a, b) => a + b, 0) / 1000;
  const q = (p: number): number =>
    Math.round(times[Math.min(times.length - 1, Math.floor(p * times.length))]! * 1000) / 1000;
  return {
    stage,
    invoices: times.length,
    perSecond: Math.round(times.length / total),
    linesPerSecond: Math.round((times.length * LINES.length) / total),
    medianMs: q(0.5),
    p95Ms: q(0.95),
  };
}

function main(): void {
  const {
    opts: { seconds },
  } = parseBenchArgs<[], { seconds: string }>('bench/features.bench.ts', (c) =>
    c.option('--seconds <n>', 'time budget per stage', '3'),
  );
  const budget = Number(seconds);
  const t0 = performance.now();
  const reference: ReferenceIndex = buildReferenceIndex(loadReferenceData());
  const setupMs = Math.round(performance.now() - t0);
  const invoices = Array.from({ length: 64 }, (_, i) => benchInvoice(i));
  let freshSeq = 0;
  const fresh = (): Invoice => benchInvoice(1_000 + freshSeq++, true);
  const candidates: PairSide[] = invoices.slice(0, 10).map((inv) => {
    const side: PairSide = { ...pairSideOfInvoice(inv, extractInvoiceFeatures(inv)) };
    delete side.lineDescriptionStems; // as the store returns them
    return side;
  });
  const lineVectors = (inv: Invoice): void => {
    for (const l of inv.lines) lineFeatureVector(l, { reference, serviceDate: lineServiceDate(inv, l) });
  };
  const pairVectors = (inv: Invoice, side = pairSideOfInvoice(inv, extractInvoiceFeatures(inv))): void => {
    for (const c of candidates) pairFeatureVector(comparePair(side, c, 0.9));
  };
  const all = (inv: Invoice): void => {
    const f = extractInvoiceFeatures(inv);
    lineVectors(inv);
    pairVectors(inv, pairSideOfInvoice(inv, f));
  };
  const results = [
    run('invoice features', budget, (i) => void extractInvoiceFeatures(invoices[i % 64]!)),
    run('line vectors (10 lines, seen descriptions)', budget, (i) => lineVectors(invoices[i % 64]!)),
    run('line vectors (10 lines, new descriptions)', budget, () => lineVectors(fresh())),
    run('pair vectors (10 candidates)', budget, (i) => pairVectors(invoices[i % 64]!)),
    run('all features (seen descriptions)', budget, (i) => all(invoices[i % 64]!)),
    run('all features (new descriptions)', budget, () => all(fresh())),
  ];
  console.log(
    `Features per second for a 10-line invoice (node ${process.version}; reference view built in ${setupMs} ms).`,
  );
  console.log('stage | invoices/s | lines/s | median ms/invoice | p95 ms/invoice | runs');
  for (const r of results)
    console.log([r.stage, r.perSecond, r.linesPerSecond, r.medianMs, r.p95Ms, r.invoices].join(' | '));
}

if (import.meta.url === `file://${process.argv[1]}`) main();
