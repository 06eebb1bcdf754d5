/**
 * The seeded invoice benchmark generator. Streams `{ invoice, label }` records to one JSONL
 * file per split, in submission order, with `vendors.json` and `card.json` beside them.
 *
 * Splits are by vendor and by time: every vendor belongs to one split and invoices only inside
 * that split's window (train, then valid, then test); duplicates and hard negatives are derived
 * from an earlier invoice of the same split and dated inside its window, so nothing refers
 * across splits. The set is deterministic: the same options give byte-identical files.
 *
 * Memory stays bounded whatever the size: base invoices are planned as a date-ordered stream
 * (slot i of n falls at `start + (i + u) / n` of the window), derived invoices wait in a heap
 * keyed by the day they reach AP, and records leave as soon as no earlier one can follow.
 * Exact derived counts come from selection sampling over "lanes": a planning pass counts the
 * originals that qualify for each kind, then each kind draws exactly its quota among them.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ReferenceData } from '../../core/reference.js';
import { validateInvoice } from '../../core/validate.js';
import { defaultReferenceDir, loadFieldCodeTables, loadReferenceData } from '../reference.js';
import { Rng, canonicalInvoice, cumulative, dayNumber, isoOfDay } from '../synth.js';
import { addCounts, emptyCounts, zeros } from './counts.js';
import {
  LANE_KINDS,
  eligible,
  laneOf,
  planLanes,
  planSlots,
  rateOf,
  subSeed,
  type SplitPlan,
} from './plan.js';
import { PrintFormats } from './print-format.js';
import { DraftHeap, HashedWriter } from './stream.js';
import { Hospital, VendorState, buildInvoice, type DeriveTask, type Draft } from './invoices.js';
import { deriveDuplicate, deriveHardNegative, deriveRebill, type DeriveContext } from './derive.js';
import { CodingReference, type LineContext } from './lines.js';
import {
  categoryKey,
  codePool,
  PROFILES,
  SERVICE_LINES,
  type PoolItem,
  type ServiceLine,
} from './profiles.js';
import {
  BENCHMARK_FILES,
  BENCHMARK_SPLITS,
  CODING_KINDS,
  DUPLICATE_KINDS,
  HARD_NEGATIVE_KINDS,
  type BenchmarkCard,
  type BenchmarkLabel,
  type BenchmarkRates,
  type BenchmarkSplit,
  type CodingKind,
  type DuplicateKind,
  type HardNegativeKind,
} from './types.js';
import { catalogueAsOf, createVendors } from './vendors.js';

export { subSeed } from './plan.js';

/** Version of the generator; bump it whenever the output for a given seed changes. */
export const GENERATOR_VERSION = 'invoice-benchmark@1.6.0';

/**
 * Default rates. Duplicates about 3% of invoices and hard negatives about 4% (AP audit
 * recovery studies put duplicate payments at 0.1-2% of invoices *paid*, after controls; the
 * benchmark seeds more so that every kind has enough examples), coding exceptions about 3% of
 * lines over all kinds (each rate is a share of the lines that can carry that kind).
 */
export const DEFAULT_RATES: BenchmarkRates = {
  duplicate: {
    exact_resubmission: 0.008,
    rekeyed_number: 0.006,
    date_shifted: 0.004,
    vendor_variant: 0.004,
    partial_resubmission: 0.003,
    line_level_duplicate: 0.003,
    amount_rounding_or_tax: 0.003,
  },
  hard_negative: {
    recurring_monthly: 0.012,
    credit_memo_reversal: 0.008,
    rebill_after_credit: 0.004,
    number_reused_years_later: 0.002,
    same_amount_date_other_vendor: 0.005,
    separate_partial_shipment: 0.008,
  },
  coding: {
    wrong_code_same_family: 0.008,
    outside_vendor_categories: 0.004,
    unit_dose_mismatch: 0.02,
    price_outlier: 0.006,
    implausible_quantity: 0.003,
    terminated_code: 0.004,
    unknown_code: 0.003,
  },
};

