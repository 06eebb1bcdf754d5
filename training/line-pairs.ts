/**
 * Line pairs of a benchmark for the line-pair model: every invoice of a split, in submission
 * order, gets the line block of `BLOCKING_SPEC.lines` (core/blocking.ts, evaluated in memory by
 * `lineCandidates`) over the earlier invoices of its split, and each candidate its feature
 * vector (`features/line-pair.ts`), exactly as the service computes them from its store.
 *
 * Labels: a pair is positive (1) when the new invoice is a `line_level_duplicate` of the
 * earlier invoice and the new line is the copy of that earlier line (the generator's
 * `lines:copied:[..]` and `lines:copied_to:[..]`, in the same order); every other pair is 0.
 * Pairs of invoices that duplicate an earlier invoice as a whole (the other duplicate kinds)
 * are marked `wholeDuplicate`: their lines are billed again too, so training leaves them out.
 *
 * Credit memos of the benchmark (`credit_memo_reversal` hard negatives) reverse their related
 * invoice: its credited cents count as the store's `reversed_cents` do.
 */
import {
  BLOCKING_SPEC,
  lineCandidates,
  type LineBlockingInvoice,
  type LineBlockingSpec,
} from '../core/blocking.js';
import type { Invoice } from '../core/invoice.js';
import { readBenchmark } from '../datasets/benchmark/read.js';
import type { BenchmarkRecord, BenchmarkSplit } from '../datasets/benchmark/types.js';
import { extractInvoiceFeatures } from '../features/invoice-features.js';
import { lineServiceDate } from '../features/line-features.js';
import {
  deliveryReferenceKey,
  linePairVectors,
  pairLinesOf,
  type PairCandidate,
  type PairLine,
} from '../features/line-pair.js';

/** What a labelled invoice contributes: its lines, candidates, vectors and labels. */
export interface LinePairInvoice {
  split: BenchmarkSplit;
  invoiceId: string;
  /** `plain`, a duplicate kind or a hard-negative kind. */
  kind: string;
  /** True for invoice-level duplicates (every kind but `line_level_duplicate`). */
  wholeDuplicate: boolean;
  /** Lines of a line-level duplicate that copy an earlier line: new line number -> [earlier invoice, earlier line]. */
  copies: Map<number, [string, number]>;
  /** Copied lines reworded without their code (`lines:reworded:[..]`). */
  reworded: Set<number>;
  /** The line-level duplicate prints no line service dates (`lines:undated`). */
  undated: boolean;
  /** Copied lines whose copy prints the same delivery reference as the earlier line. */
  referenced: Set<number>;
  /** The lines the earlier rule flags ({@link earlierRuleFlags}), for comparison. */
  ruleFlagged: { lineNumber: number; invoiceId: string; earlierLineNumber: number }[];
  lineCount: number;
  candidates: PairCandidate[];
  vectors: Float64Array[];
  labels: (0 | 1)[];
}

/** The line numbers a line-level duplicate's `changes` entry lists (`prefix[..]`), or none. */
function list(r: BenchmarkRecord, prefix: string): number[] {
  const d = r.label.duplicate;
  if (d?.kind !== 'line_level_duplicate') return [];
  return JSON.parse(d.changes.find((c) => c.startsWith(prefix))?.slice(prefix.length) ?? '[]') as number[];
}

/** The copied lines of a line-level duplicate, from its `changes`. */
function copiesOf(r: BenchmarkRecord): Map<number, [string, number]> {
  const d = r.label.duplicate;
  const out = new Map<number, [string, number]>();
  if (d?.kind !== 'line_level_duplicate') return out;
  const from = list(r, 'lines:copied:');
  const to = list(r, 'lines:copied_to:');
  to.forEach((n, j) => out.set(n, [d.of, from[j]!]));
  return out;
}

/** The rule's look-up key of a stored line: line key, quantity and service date. */
const ruleKey = (matchKey: string, quantity: number, serviceDate: string | undefined): string =>
  `${matchKey}#${quantity}#${serviceDate ?? ''}`;

