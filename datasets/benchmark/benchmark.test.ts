/**
 * The benchmark generator's files and card, its invoices as the API accepts them, its splits
 * without leakage, and the re-keying edits, on a generated benchmark (test/generated-benchmark.ts).
 * The labels are tested in benchmark-labels.test.ts.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateInvoice } from '../../core/validate.js';
import { isValidNpi } from '../../features/npi.js';
import { dayNumber } from '../synth.js';
import { resolveRates } from './generator.js';
import { applyNumberEdit, drawNumberEdits } from './number-edits.js';
import { categoryKeyOfCode, PROFILES, categoryKey } from './profiles.js';
import {
  BENCHMARK_FILES,
  BENCHMARK_SPLITS,
  CODING_KINDS,
  DUPLICATE_KINDS,
  HARD_NEGATIVE_KINDS,
} from './types.js';
import { vendorMasterApprovals, type BenchmarkVendor } from './vendors.js';
import { codeApproved } from '../../core/vendor.js';
import { Rng } from '../synth.js';
import {
  again,
  byId,
  card,
  dir,
  get,
  N,
  other,
  records,
  ref,
  SEED,
  useGeneratedBenchmark,
  vendorOf,
  vendors,
} from '../../test/generated-benchmark.js';

useGeneratedBenchmark({ compare: true });

describe('benchmark generator: files and card', () => {
  it('writes exactly the requested invoices, seq 0..N-1 in file order, ids unique', () => {
    expect(records).toHaveLength(N);
    records.forEach((r, i) => expect(r.label.seq).toBe(i));
    expect(byId.size).toBe(N);
    expect(card.totals.invoices).toBe(N);
  });

  it('is deterministic: the same seed gives byte-identical files, another seed other files', () => {
    for (const f of [
      ...BENCHMARK_SPLITS.map(BENCHMARK_FILES.split),
      BENCHMARK_FILES.vendors,
      BENCHMARK_FILES.card,
    ]) {
      expect(readFileSync(join(again, f)).equals(readFileSync(join(dir, f))), f).toBe(true);
    }
    expect(readFileSync(join(other, 'train.jsonl'), 'utf8').slice(0, 500)).not.toBe(
      readFileSync(join(dir, 'train.jsonl'), 'utf8').slice(0, 500),
    );
  });

  it('records every file with its sha256 and the counts per kind that the files hold', () => {
    for (const [name, meta] of Object.entries(card.files)) {
      const bytes = readFileSync(join(dir, name));
      expect(createHash('sha256').update(bytes).digest('hex'), name).toBe(meta.sha256);
      expect(bytes.length).toBe(meta.bytes);
    }
    for (const split of BENCHMARK_SPLITS) {
      const rs = records.filter((r) => r.label.split === split);
      const c = card.splits[split];
      expect(c.invoices).toBe(rs.length);
      expect(c.lines).toBe(rs.reduce((n, r) => n + r.invoice.lines.length, 0));
      for (const k of DUPLICATE_KINDS)
        expect(c.duplicates[k], k).toBe(rs.filter((r) => r.label.duplicate?.kind === k).length);
      for (const k of HARD_NEGATIVE_KINDS)
        expect(c.hard_negatives[k], k).toBe(rs.filter((r) => r.label.hard_negative?.kind === k).length);
      for (const k of CODING_KINDS)
        expect(c.coding[k], k).toBe(
          rs.reduce((n, r) => n + r.label.coding.filter((x) => x.kind === k).length, 0),
        );
      // Every derived kind reaches its quota.
      for (const [kind, q] of Object.entries(c.quotas)) expect(q.written, `${split} ${kind}`).toBe(q.target);
    }
    expect(card.reference_data.version).toBe(ref.version);
    expect(Object.keys(card.reference_data.files)).toHaveLength(7);
    expect(card.command).toContain(`--invoices ${N} --seed ${SEED}`);
  });

  it('seeds every kind, at rates near the documented ones', () => {
    const t = card.totals;
    for (const k of DUPLICATE_KINDS) expect(t.duplicates[k], k).toBeGreaterThan(0);
    for (const k of HARD_NEGATIVE_KINDS) expect(t.hard_negatives[k], k).toBeGreaterThan(0);
    for (const k of CODING_KINDS) expect(t.coding[k], k).toBeGreaterThan(0);
    const dupShare = DUPLICATE_KINDS.reduce((n, k) => n + t.duplicates[k], 0) / N;
    expect(dupShare).toBeGreaterThan(0.02);
    expect(dupShare).toBeLessThan(0.045);
    const codingShare = CODING_KINDS.reduce((n, k) => n + t.coding[k], 0) / t.lines;
    expect(codingShare).toBeGreaterThan(0.01);
    expect(codingShare).toBeLessThan(0.06);
  });

  it('changes the rates by flag', () => {
    const r = resolveRates({ exact_resubmission: 0.05, price_outlier: 0 }, 2);
    expect(r.duplicate.exact_resubmission).toBeCloseTo(0.1);
    expect(r.coding.price_outlier).toBe(0);
    expect(r.duplicate.rekeyed_number).toBeCloseTo(0.012);
    expect(() => resolveRates({ nonsense: 0.1 } as never)).toThrow(/unknown kind/);
  });
});

describe('benchmark generator: invoices are what the API accepts', () => {
  it('validates every invoice with validateInvoice (schema + cross-field rules)', () => {
    for (const r of records) expect(() => validateInvoice(r.invoice), r.invoice.invoice_id).not.toThrow();
  });

  it('has consistent money: line amount = quantity x unit price, total = sum of lines (except rounded totals)', () => {
    for (const r of records) {
      for (const l of r.invoice.lines)
        expect(l.amount_cents, r.invoice.invoice_id).toBe(Math.round(l.quantity * l.unit_price_cents));
      const sum = r.invoice.lines.reduce((s, l) => s + l.amount_cents, 0);
      const rounded =
        r.label.duplicate?.changes.some((c) => c.startsWith('total_cents:rounded:')) ||
        r.label.duplicate?.combined?.includes('retotalled');
      if (!rounded) expect(r.invoice.total_cents, r.invoice.invoice_id).toBe(sum);
    }
  });

  it('gives NPIs valid check digits, due dates by the vendor terms, service periods to monthly vendors', () => {
    for (const r of records) {
      const inv = r.invoice;
      if (inv.vendor.npi) expect(isValidNpi(inv.vendor.npi)).toBe(true);
      const v = vendorOf.get(r.label.vendor_profile) as BenchmarkVendor;
      if (inv.document_type === 'invoice' && !r.label.duplicate)
        expect(dayNumber(inv.due_date as string) - dayNumber(inv.invoice_date)).toBe(v.terms.net_days);
      if (PROFILES[v.service_line].dating === 'period')
        expect(inv.service_period, inv.invoice_id).toBeDefined();
    }
  });

  it('prices clean lines near the CMS fee (0.85-1.36 x) with active codes the vendor master approves', () => {
    let checked = 0;
    for (const r of records) {
      const v = vendorOf.get(r.label.vendor_profile) as BenchmarkVendor;
      const approved = new Set(PROFILES[v.service_line].categories.map(categoryKey));
      const master = vendorMasterApprovals(v);
      const labelled = new Set(r.label.coding.map((c) => c.line_number));
      if (r.label.hard_negative?.kind === 'same_amount_date_other_vendor') continue;
      for (const l of r.invoice.lines) {
        if (labelled.has(l.line_number) || !l.code) continue;
        const code = ref.hcpcs.get(l.code.value);
        expect(code, l.code.value).toBeDefined();
        expect(code?.terminationDate ?? null).toBeNull();
        const c = code as NonNullable<typeof code>;
        // Inside the vendor's section x BETOS categories, or (billed from another service line)
        // inside the vendor master's BETOS approvals, which is all the service can check.
        expect(
          approved.has(categoryKeyOfCode(c)) || codeApproved(master, c.code, c.betos),
          `${v.service_line} ${l.code.value}`,
        ).toBe(true);
        const item = v.catalogue.find((c) => c.code === l.code?.value);
        if (!item) continue; // a rebill's corrected line or a copied line: checked by their own tests
        const ratio = Math.abs(l.unit_price_cents) / item.feeCents;
        const rebillCorrected = r.label.hard_negative?.kind === 'rebill_after_credit';
        expect(ratio, `${r.invoice.invoice_id} ${l.code.value}`).toBeGreaterThanOrEqual(
          rebillCorrected ? 0.8 : 0.85,
        );
        // markup <= 1.22 x 1.03, raised at most 4% a year for at most 2 years within a window
        expect(ratio).toBeLessThanOrEqual(1.36);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(N);
  });
});

describe('benchmark generator: splits by vendor and time without leakage', () => {
  it('puts every vendor (ids, alternate ids, names, tax ids, NPIs) in exactly one split', () => {
    const seen = new Map<string, string>();
    for (const v of vendors) {
      for (const key of [v.id, ...v.alt_ids, v.name.toLowerCase(), v.tax_id, v.npi ?? `none-${v.id}`]) {
        const prev = seen.get(key);
        expect(prev === undefined || prev === v.split, `${key} in ${prev} and ${v.split}`).toBe(true);
        seen.set(key, v.split);
      }
    }
    for (const r of records) {
      const v = vendorOf.get(r.label.vendor_profile) as BenchmarkVendor;
      expect(v.split).toBe(r.label.split);
      expect([v.id, ...v.alt_ids]).toContain(r.invoice.vendor.id);
    }
  });

  it('dates every invoice inside its split window; windows are disjoint and in time order', () => {
    for (const r of records) {
      const w = card.splits[r.label.split].window;
      expect(r.invoice.invoice_date >= w.from && r.invoice.invoice_date <= w.to, r.invoice.invoice_id).toBe(
        true,
      );
    }
    expect(card.splits.train.window.to < card.splits.valid.window.from).toBe(true);
    expect(card.splits.valid.window.to < card.splits.test.window.from).toBe(true);
  });

  it('relates duplicates and hard negatives only to earlier invoices of the same split', () => {
    for (const r of records) {
      for (const target of [r.label.duplicate?.of, r.label.hard_negative?.related]) {
        if (!target) continue;
        const t = get(target);
        expect(t.label.split).toBe(r.label.split);
        expect(t.label.seq).toBeLessThan(r.label.seq);
      }
      expect(r.label.duplicate !== null && r.label.hard_negative !== null).toBe(false);
    }
  });
});

describe('re-keying edits', () => {
  it('replays every drawn edit and never returns the original number', () => {
    const rng = new Rng(5);
    for (const n of ['INV-1008', 'TCL-2025-00872', '9104513', '004417-LAB', 'KHM0104522', '2503-0117']) {
      for (let i = 0; i < 50; i++) {
        const { edits, result } = drawNumberEdits(n, rng);
        expect(result).not.toBe(n);
        expect(edits.reduce((s, e) => applyNumberEdit(s, e), n)).toBe(result);
      }
    }
    expect(() => applyNumberEdit('INV-1', { op: 'ocr', at: 0, from: '0', to: 'O' })).toThrow();
  });
});
