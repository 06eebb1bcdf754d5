/**
 * Invoices and id sources of the batch-chunk suites (test/batch-chunk*.test.ts): a fixed clock,
 * deterministic UUIDs, invoices of six vendors cycling through eight HCPCS lines, and invoices
 * with given dated lines (for the line-rebill search and the vendor baselines).
 */
import { afterAll, beforeAll } from 'vitest';
import type { Invoice } from '../core/invoice.js';
import { wire, type Wired } from '../bin/bootstrap.js';
import type { StoreConfig } from '../store/index.js';
import { makeInvoice } from './fixtures.js';
import { dropSchema } from './harness.js';

export const CLOCK = new Date('2025-04-01T12:00:00.000Z');

/** Deterministic UUIDs per kind, so that both runs store the same ids. */
export function sequenceIds(): (kind: 'invoice' | 'decision') => string {
  let n = 0;
  return (kind) =>
    `00000000-0000-4000-${kind === 'invoice' ? '8' : '9'}000-${(++n).toString(16).padStart(12, '0')}`;
}

export const LINES = [
  ['Oxygen concentrator, single delivery port, monthly rental', 'E1390'],
  ['Nebulizer with compressor', 'E0570'],
  ['Standard wheelchair, fixed full length arms', 'K0001'],
  ['Hospital bed, semi-electric, with mattress', 'E0260'],
  ['Walker, folding, wheeled, adjustable', 'E0143'],
  ['Blood glucose test strips, box of 50', 'A4253'],
  ['CPAP device', 'E0601'],
  ['Cane, quad or three prong, adjustable', 'E0105'],
] as const;

/** Invoice `i` of vendor `V-(i % 6)` with one to three of the {@link LINES} (`over` wins). */
export function invoice(i: number, over: Partial<Invoice> = {}): Invoice {
  const v = i % 6;
  const lines = [0, 1, 2].slice(0, 1 + (i % 3)).map((k) => {
    const [description, code] = LINES[(i * 3 + k) % LINES.length]!;
    const amount = 1_000 * (1 + ((i + k) % 7));
    return {
      line_number: k + 1,
      description,
      code: { system: 'HCPCS' as const, value: code },
      quantity: 1,
      unit_price_cents: amount,
      amount_cents: amount,
    };
  });
  return makeInvoice({
    invoice_id: `c-${i}`,
    vendor: { id: `V-${v}`, name: `Vendor ${v} Medical Supply LLC` },
    invoice_number: `N-${1000 + i}`,
    invoice_date: `2025-03-${String(1 + (i % 20)).padStart(2, '0')}`,
    due_date: undefined,
    po_number: undefined,
    lines,
    total_cents: lines.reduce((s, l) => s + l.amount_cents, 0),
    ...over,
  } as Partial<Invoice>);
}

/** A line with a service date (for the line-rebill search). */
export function datedLine(n: number, code: string, cents: number, serviceDate: string) {
  const description = LINES.find((l) => l[1] === code)?.[0] ?? 'Medical supply';
  return {
    line_number: n,
    description,
    code: { system: 'HCPCS' as const, value: code },
    quantity: 1,
    unit_price_cents: cents,
    amount_cents: cents,
    service_date: serviceDate,
  };
}

/** An invoice of `vendor` with the given lines (total their sum). */
export function withLines(
  id: string,
  vendor: number,
  date: string,
  lines: ReturnType<typeof datedLine>[],
): Invoice {
  return invoice(0, {
    invoice_id: id,
    invoice_number: `R-${id}`,
    invoice_date: date,
    vendor: { id: `V-${vendor}`, name: `Vendor ${vendor} Medical Supply LLC` },
    lines,
    total_cents: lines.reduce((s, l) => s + l.amount_cents, 0),
  } as Partial<Invoice>);
}

/**
 * Wires two services with the fixed clock and id sequence on two fresh stores of `config`'s
 * engine (one scores one by one, the other per chunk) before the suite, and closes and drops
 * them after it; `set` receives them.
 */
export function wirePair(config: () => StoreConfig, set: (one: Wired, many: Wired) => void): void {
  const configs = [config(), config()] as const;
  const opts = () => ({ clock: () => CLOCK, newId: sequenceIds() });
  const pair: Wired[] = [];
  beforeAll(async () => {
    for (const c of configs) pair.push(await wire(c, opts()));
    set(pair[0]!, pair[1]!);
  }, 300_000);
  afterAll(async () => {
    for (const w of pair) {
      await w.closeModels();
      await w.repo.close();
    }
    for (const c of configs) await dropSchema(c);
  });
}