/**
 * The lines the line-rebill rule served before the line-pair model flags (for comparison): a
 * dated line with an earlier line of the same line key (code or description stems with the
 * amount), quantity and service date on an earlier invoice of the vendor within 365 days (not
 * fully credited), beside another dated line of the invoice not so matched and served at least
 * 7 days after it; the latest earlier invoice is named.
 */
function earlierRuleFlags(inv: Invoice, earlier: readonly Stored[]): LinePairInvoice['ruleFlagged'] {
  const f = extractInvoiceFeatures(inv);
  const matched = new Map<number, { invoiceId: string; earlierLineNumber: number; date: string }>();
  inv.lines.forEach((l, i) => {
    if (!l.service_date) return;
    const key = ruleKey(f.lines[i]!.matchKey, l.quantity, l.service_date);
    for (const e of earlier) {
      const b = e.block;
      const days = (Date.parse(inv.invoice_date) - Date.parse(b.invoiceDate)) / 86_400_000;
      if (days < 0 || days > 365 || b.reversedCents >= b.totalCents - 1 || b.invoiceId === inv.invoice_id)
        continue;
      const n = e.ruleKeys.get(key);
      const prev = matched.get(l.line_number);
      if (n !== undefined && (!prev || b.invoiceDate > prev.date))
        matched.set(l.line_number, { invoiceId: b.invoiceId, earlierLineNumber: n, date: b.invoiceDate });
    }
  });
  const dated = inv.lines.filter((l) => l.service_date);
  if (dated.length < 2) return [];
  return [...matched].flatMap(([n, m]) => {
    const d = dated.find((l) => l.line_number === n)!.service_date!;
    const newer = dated.some(
      (o) => !matched.has(o.line_number) && Date.parse(o.service_date!) - Date.parse(d) >= 7 * 86_400_000,
    );
    return newer ? [{ lineNumber: n, invoiceId: m.invoiceId, earlierLineNumber: m.earlierLineNumber }] : [];
  });
}

interface Stored {
  /** {@link ruleKey} of each line -> its line number. */
  ruleKeys: Map<string, number>;
  block: LineBlockingInvoice;
  lines: Map<number, Omit<PairCandidate, 'lineNumber' | 'cosine' | 'earlierLineNumber'>>;
}

/** The line block's view of an invoice and its lines (what the store keeps of them). */
/**
 * The line block's view of an invoice (core/blocking.ts `LineBlockingInvoice`): its vendor keys,
 * date, kind, total in cents (nothing reversed) and per line the number, code, amount in cents and
 * description embedding, from its extracted features (`f`, computed when not given).
 */
export function lineBlockingInvoiceOf(
  inv: Invoice,
  f: ReturnType<typeof extractInvoiceFeatures> = extractInvoiceFeatures(inv),
): LineBlockingInvoice {
  return {
    invoiceId: inv.invoice_id,
    vendorKey: f.vendorKey,
    vendorId: inv.vendor.id,
    invoiceDate: inv.invoice_date,
    documentType: inv.document_type,
    totalCents: inv.total_cents,
    reversedCents: 0,
    lines: f.lines.map((l, i) => ({
      lineNumber: l.lineNumber,
      code: l.code,
      amountCents: inv.lines[i]!.amount_cents,
      embedding: l.embedding,
    })),
  };
}

function storedOf(inv: Invoice): Stored {
  const f = extractInvoiceFeatures(inv);
  return {
    ruleKeys: new Map(
      inv.lines.map((l, i) => [ruleKey(f.lines[i]!.matchKey, l.quantity, l.service_date), l.line_number]),
    ),
    block: lineBlockingInvoiceOf(inv, f),
    lines: new Map(
      inv.lines.map((l, i) => [
        l.line_number,
        {
          invoiceId: inv.invoice_id,
          earlierInvoiceDate: inv.invoice_date,
          code: f.lines[i]!.code,
          quantity: l.quantity,
          amountCents: l.amount_cents,
          serviceDate: l.service_date ?? null,
          judgedDate: lineServiceDate(inv, l),
          deliveryReference: deliveryReferenceKey(l.delivery_reference),
        },
      ]),
    ),
  };
}

