/**
 * The {@link FeatureProvider} of `npm run train`: the feature-engineering vectors
 * (`features/line-features.ts` `lineFeatureVector`, `features/comparisons.ts`
 * `pairFeatureVector`), schema versions `vectorSchemaVersion()` (line, pair), with the line context built
 * from the benchmark the way the service has it:
 *
 * - **reference**: `referenceIndex` over the shipped CMS reference data and IDF table;
 * - **vendor profile**: the approved categories of the vendor master (the benchmark's
 *   `vendors.json`, as tenants register them with `PUT /v1/vendors/:id`; BETOS code, else
 *   `SEC:<section>`), plus the category and code counts of the vendor's **earlier** HCPCS lines
 *   in submission order (its history at the time the invoice arrives; every line, as the store's
 *   `vendor_code_counts`);
 * - **typical quantities**: `fitTypicalQuantities` over the benchmark train split's clean
 *   HCPCS lines, with an estimate from the price band for every priced code of the reference
 *   that fewer than 5 clean train lines bill (written next to the model as `line-context.json`, since serving
 *   needs the same table);
 * - **context dropout**: for a seeded share (default 25%) of the train split's invoices the
 *   vendor profile and typical quantities are withheld, so the model also learns the regime
 *   where the service has no profile or history for a vendor (the `*_present` / `*_known`
 *   flags tell it which regime it is in). Valid and test invoices always get the full context.
 *   Invoices outside the benchmark (reviewer labels) get no vendor context.
 *
 * Pairs: the later invoice's side is `pairSideOfInvoice`; the earlier one is built the same way
 * minus `lineDescriptionStems`, which the store does not return for candidates, so training
 * sees the comparison levels serving computes. The embedding cosine is that of the invoice
 * embeddings (as pgvector's `<=>`).
 */
import type { Invoice } from '../core/invoice.js';
import type { BenchmarkVendor } from '../datasets/benchmark/vendors.js';
import { readVendors } from '../datasets/benchmark/read.js';
import { hcpcsCode } from '../features/baselines.js';
import { sharedReferenceData } from '../datasets/reference.js';
import { pairFeatureVector, PAIR_VECTOR_NAMES } from '../features/comparisons.js';
import { cosine } from '../features/hashing.js';
import { extractInvoiceFeatures } from '../features/invoice-features.js';
import {
  buildVendorHistory,
  lineFeatureVector,
  lineServiceDate,
  LINE_VECTOR_NAMES,
  type TypicalQuantities,
  type VendorHistory,
} from '../features/line-features.js';
import { referenceFee, referenceIndex, type ReferenceIndex } from '../features/reference-index.js';
import {
  fitTypicalQuantities,
  type PricedCode,
  type TypicalQuantityLine,
} from '../features/typical-quantities.js';
import { comparePair, pairSideOfInvoice, type PairSide } from '../features/pair.js';
import {
  earlierVectorVersions,
  VECTOR_EDITIONS,
  vectorSchemaVersion,
  type FeatureVector,
} from '../features/schema.js';
import { inputProjection } from '../models/signature.js';
import type { LoadedBenchmark } from './benchmark.js';
import { invoiceKeys, type FeatureProvider } from './features.js';
import { deriveSeed, keyUniform } from './rng.js';

/** Options of {@link benchmarkFeatureProvider}. */
export interface BenchmarkFeatureOptions {
  seed: number;
  /** Share of train-split invoices whose vendor profile and typical quantities are withheld (default 0.25). */
  contextDropout?: number;
  /** Vendor master of the benchmark (default: `vendors.json` of `dataDir`, when present). */
  vendors?: readonly BenchmarkVendor[];
  reference?: ReferenceIndex;
  /**
   * Edition of each vector's rows (`VECTOR_EDITIONS` of features/schema.ts), so that a model of an
   * earlier edition reproduces (`coding-mismatch@4`: line edition 3; `duplicate@2`: pair edition
   * 2): the current vector restricted to that edition's features, as served. Default the current.
   * @throws RangeError (from {@link benchmarkFeatureProvider}) for an edition the code does not know.
   */
  editions?: Partial<Record<FeatureVector, number>>;
}