/** Options of {@link generateBenchmark}. */
export interface GenerateOptions {
  /** Total invoices over the three splits (1,000 to 1,000,000). */
  invoices: number;
  seed: number;
  /** Output directory (created). */
  out: string;
  /** Window bounds, `YYYY-MM-DD`: train [start, validFrom), valid [validFrom, testFrom), test [testFrom, end]. */
  start?: string;
  validFrom?: string;
  testFrom?: string;
  end?: string;
  /** Shares of the invoices in train / valid / test; default 0.7 / 0.15 / 0.15. */
  splitFractions?: [number, number, number];
  /** Average invoices per vendor (sets the vendor count); default 150. */
  invoicesPerVendor?: number;
  /** Rate overrides by kind name (any duplicate, hard-negative or coding kind). */
  rates?: Partial<Record<DuplicateKind | HardNegativeKind | CodingKind, number>>;
  /** Multiplies every rate (after overrides); default 1. */
  ratesScale?: number;
  /** Price outliers bill at least k x the fee; default 3. */
  priceOutlierK?: number;
  /** Reference data; default the shipped `datasets/reference`. */
  reference?: ReferenceData;
  /**
   * Print every invoice in its vendor's line format (delivery references, undated lines;
   * `print-format.ts`); default true. False writes the content as drawn, for the check that the
   * formats change nothing else.
   */
  printFormats?: boolean;
  /** Called after every 1,000 records and at the end. */
  onProgress?: (written: number, total: number) => void;
}

/** Result of a run. */
export interface GenerateResult {
  card: BenchmarkCard;
  /** Wall-clock seconds of the run. */
  seconds: number;
  /** Bytes written (all files). */
  bytes: number;
}

/** The default windows. */
export const DEFAULT_WINDOWS = {
  start: '2020-01-01',
  validFrom: '2023-01-01',
  testFrom: '2024-07-01',
  end: '2025-12-31',
} as const;

/** Effective rates: defaults, then overrides by kind name, then the scale. */
export function resolveRates(overrides: GenerateOptions['rates'] = {}, scale = 1): BenchmarkRates {
  const out = structuredClone(DEFAULT_RATES);
  for (const [kind, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    if (!(value >= 0 && value <= 1)) throw new RangeError(`rate ${kind} must be within [0, 1], got ${value}`);
    if ((DUPLICATE_KINDS as readonly string[]).includes(kind)) out.duplicate[kind as DuplicateKind] = value;
    else if ((HARD_NEGATIVE_KINDS as readonly string[]).includes(kind))
      out.hard_negative[kind as HardNegativeKind] = value;
    else if ((CODING_KINDS as readonly string[]).includes(kind)) out.coding[kind as CodingKind] = value;
    else throw new RangeError(`unknown kind ${kind}`);
  }
  for (const group of [out.duplicate, out.hard_negative, out.coding] as Record<string, number>[]) {
    for (const k of Object.keys(group)) group[k] = Math.min(1, (group[k] as number) * scale);
  }
  return out;
}

/** The reference files' sha256 as listed in `datasets/reference/SHA256SUMS`. */
function referenceChecksums(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(join(defaultReferenceDir(), 'SHA256SUMS'), 'utf8').split('\n')) {
    const m = /^([0-9a-f]{64})\s+(\S+)$/.exec(line.trim());
    if (m) out[m[2] as string] = m[1] as string;
  }
  return out;
}

/** Options of a run with their defaults filled in. */
export interface ResolvedOptions {
  invoices: number;
  seed: number;
  start: string;
  validFrom: string;
  testFrom: string;
  end: string;
  splitFractions: [number, number, number];
  invoicesPerVendor: number;
  priceOutlierK: number;
  ratesScale: number;
  rates: GenerateOptions['rates'];
}

/** The command line that reproduces a set. */
function commandOf(o: ResolvedOptions): string {
  const parts = [
    'npm run gen:benchmark --',
    `--invoices ${o.invoices}`,
    `--seed ${o.seed}`,
    `--start ${o.start} --valid-from ${o.validFrom} --test-from ${o.testFrom} --end ${o.end}`,
    `--split-fractions ${o.splitFractions.join(',')}`,
    `--invoices-per-vendor ${o.invoicesPerVendor}`,
    `--price-outlier-k ${o.priceOutlierK}`,
  ];
  for (const [k, v] of Object.entries(o.rates ?? {}).sort()) parts.push(`--rate ${k}=${v}`);
  if (o.ratesScale !== 1) parts.push(`--rates-scale ${o.ratesScale}`);
  return parts.join(' ');
}

