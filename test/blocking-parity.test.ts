/**
 * Blocking parity: the store's SQL rendering of core/blocking.ts and training's in-memory
 * evaluation (`training/blocking.ts` candidatePairs) find the same candidate set, with the same
 * sources, for every invoice of one seeded fixture, on both engines. The fixture exercises
 * every rule: tenant kNN, vendor kNN inside and outside the date window, vendor id versus
 * vendor key, the canonical number, vendor + total + date, and credit memos on the negated
 * total; and once more with a `vendorRecentLimit` of 4, which cuts every vendor's window of
 * about 15 invoices to the 4 dated nearest, and with that bound on a fixture dated on 5 days,
 * where the bound cuts inside a date (the tie rule, core/blocking.ts compareVendorRecent), and
 * with a bound of 3 on 3 dates, where the invoices at the bound's day distance on both sides of
 * the date are more than the bound.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Invoice } from '../core/invoice.js';
import { BLOCKING_SPEC, vendorBillingIntervalDays } from '../core/blocking.js';
import { openStore, type TriageRepository } from '../store/index.js';
import { candidatePairs } from '../training/blocking.js';
import { invoiceKeys } from '../training/features.js';
import { mulberry32 } from '../training/rng.js';
import { decisionFor, engines, keysOf, makeInvoice } from './fixtures.js';
import { dropSchema } from './harness.js';
import { assessDuplicates } from '../inference/duplicate-detector.js';
import type { PairComparison } from '../features/pair.js';
import { comparePair, pairSideOfInvoice } from '../features/pair.js';
import { extractInvoiceFeatures } from '../features/invoice-features.js';
import { PAIR_VECTOR_NAMES, pairFeatureVector } from '../features/comparisons.js';

/** The `billing_rhythm` entries of a pair's model vector (the input the pair model reads). */
const RHYTHM_COLUMNS = PAIR_VECTOR_NAMES.flatMap((n, i) => (n.startsWith('billing_rhythm') ? [i] : []));
const rhythmEntries = (c: PairComparison): number[] => {
  const v = pairFeatureVector(c);
  return RHYTHM_COLUMNS.map((i) => v[i]!);
};

const ITEMS = [
  'Oxygen concentrator monthly rental',
  'Gradient compression stocking below knee',
  'Alginate dressing 16 sq in',
  'Blood glucose test strips box of 50',
  'Walker folding with wheels',
  'Nebulizer compressor',
  'Hospital bed semi electric',
  'Enteral feeding supply kit pump fed',
];

/**
 * 90 invoices of 7 vendor records (two share a name under different ids, two share an id under
 * names of different keys, so the vendor block finds invoices by key alone and by id alone) dated
 * on `days` consecutive days (two years; a few days put many invoices of a vendor on one date,
 * where the vendor block's bound breaks ties in storage order).
 */
function fixture(days = 730): Invoice[] {
  const rng = mulberry32(20261204);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
  const vendors = [
    { id: 'V-1', name: 'Acme Medical Supply' },
    { id: 'V-2', name: 'Acme Medical Supply, Inc.' },
    { id: 'V-3', name: 'Northwind Home Health' },
    { id: 'V-4', name: 'Contoso Durable Equipment' },
    { id: 'V-5', name: 'Fabrikam Wound Care' },
    { id: 'V-6', name: 'Tailspin Respiratory' },
    { id: 'V-6', name: 'Tailspin Oxygen Services' },
  ];
  const out: Invoice[] = [];
  for (let i = 0; i < 90; i++) {
    const earlier = out.length > 0 && rng() < 0.3 ? pick(out) : null;
    const v = earlier && rng() < 0.7 ? earlier.vendor : pick(vendors);
    const day = Math.floor(rng() * days);
    const date = new Date(Date.UTC(2024, 0, 1) + day * 86_400_000).toISOString().slice(0, 10);
    const items = [pick(ITEMS), pick(ITEMS)];
    const cents = [1 + Math.floor(rng() * 40), 1 + Math.floor(rng() * 40)].map((x) => x * 2_500);
    let inv = makeInvoice({
      invoice_id: `p-${i}`,
      vendor: { id: v.id, name: v.name },
      invoice_number: `INV-${1000 + Math.floor(rng() * 60)}`,
      invoice_date: date,
      total_cents: cents[0]! + cents[1]!,
      lines: items.map((d, j) => ({
        line_number: j + 1,
        description: d,
        quantity: 1,
        unit_price_cents: cents[j]!,
        amount_cents: cents[j]!,
      })),
    });
    if (earlier && rng() < 0.5) {
      // Resubmission, same-day rebill or reversal of an earlier invoice.
      const r = rng();
      inv =
        r < 0.4
          ? { ...earlier, invoice_id: `p-${i}` }
          : r < 0.7
            ? {
                ...inv,
                vendor: earlier.vendor,
                invoice_date: earlier.invoice_date,
                total_cents: earlier.total_cents,
              }
            : {
                ...inv,
                vendor: earlier.vendor,
                document_type: 'credit_memo',
                total_cents: -earlier.total_cents,
                lines: earlier.lines.map((l) => ({
                  ...l,
                  quantity: -l.quantity,
                  amount_cents: -l.amount_cents,
                })),
              };
    }
    out.push(inv);
  }
  return out;
}