/** The line context a provider used, written next to the model (`line-context.json`). */
export interface LineContextArtifact {
  featureSchemaVersion: string;
  referenceVersion: string;
  idfId: string;
  typicalQuantities: {
    source: string;
    byCode: Record<string, number>;
    byCategory: Record<string, number>;
    /** Codes of `byCode` estimated from their price band (sorted). */
    estimated: string[];
  };
  vendorProfiles: { vendors: number; source: string };
  contextDropout: number;
}

/** A provider and the context it was built with. */
export interface BenchmarkFeatures {
  provider: FeatureProvider;
  context: LineContextArtifact;
}

/** A vector's rows at one edition: its names and schema version, and how to cut today's vector to it. */
interface EditionRows {
  names: readonly string[];
  version: string;
  /** Today's vector restricted to the edition's features (by name, as served). */
  cut: (v: Float32Array) => number[];
}

/**
 * The rows of `vector` at `edition` (default the current), today's vector having names `served`.
 * @throws RangeError for an edition the code does not compute.
 */
function editionRows(
  vector: FeatureVector,
  served: readonly string[],
  edition: number | undefined,
): EditionRows {
  const editions = VECTOR_EDITIONS[vector].map((e) => e.edition);
  if (edition === undefined || edition === editions.at(-1))
    return { names: served, version: vectorSchemaVersion(vector), cut: (v) => Array.from(v) };
  const earlier = earlierVectorVersions(vector).find((e) => e.edition === edition);
  if (!earlier)
    throw new RangeError(`${vector}-vector edition ${edition} unknown (known: ${editions.join(', ')})`);
  const p = inputProjection(earlier.names, served)!;
  return { names: earlier.names, version: earlier.version, cut: (v) => Array.from(p, (k) => v[k]!) };
}

/**
 * Builds the provider for a loaded benchmark.
 * @param dataDir the benchmark directory (for `vendors.json`).
 */
