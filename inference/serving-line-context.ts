/**
 * The line context the service gives the trained coding model at serving time (reference,
 * service date, the vendor's history and the typical quantities of the model's own training
 * run), as training built it (training/benchmark-features.ts).
 */
import type { Invoice, InvoiceLine } from '../core/invoice.js';
import { codeApproved } from '../core/vendor.js';
import { TriageError } from '../core/errors.js';
import {
  lineServiceDate,
  type LineContext,
  type TypicalQuantities,
  type VendorHistory,
} from '../features/line-features.js';
import type { ReferenceIndex } from '../features/reference-index.js';
import type { LoadedModel } from './onnx-champion.js';
import type { ScoringContext } from './scorers.js';
import { usableBaseline } from './stages/baselines.js';

/** The run's `line-context.json` fields serving reads (training/benchmark-features.ts writes them). */
interface LineContextFile {
  featureSchemaVersion?: string;
  typicalQuantities?: {
    source: string;
    byCode: Record<string, number>;
    byCategory: Record<string, number>;
    estimated?: string[];
  };
}

const typicalCache = new WeakMap<LoadedModel, TypicalQuantities | null>();

/**
 * The typical quantities a version was trained with (its `line-context.json`), or null when the
 * version has none (e.g. an external model).
 * @throws TriageError `TRIAGE_MODEL_INVALID` when the file is not the expected JSON.
 */
export function typicalQuantitiesOf(model: LoadedModel): TypicalQuantities | null {
  const hit = typicalCache.get(model);
  if (hit !== undefined) return hit;
  const raw = model.files['line-context.json'];
  let out: TypicalQuantities | null = null;
  if (raw) {
    let parsed: LineContextFile;
    try {
      parsed = JSON.parse(Buffer.from(raw).toString('utf8')) as LineContextFile;
    } catch (e) {
      throw new TriageError(
        'TRIAGE_MODEL_INVALID',
        `${model.label}: line-context.json: ${(e as Error).message}`,
      );
    }
    const t = parsed.typicalQuantities;
    if (t)
      out = {
        source: t.source,
        byCode: new Map(Object.entries(t.byCode)),
        byCategory: new Map(Object.entries(t.byCategory)),
        estimated: new Set(t.estimated ?? []),
      };
  }
  typicalCache.set(model, out);
  return out;
}

/**
 * The typical quantities a line is judged against: the model's training-run table, with the
 * code's entry replaced by the vendor's own median quantity when the tenant's history of the
 * vendor and code holds enough observations (inference/stages/baselines.ts `usableBaseline`).
 * The vendor median is what the table itself is (a median of accepted past lines), fitted on
 * this tenant's vendor instead of the training data.
 */
function withVendorQuantity(
  typical: TypicalQuantities,
  code: string | null,
  scoring: ScoringContext,
): TypicalQuantities {
  const own = code ? usableBaseline(scoring.vendorBaselines?.get(code)?.quantity) : null;
  if (!code || !own) return typical;
  const byCode = new Map(typical.byCode);
  byCode.set(code, own.median);
  const estimated = new Set(typical.estimated);
  estimated.delete(code);
  return {
    ...typical,
    source: `${typical.source}; ${code}: vendor history (${own.observations} lines)`,
    byCode,
    estimated,
  };
}

/**
 * The line context the service gives the coding model, in one of the two regimes training
 * built (training/benchmark-features.ts):
 *
 * - **vendor in the tenant's vendor master**: the vendor profile (the master's approved
 *   categories, the category and code counts of the vendor's stored lines) and the typical quantities of
 *   the model's own training run (`line-context.json`), where the vendor's own median quantity
 *   of the code replaces the table's when its history is deep enough;
 * - **vendor not in the master**: neither, as in training's context dropout (a profile without
 *   an approved list, or quantities without a profile, never occurred in training, so they are
 *   not given).
 *
 * A line's category is approved when the master's BETOS codes or HCPCS prefixes cover its code
 * (`codeApproved`).
 */
export function servingLineContext(
  reference: ReferenceIndex,
): (
  invoice: Invoice,
  line: InvoiceLine,
  model: LoadedModel,
  scoring: ScoringContext | undefined,
) => LineContext {
  const categoryCounts = new WeakMap<ReadonlyMap<string, number>, Record<string, number>>();
  const countsOf = (codes: ReadonlyMap<string, number>): Record<string, number> => {
    let c = categoryCounts.get(codes);
    if (!c) {
      c = {};
      for (const [code, n] of codes) {
        const cat = reference.get(code)?.category;
        if (cat) c[cat] = (c[cat] ?? 0) + n;
      }
      categoryCounts.set(codes, c);
    }
    return c;
  };
  return (invoice, line, model, scoring) => {
    const ctx: LineContext = {
      reference,
      serviceDate: lineServiceDate(invoice, line),
      currency: invoice.currency,
    };
    const master = scoring?.vendorProfile;
    if (!scoring || !master) return ctx;
    const typical = typicalQuantitiesOf(model);
    const code = line.code?.system === 'HCPCS' ? line.code.value.toUpperCase() : null;
    if (typical) ctx.typicalQuantities = withVendorQuantity(typical, code, scoring);
    const ref = code ? reference.get(code) : undefined;
    const profile: VendorHistory = {
      categoryCounts: countsOf(scoring.vendorCodeCounts),
      codeCounts: scoring.vendorCodeCounts,
      approvedCategories: ref && code && codeApproved(master, code, ref.code.betos) ? [ref.category] : [],
    };
    ctx.vendorProfile = profile;
    return ctx;
  };
}