const BOUNDS = [
  { bound: 'the spec', vendorRecentLimit: BLOCKING_SPEC.vendorRecentLimit },
  { bound: 'a bounded vendor block', vendorRecentLimit: 4 },
  { bound: 'a bounded vendor block on 5 dates', vendorRecentLimit: 4, days: 5 },
  // Three dates: the bound's day distance is 1 for nearly every invoice, so the id rows within it
  // include the day after the new invoice's as well as the day before, cut by the tie rule.
  { bound: 'a bound of 3 on 3 dates', vendorRecentLimit: 3, days: 3, parityOnly: true },
];

describe.each(engines('blocking').flatMap((e) => BOUNDS.map((b) => ({ ...e, ...b }))))(
  'blocking parity on $name with $bound',
  ({ config, vendorRecentLimit, days, parityOnly }) => {
    let repo: TriageRepository;
    const cfg = config();
    const spec = { ...BLOCKING_SPEC, vendorRecentLimit };
    let n = 0;
    beforeAll(async () => {
      // Primary keys in submission order, so the store's tie-breaks (pk) are training's (earlier first).
      repo = await openStore(cfg, {
        newId: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
        vendorRecentLimit,
      });
    });
    afterAll(async () => {
      await repo.close();
      await dropSchema(cfg);
    });

    it('the store and training find the same candidates with the same sources', async () => {
      const invoices = fixture(days);
      const keys = invoices.map(invoiceKeys);
      const k = 3;
      const pairs = candidatePairs(
        keys,
        invoices.map(() => 'all'),
        { k, spec },
      );
      // The bound changes the vendor block only where it is below the fixture's vendor windows.
      const unbounded = candidatePairs(
        keys,
        invoices.map(() => 'all'),
        { k },
      );
      const vendorPairs = (ps: typeof pairs) =>
        ps.filter((p) => p.sources.includes('vendor_knn')).map((p) => `${p.a}>${p.b}`);
      const cut = vendorPairs(unbounded).filter((x) => !vendorPairs(pairs).includes(x)).length;
      if (vendorRecentLimit < BLOCKING_SPEC.vendorRecentLimit) expect(cut).toBeGreaterThan(5);
      else expect(cut).toBe(0);
      const memo = new Map<string, string[]>();
      for (const p of pairs) memo.set(`${p.a}>${p.b}`, [...p.sources].sort());
      const store = new Map<string, string[]>();
      // The vendor's billing interval each side reads from its candidates (a pair feature).
      const storeInterval: (number | null)[] = [];
      // The billing rhythm of each pair the service scores (assessDuplicates).
      const servedRhythm = new Map<string, [number | null, number | null, number[]]>();
      const side = (inv: Invoice) => pairSideOfInvoice(inv, extractInvoiceFeatures(inv));
      const bySource = { knn: 0, vendor_knn: 0, exact_key: 0 };
      for (const [a, inv] of invoices.entries()) {
        const { candidates } = await repo.findDuplicateCandidates({
          tenantId: 'parity',
          embedding: keys[a]!.embedding,
          k,
          vendorKey: keys[a]!.vendorKey,
          vendorId: inv.vendor.id,
          invoiceNumberCanonical: keys[a]!.invoiceNumberCanonical,
          totalCents: inv.total_cents,
          invoiceDate: inv.invoice_date,
          documentType: inv.document_type,
        });
        storeInterval.push(vendorBillingIntervalDays(BLOCKING_SPEC, keys[a]!, candidates));
        const seen: PairComparison[] = [];
        const { scored } = await assessDuplicates(inv, side(inv), candidates, {
          task: 'duplicate',
          kind: 'heuristic',
          version: 'stub',
          scorePair: (c) => (seen.push(c), { score: 0, contributions: {}, rule: null }),
        });
        scored.forEach((s) =>
          servedRhythm.set(`${a}>${Number(s.candidate.invoiceId.slice(2))}`, [
            s.comparison.vendorIntervalDays,
            s.comparison.rhythmCycles,
            rhythmEntries(s.comparison),
          ]),
        );
        expect(seen.length).toBeGreaterThanOrEqual(candidates.length);
        for (const c of candidates) {
          const b = Number(c.invoiceId.slice(2));
          store.set(`${a}>${b}`, [...c.sources].sort());
          for (const s of c.sources) bySource[s]++;
        }
        await repo.saveDecision('parity', inv, `h${a}`, keysOf(inv), decisionFor(inv));
      }
      expect(Object.fromEntries([...store].sort())).toEqual(Object.fromEntries([...memo].sort()));
      const memoInterval = invoices.map((_, a) =>
        vendorBillingIntervalDays(
          BLOCKING_SPEC,
          keys[a]!,
          pairs.filter((p) => p.a === a).map((p) => keys[p.b]!),
        ),
      );
      expect(storeInterval).toEqual(memoInterval);
      // Training's pairs (training/assemble.ts: comparePair with vendorBillingIntervalDays of the
      // pair's new invoice over its candidate pairs) carry the same billing rhythm as the served
      // ones, pair by pair.
      const trainingRhythm = new Map(
        pairs.map((p) => {
          const c = comparePair(side(invoices[p.a]!), side(invoices[p.b]!), 0, memoInterval[p.a]!);
          return [`${p.a}>${p.b}`, [c.vendorIntervalDays, c.rhythmCycles, rhythmEntries(c)]];
        }),
      );
      expect(Object.fromEntries([...servedRhythm].sort())).toEqual(
        Object.fromEntries([...trainingRhythm].sort()),
      );
      // Three dates give no billing rhythm to speak of: the checks of the fixture's spread below are
      // for the others.
      if (parityOnly) return;
      const onRhythm = [...servedRhythm.values()].filter((v) => v[0] !== null);
      expect(onRhythm.length).toBeGreaterThan(10);
      // the pair-vector input (billing_rhythm.cycles) is set on those pairs, not only its missing flag
      expect(onRhythm.filter((v) => v[2][0]! > 0).length).toBeGreaterThan(10);
      expect(memoInterval.filter((x) => x !== null).length).toBeGreaterThan(10);
      // Every rule found something, and the vendor window excluded someone kNN alone would reach.
      expect(bySource.knn).toBeGreaterThan(100);
      expect(bySource.vendor_knn).toBeGreaterThan(50);
      expect(bySource.exact_key).toBeGreaterThan(10);
      const reversal = BLOCKING_SPEC.exactKeys.find((r) => r.name === 'credit_memo_reversal')!;
      expect(reversal).toBeDefined();
      const memoPairs = pairs.filter(
        (p) => keys[p.a]!.documentType === 'credit_memo' && p.sources.includes('exact_key'),
      );
      expect(memoPairs.length).toBeGreaterThan(0);
      const outOfWindow = pairs.filter(
        (p) =>
          p.sources.includes('knn') &&
          !p.sources.includes('vendor_knn') &&
          keys[p.a]!.vendorId === keys[p.b]!.vendorId,
      );
      expect(outOfWindow.length).toBeGreaterThan(0);
    }, 120_000);
  },
);