export function benchmarkFeatureProvider(
  bench: LoadedBenchmark,
  dataDir: string | null,
  o: BenchmarkFeatureOptions,
): BenchmarkFeatures {
  const reference = o.reference ?? referenceIndex(sharedReferenceData());
  const dropout = o.contextDropout ?? 0.25;
  let vendors = o.vendors;
  if (!vendors && dataDir) {
    try {
      vendors = readVendors(dataDir);
    } catch {
      vendors = undefined;
    }
  }
  const approved = new Map(
    (vendors ?? []).map((v) => [
      v.id,
      v.approved_categories.map((c) => (c.betos !== '' ? c.betos : `SEC:${c.section}`)),
    ]),
  );
  const categoryOf = (code: string | undefined): string | null =>
    code ? (reference.get(code.toUpperCase())?.category ?? null) : null;

  // typical quantities from the train split's clean HCPCS lines with known codes; priced codes
  // with too few lines of their own get their price band's median (features/typical-quantities.ts)
  const feeOf = (code: string): number | null => {
    const fee = referenceFee(reference.get(code)?.fees ?? [], []);
    return fee && fee.amountCents > 0 ? fee.amountCents : null;
  };
  const clean: TypicalQuantityLine[] = [];
  for (const r of bench.records) {
    if (r.label.split !== 'train') continue;
    const bad = new Set(r.label.coding.map((c) => c.line_number));
    for (const l of r.invoice.lines) {
      if (bad.has(l.line_number) || l.code?.system !== 'HCPCS') continue;
      const code = l.code.value.toUpperCase();
      const category = categoryOf(code);
      if (category) clean.push({ code, category, quantity: l.quantity, feeCents: feeOf(code) });
    }
  }
  // Every priced code with fewer than 5 clean train lines of its own (never billed, or billed
  // too rarely for a median) gets its price band's median instead of its category's (a category
  // holds drugs billed per 0.1 mg beside drugs billed per 500 mg), so such a code is judged by
  // codes billed at its price in training, calibration, test and serving alike.
  const priced: PricedCode[] = [];
  for (const [code, fees] of sharedReferenceData().fees) {
    const fee = referenceFee(fees, []);
    if (fee && fee.amountCents > 0 && reference.get(code)) priced.push({ code, feeCents: fee.amountCents });
  }
  const typical: TypicalQuantities = fitTypicalQuantities(
    clean,
    `benchmark train split, ${clean.length} clean HCPCS lines (files ${bench.files.map((f) => f.sha256.slice(0, 12)).join(', ')}); ` +
      `priced codes with fewer than 5 lines of their own: median of their section's lines with a CMS 2025 fee within the same factor-of-2 band`,
    5,
    priced,
  );

  // vendor history: category and code counts of each vendor's earlier lines, in submission order
  // (every earlier line, as the service's vendor_code_counts counts every stored line)
  const profileOf = new Map<string, VendorHistory | undefined>();
  const history = new Map<string, string[]>();
  const codeHistory = new Map<string, string[]>();
  const dropSeed = deriveSeed(o.seed, 'context-dropout');
  const dropped = new Set<string>();
  for (const r of bench.records) {
    const inv = r.invoice;
    const past = history.get(inv.vendor.id) ?? [];
    const pastCodes = codeHistory.get(inv.vendor.id) ?? [];
    const ok = approved.get(r.label.vendor_profile);
    const withheld = r.label.split === 'train' && keyUniform(dropSeed, inv.invoice_id) < dropout;
    if (withheld) dropped.add(inv.invoice_id);
    profileOf.set(inv.invoice_id, withheld ? undefined : buildVendorHistory(past, ok, pastCodes));
    for (const l of inv.lines) {
      const code = hcpcsCode(l);
      if (code !== null) pastCodes.push(code);
      const c = l.code?.system === 'HCPCS' ? categoryOf(l.code.value) : null;
      if (c) past.push(c);
    }
    history.set(inv.vendor.id, past);
    codeHistory.set(inv.vendor.id, pastCodes);
  }

  const sides = new WeakMap<Invoice, { full: PairSide; stored: PairSide }>();
  const side = (inv: Invoice): { full: PairSide; stored: PairSide } => {
    let s = sides.get(inv);
    if (!s) {
      const full = pairSideOfInvoice(inv, extractInvoiceFeatures(inv));
      const stored: PairSide = { ...full };
      delete stored.lineDescriptionStems; // as the store returns candidates
      s = { full, stored };
      sides.set(inv, s);
    }
    return s;
  };
  const line = editionRows('line', LINE_VECTOR_NAMES, o.editions?.line);
  const pair = editionRows('pair', PAIR_VECTOR_NAMES, o.editions?.pair);
  const provider: FeatureProvider = {
    schemaVersions: { line: line.version, pair: pair.version },
    lineFeatureNames: line.names,
    pairFeatureNames: pair.names,
    lineVectors(inv) {
      const known = profileOf.has(inv.invoice_id);
      const withheld = dropped.has(inv.invoice_id);
      const vendorProfile = profileOf.get(inv.invoice_id);
      return inv.lines
        .filter((l) => l.code?.system === 'HCPCS')
        .map((l) => ({
          lineNumber: l.line_number,
          x: line.cut(
            lineFeatureVector(l, {
              reference,
              serviceDate: lineServiceDate(inv, l),
              ...(vendorProfile ? { vendorProfile } : {}),
              ...(known && !withheld ? { typicalQuantities: typical } : {}),
            }),
          ),
        }));
    },
    keys: invoiceKeys,
    pairVector(a, b, ka, kb, intervalDays) {
      return pair.cut(
        pairFeatureVector(
          comparePair(side(a).full, side(b).stored, cosine(ka.embedding, kb.embedding), intervalDays),
        ),
      );
    },
  };
  return {
    provider,
    context: {
      featureSchemaVersion: provider.schemaVersions.line,
      referenceVersion: reference.version,
      idfId: reference.idfId,
      typicalQuantities: {
        source: typical.source,
        byCode: Object.fromEntries([...typical.byCode].sort(([x], [y]) => (x < y ? -1 : 1))),
        byCategory: Object.fromEntries([...typical.byCategory].sort(([x], [y]) => (x < y ? -1 : 1))),
        estimated: [...(typical.estimated ?? [])].sort(),
      },
      vendorProfiles: {
        vendors: approved.size,
        source: vendors
          ? 'benchmark vendors.json approved categories + category counts of earlier lines'
          : 'category counts of earlier lines only (no vendors.json)',
      },
      contextDropout: dropout,
    },
  };
}