/**
 * Generates a benchmark into `opts.out`: `train.jsonl`, `valid.jsonl`, `test.jsonl`,
 * `vendors.json`, `card.json`. Every invoice is validated with the API's rules
 * (`validateInvoice`) before it is written.
 * @throws RangeError on bad options; Error when a generated invoice fails validation (a bug).
 */
export async function generateBenchmark(opts: GenerateOptions): Promise<GenerateResult> {
  const t0 = process.hrtime.bigint();
  const o: ResolvedOptions = {
    invoices: opts.invoices,
    seed: opts.seed,
    start: opts.start ?? DEFAULT_WINDOWS.start,
    validFrom: opts.validFrom ?? DEFAULT_WINDOWS.validFrom,
    testFrom: opts.testFrom ?? DEFAULT_WINDOWS.testFrom,
    end: opts.end ?? DEFAULT_WINDOWS.end,
    splitFractions: opts.splitFractions ?? ([0.7, 0.15, 0.15] as [number, number, number]),
    invoicesPerVendor: opts.invoicesPerVendor ?? 150,
    priceOutlierK: opts.priceOutlierK ?? 3,
    ratesScale: opts.ratesScale ?? 1,
    rates: opts.rates,
  };
  if (!Number.isInteger(o.invoices) || o.invoices < 100 || o.invoices > 1_000_000)
    throw new RangeError('invoices must be an integer within [100, 1000000]');
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffffffff)
    throw new RangeError('seed must be a 32-bit unsigned integer');
  if (!(o.start < o.validFrom && o.validFrom < o.testFrom && o.testFrom <= o.end))
    throw new RangeError('windows must satisfy start < valid-from < test-from <= end');
  const fsum = o.splitFractions.reduce((a, b) => a + b, 0);
  if (o.splitFractions.some((f) => !(f > 0)) || Math.abs(fsum - 1) > 1e-9)
    throw new RangeError('split fractions must be positive and sum to 1');
  if (!(o.priceOutlierK > 1)) throw new RangeError('price outlier k must be > 1');
  const rates = resolveRates(o.rates, o.ratesScale);
  const ref = opts.reference ?? loadReferenceData();
  const betosLabels = loadFieldCodeTables().get('betos_code') ?? new Map<string, string>();
  const cref = new CodingReference(ref);
  mkdirSync(opts.out, { recursive: true });

  const windows: Record<BenchmarkSplit, { from: string; to: string }> = {
    train: { from: o.start, to: isoOfDay(dayNumber(o.validFrom) - 1) },
    valid: { from: o.validFrom, to: isoOfDay(dayNumber(o.testFrom) - 1) },
    test: { from: o.testFrom, to: o.end },
  };
  const targets = BENCHMARK_SPLITS.map((_, i) => Math.round(o.invoices * (o.splitFractions[i] as number)));
  targets[0] = o.invoices - (targets[1] as number) - (targets[2] as number);

  // Vendors of every split first (vendors.json), so that names stay unique across splits.
  const takenNames = new Set<string>();
  const plans: SplitPlan[] = BENCHMARK_SPLITS.map((split, i) => {
    const target = targets[i] as number;
    const count = Math.max(2 * SERVICE_LINES.length, Math.round(target / o.invoicesPerVendor));
    const vendors = createVendors(
      ref,
      {
        split,
        count,
        activeFrom: windows[split].from,
        activeTo: windows[split].to,
        idBase: 100_000 * (i + 1),
      },
      new Rng(subSeed(o.seed, `vendors:${split}`)),
      takenNames,
      betosLabels,
    );
    return {
      split,
      target,
      vendors,
      cumVolume: cumulative(vendors.map((v) => v.volume)),
      window: { start: dayNumber(windows[split].from), end: dayNumber(windows[split].to) },
    };
  });
  // vendors.json is streamed (one vendor per line): at a million invoices it is tens of MB.
  const vendorsWriter = new HashedWriter(join(opts.out, BENCHMARK_FILES.vendors));
  await vendorsWriter.line(
    `{"generator_version":${JSON.stringify(GENERATOR_VERSION)},"seed":${o.seed},` +
      `"profiles":${JSON.stringify(PROFILES)},\n"vendors":[`,
  );
  const allVendors = plans.flatMap((p) => p.vendors);
  for (let i = 0; i < allVendors.length; i++)
    await vendorsWriter.line(JSON.stringify(allVendors[i]) + (i < allVendors.length - 1 ? ',' : ''));
  await vendorsWriter.line(']}');
  const vendorsMeta = await vendorsWriter.close();

  const files: BenchmarkCard['files'] = {};
  const splits = {} as BenchmarkCard['splits'];
  const totals = emptyCounts();
  let seq = 0;
  const formats = opts.printFormats === false ? null : new PrintFormats(o.seed);
  const idPrefix = `bm${o.seed}-`;
  for (const plan of plans) {
    const rng = new Rng(subSeed(o.seed, `main:${plan.split}`));
    const lanes = planLanes(o.seed, plan, rates);
    const hospital = new Hospital(rng);
    // Codes outside each service line's categories (shared by its vendors: memory stays flat).
    const foreignOf = new Map<string, PoolItem[]>();
    const foreignFor = (service: ServiceLine, approved: readonly string[]): PoolItem[] => {
      let list = foreignOf.get(service);
      if (!list) {
        const approvedSet = new Set(approved);
        list = SERVICE_LINES.filter((s) => s !== service).flatMap((s) =>
          codePool(ref, PROFILES[s], catalogueAsOf(windows[plan.split].from)).filter(
            (item) => !approvedSet.has(`${item.code.charAt(0)}:${ref.hcpcs.get(item.code)?.betos ?? ''}`),
          ),
        );
        foreignOf.set(service, list);
      }
      return list;
    };
    const states = plan.vendors.map((v) => {
      const profile = PROFILES[v.service_line];
      const approved = profile.categories.map(categoryKey).sort();
      const foreign = foreignFor(v.service_line, approved);
      const ctx: LineContext = {
        cref,
        vendor: v,
        approved,
        foreign,
        rates: rates.coding,
        priceOutlierK: o.priceOutlierK,
        asOf: catalogueAsOf(windows[plan.split].from),
        rng,
      };
      return new VendorState(v, ctx, rng);
    });
    const byService = new Map<string, VendorState[]>();
    for (const s of states) byService.set(s.v.service_line, [...(byService.get(s.v.service_line) ?? []), s]);
    const g: DeriveContext = {
      rng,
      hospital,
      window: plan.window,
      combineRng: (key) => new Rng(subSeed(o.seed, `combine:${key}`)),
      copyRng: (key) => new Rng(subSeed(o.seed, `line-copy:${key}`)),
      peers: (vs) => (byService.get(vs.v.service_line) ?? []).filter((x) => x !== vs),
    };
    const counts = emptyCounts();
    counts.vendors = plan.vendors.length;
    const written = zeros([...LANE_KINDS, 'rebill_after_credit'] as const);
    const writer = new HashedWriter(join(opts.out, BENCHMARK_FILES.split(plan.split)));
    const heap = new DraftHeap();

    const emit = async (d: Draft): Promise<void> => {
      const id = `${idPrefix}${String(seq).padStart(7, '0')}`;
      d.invoice.invoice_id = id;
      const printed = formats?.print(d) ?? { invoice: d.invoice, duplicate: d.duplicate };
      const label: BenchmarkLabel = {
        split: plan.split,
        seq,
        vendor_profile: d.vendor.v.id,
        duplicate: printed.duplicate,
        hard_negative: d.hardNegative,
        coding: d.coding.sort((a, b) => a.line_number - b.line_number),
      };
      try {
        validateInvoice(printed.invoice);
      } catch (e) {
        throw new Error(`generated invoice ${id} is invalid: ${(e as Error).message}`, { cause: e });
      }
      await writer.line(JSON.stringify({ invoice: canonicalInvoice(printed.invoice), label }));
      seq++;
      counts.invoices++;
      counts.lines += d.invoice.lines.length;
      counts.total_cents += d.invoice.total_cents;
      counts.document_types[d.invoice.document_type] =
        (counts.document_types[d.invoice.document_type] ?? 0) + 1;
      if (d.duplicate) {
        counts.duplicates[d.duplicate.kind]++;
        written[d.duplicate.kind]++;
      }
      if (d.hardNegative) {
        counts.hard_negatives[d.hardNegative.kind]++;
        written[d.hardNegative.kind]++;
      }
      if (!d.duplicate && !d.hardNegative) counts.plain_invoices++;
      for (const c of d.coding) counts.coding[c.kind]++;
      if (d.coding.length > 0) counts.invoices_with_coding_exceptions++;
      if (seq % 1000 === 0) opts.onProgress?.(seq, o.invoices);
      for (const task of d.tasks) {
        let derived: Draft;
        if (task.kind === 'rebill_after_credit') {
          if (!task.original) throw new Error('rebill task without its original');
          derived = deriveRebill(d, task.original, g);
        } else if ((DUPLICATE_KINDS as readonly string[]).includes(task.kind)) {
          derived = deriveDuplicate(task.kind as DuplicateKind, d, id, g);
        } else {
          derived = deriveHardNegative(task.kind as HardNegativeKind, d, id, g);
          if (task.rebill) derived.tasks.push({ kind: 'rebill_after_credit', original: { draft: d, id } });
        }
        heap.push(derived);
      }
      d.tasks = [];
    };

    const remaining = { ...lanes.quota };
    const laneLeft = { ...lanes.laneCount };
    let rebillsLeft = lanes.rebills;
    for (const slot of planSlots(o.seed, plan, lanes.nBase)) {
      while (heap.size > 0 && (heap.peek() as Draft).received < slot.day) await emit(heap.pop() as Draft);
      const vs = states[slot.vendor] as VendorState;
      let task: DeriveTask | null = null;
      const k = laneOf(lanes.cumLane, slot.lane);
      if (k && eligible(k, slot, vs.v, plan.window.end)) {
        if (rng.float() * laneLeft[k] < remaining[k]) {
          task = { kind: k };
          if (k === 'credit_memo_reversal') {
            task.rebill = rng.float() * remaining[k] < rebillsLeft;
            if (task.rebill) rebillsLeft--;
          }
          remaining[k]--;
        }
        laneLeft[k]--;
      }
      const base = buildInvoice(vs, hospital, slot.day, slot.lines, {
        forcePo: k === 'separate_partial_shipment' && task !== null,
      });
      heap.push({
        ...base,
        duplicate: null,
        hardNegative: null,
        received: slot.day + rng.int(1, 6),
        tasks: task ? [task] : [],
      });
    }
    while (heap.size > 0) await emit(heap.pop() as Draft);
    files[BENCHMARK_FILES.split(plan.split)] = await writer.close();
    const quotas: Record<string, { target: number; written: number }> = {};
    for (const kk of LANE_KINDS)
      quotas[kk] = { target: Math.round(plan.target * rateOf(rates, kk)), written: written[kk] };
    quotas.rebill_after_credit = {
      target: Math.round(plan.target * rates.hard_negative.rebill_after_credit),
      written: written.rebill_after_credit,
    };
    splits[plan.split] = { ...counts, window: windows[plan.split], quotas };
    addCounts(totals, counts);
  }
  opts.onProgress?.(seq, o.invoices);
  files[BENCHMARK_FILES.vendors] = { sha256: vendorsMeta.sha256, bytes: vendorsMeta.bytes };
  const card: BenchmarkCard = {
    name: 'invoice-triage synthetic healthcare supplier invoice benchmark',
    generator_version: GENERATOR_VERSION,
    seed: o.seed,
    command: commandOf(o),
    options: {
      invoices: o.invoices,
      start: o.start,
      valid_from: o.validFrom,
      test_from: o.testFrom,
      end: o.end,
      split_fractions: o.splitFractions,
      invoices_per_vendor: o.invoicesPerVendor,
      price_outlier_k: o.priceOutlierK,
    },
    rates,
    rate_units: {
      duplicate: "share of the split's invoices (exact quota, see splits.*.quotas)",
      hard_negative: "share of the split's invoices (exact quota, see splits.*.quotas)",
      coding: 'share of the lines that can carry the kind (one draw per line, at most one kind per line)',
    },
    reference_data: { version: ref.version, files: referenceChecksums() },
    splits,
    totals,
    files,
  };
  const cardJson = JSON.stringify(card, null, 2) + '\n';
  writeFileSync(join(opts.out, BENCHMARK_FILES.card), cardJson);
  const bytes = Object.values(files).reduce((s, f) => s + f.bytes, 0) + Buffer.byteLength(cardJson);
  return { card, seconds: Number(process.hrtime.bigint() - t0) / 1e9, bytes };
}