/** Options of {@link linePairInvoices}. */
export interface LinePairOptions {
  splits?: readonly BenchmarkSplit[];
  spec?: LineBlockingSpec;
  /**
   * Called with each invoice's lines before its features are computed; returns the lines the
   * features read (training's undated augmentation); default: as they are.
   */
  viewLines?: (r: BenchmarkRecord, lines: PairLine[]) => PairLine[];
}

/** The labelled line pairs of a benchmark directory, one entry per invoice, splits in time order. */
export async function linePairInvoices(dir: string, o: LinePairOptions = {}): Promise<LinePairInvoice[]> {
  const spec = o.spec ?? BLOCKING_SPEC.lines;
  const out: LinePairInvoice[] = [];
  let split: BenchmarkSplit | null = null;
  let byVendor = new Map<string, Stored[]>();
  let byId = new Map<string, Stored>();
  for await (const r of readBenchmark(dir, o.splits)) {
    if (r.label.split !== split) {
      split = r.label.split;
      byVendor = new Map();
      byId = new Map();
    }
    const s = storedOf(r.invoice);
    const earlier = [
      ...new Set([
        ...(byVendor.get(`k:${s.block.vendorKey}`) ?? []),
        ...(byVendor.get(`i:${s.block.vendorId}`) ?? []),
      ]),
    ];
    const isInvoice = r.invoice.document_type === 'invoice';
    const cands = (
      isInvoice
        ? lineCandidates(
            spec,
            s.block,
            earlier.map((e) => e.block),
          )
        : []
    ).map((c): PairCandidate => ({ ...byId.get(c.invoiceId)!.lines.get(c.earlierLineNumber)!, ...c }));
    const f = extractInvoiceFeatures(r.invoice);
    let lines = pairLinesOf(r.invoice, f.lines);
    if (o.viewLines) lines = o.viewLines(r, lines);
    const copies = copiesOf(r);
    const d = r.label.duplicate;
    out.push({
      split: r.label.split,
      invoiceId: r.invoice.invoice_id,
      kind: d?.kind ?? r.label.hard_negative?.kind ?? 'plain',
      wholeDuplicate: d !== null && d.kind !== 'line_level_duplicate',
      copies,
      reworded: new Set(list(r, 'lines:reworded:')),
      undated: d?.changes.includes('lines:undated') ?? false,
      referenced: new Set(
        [...copies].flatMap(([n, [eid, eln]]) => {
          const ref = deliveryReferenceKey(
            r.invoice.lines.find((l) => l.line_number === n)?.delivery_reference,
          );
          return ref !== null && byId.get(eid)?.lines.get(eln)?.deliveryReference === ref ? [n] : [];
        }),
      ),
      ruleFlagged: isInvoice ? earlierRuleFlags(r.invoice, earlier) : [],
      lineCount: r.invoice.lines.length,
      candidates: cands,
      vectors: linePairVectors(lines, r.invoice.invoice_date, cands),
      labels: cands.map((c) => {
        const m = copies.get(c.lineNumber);
        return m && m[0] === c.invoiceId && m[1] === c.earlierLineNumber ? 1 : 0;
      }),
    });
    if (!isInvoice) {
      const related = r.label.hard_negative?.related;
      const target = related ? byId.get(related) : undefined;
      if (target && r.invoice.document_type === 'credit_memo')
        target.block.reversedCents += -r.invoice.total_cents;
      continue;
    }
    byId.set(r.invoice.invoice_id, s);
    for (const key of [`k:${s.block.vendorKey}`, `i:${s.block.vendorId}`]) {
      const list = byVendor.get(key);
      if (list) list.push(s);
      else byVendor.set(key, [s]);
    }
  }
  return out;
}
