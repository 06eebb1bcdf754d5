/**
 * A {@link FeatureProvider} over the walking skeleton's feature schema (`features/schema.ts`:
 * `LINE_FEATURES`, `PAIR_FEATURES`, version `featureSchemaVersion()`), computed from
 * `features/` and the HCPCS/fee reference data in `datasets/reference/`.
 *
 * It exists so training runs end to end before the feature-engineering issue lands its
 * `lineFeatureVector` / `pairFeatureVector`; the provider built from those replaces it in
 * `createFeatureProvider` (`provider.ts`). Values follow the skeleton's heuristic scorers:
 * - lines are scored when they carry an HCPCS code (other code systems are not verified);
 * - unknown codes get `code_known = 0` and 0 for the reference comparisons;
 * - the fee is the line modifier's entry, else the plain entry, else the highest (as
 *   `pickFee` in `inference/heuristic-coding.ts`); no fee gives a log ratio of 0;
 * - `document_types` is 0 for the same type, 1 when exactly one side is a credit memo, 2
 *   otherwise (an ordinal code; the skeleton keeps it as a category string).
 */
import type { Invoice } from '../core/invoice.js';
import type { FeeScheduleEntry, ReferenceData } from '../core/reference.js';
import { loadReferenceData } from '../datasets/reference.js';
import { cosine, hashedNgramEmbedding } from '../features/hashing.js';
import { extractInvoiceFeatures } from '../features/invoice-features.js';
import { comparePair, pairSideOfInvoice } from '../features/pair.js';
import { featureSchemaVersion, LINE_FEATURES, PAIR_FEATURES } from '../features/schema.js';
import { descriptionTokens, normaliseDescription } from '../features/text.js';
import { invoiceKeys, type FeatureProvider } from './features.js';

interface RefView {
  embedding: Float64Array;
  shortEmbedding: Float64Array;
  stems: Set<string>;
  terminationDate: string | null;
}

function pickFee(fees: readonly FeeScheduleEntry[], modifiers: readonly string[]): FeeScheduleEntry | null {
  if (fees.length === 0) return null;
  const mods = new Set(modifiers.map((m) => m.toUpperCase()));
  const byMod = fees.filter((f) => f.modifier !== '' && mods.has(f.modifier));
  const plain = fees.filter((f) => f.modifier === '');
  const pool = byMod.length > 0 ? byMod : plain.length > 0 ? plain : fees;
  return pool.reduce((a, b) => (b.amountCents > a.amountCents ? b : a));
}

/** The skeleton-schema provider over `ref` (default: the shipped reference data). */
export function skeletonFeatureProvider(ref: ReferenceData = loadReferenceData()): FeatureProvider {
  const views = new Map<string, RefView>();
  const view = (code: string): RefView | undefined => {
    let v = views.get(code);
    if (v) return v;
    const c = ref.hcpcs.get(code);
    if (!c) return undefined;
    v = {
      embedding: hashedNgramEmbedding(normaliseDescription(`${c.longDescription} ${c.shortDescription}`)),
      shortEmbedding: hashedNgramEmbedding(normaliseDescription(c.shortDescription)),
      stems: new Set([...descriptionTokens(c.longDescription), ...descriptionTokens(c.shortDescription)]),
      terminationDate: c.terminationDate,
    };
    views.set(code, v);
    return v;
  };
  // pair sides are reused across an invoice's candidate pairs
  const sides = new WeakMap<Invoice, ReturnType<typeof pairSideOfInvoice>>();
  const side = (inv: Invoice): ReturnType<typeof pairSideOfInvoice> => {
    let s = sides.get(inv);
    if (!s) {
      s = pairSideOfInvoice(inv, extractInvoiceFeatures(inv));
      sides.set(inv, s);
    }
    return s;
  };
  return {
    schemaVersion: featureSchemaVersion(),
    lineFeatureNames: LINE_FEATURES.map((f) => f.name),
    pairFeatureNames: PAIR_FEATURES.map((f) => f.name),
    lineVectors(inv: Invoice) {
      const f = extractInvoiceFeatures(inv);
      const out: { lineNumber: number; x: number[] }[] = [];
      inv.lines.forEach((line, i) => {
        if (!line.code || line.code.system !== 'HCPCS') return;
        const code = line.code.value.toUpperCase();
        const lf = f.lines[i]!;
        const rc = view(code);
        const gap = line.amount_cents - Math.round(line.quantity * line.unit_price_cents);
        if (!rc) {
          out.push({ lineNumber: line.line_number, x: [0, 0, 0, 0, 0, gap] });
          return;
        }
        const cos = Math.max(cosine(lf.embedding, rc.embedding), cosine(lf.embedding, rc.shortEmbedding));
        const stems = new Set(lf.tokens);
        let hit = 0;
        for (const s of stems) if (rc.stems.has(s)) hit++;
        const serviceDate = line.service_date ?? inv.service_period?.start ?? inv.invoice_date;
        const terminated = rc.terminationDate !== null && serviceDate > rc.terminationDate ? 1 : 0;
        const fee = pickFee(ref.fees.get(code) ?? [], line.modifiers ?? []);
        const logRatio =
          fee && fee.amountCents > 0 && line.unit_price_cents > 0
            ? Math.log(line.unit_price_cents / fee.amountCents)
            : 0;
        out.push({
          lineNumber: line.line_number,
          x: [cos, stems.size ? hit / stems.size : 0, 1, terminated, logRatio, gap],
        });
      });
      return out;
    },
    keys: invoiceKeys,
    pairVector(a, b, ka, kb) {
      const c = comparePair(side(a), side(b), cosine(ka.embedding, kb.embedding));
      const credit =
        (a.document_type === 'credit_memo' ? 1 : 0) + (b.document_type === 'credit_memo' ? 1 : 0);
      return [
        c.sameVendor ? 1 : 0,
        c.vendorNameJw,
        c.invoiceNumberEqual ? 1 : 0,
        c.invoiceNumberCanonicalEqual ? 1 : 0,
        c.invoiceNumberEdit,
        c.amountRelDiff,
        c.daysApart,
        c.lineOverlap,
        c.embeddingCosine,
        a.document_type === b.document_type ? 0 : credit === 1 ? 1 : 2,
      ];
    },
  };
}
