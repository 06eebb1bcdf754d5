/**
 * The detector contract of the evaluation harness. A detector sees the invoices of a labelled
 * set one by one in submission order (never the labels) and answers, for each, a duplicate
 * score with the earlier invoice it most likely repeats, and a coding-exception score per
 * line. The current scoring service, the SAP- and Oracle-style rules and the trained models
 * of the training issue all plug in through this interface.
 */
import type { Invoice } from '../../core/invoice.js';
import type { CodingKind } from '../../datasets/benchmark/types.js';

/** What a detector says about one line. */
export interface LineOutput {
  lineNumber: number;
  /** P(coding exception) in [0, 1]; null when the detector does not score this line. */
  score: number | null;
  /** The exception kinds the detector names for the line (for per-kind precision), if any. */
  kinds?: CodingKind[];
}

/** What a detector says about one invoice. */
export interface InvoiceOutput {
  invoiceId: string;
  /** P(this invoice duplicates an earlier one) in [0, 1]. */
  duplicateScore: number;
  /** The earlier invoice it most likely duplicates (`invoice_id`), or null. */
  duplicateOf: string | null;
  /** One entry per line the detector scored (missing lines count as not scored). */
  lines: LineOutput[];
  /** Routing outcome when the detector makes one (`AUTO_APPROVE`, `REVIEW`, `HOLD`). */
  decision?: string;
  /**
   * What sent the invoice to people, when the detector says: the code of its heaviest reason in
   * the queue it was routed to (e.g. `QUANTITY_IMPLAUSIBLE`), and the line that reason is about
   * (null for an invoice-level reason). For the review-load breakdown of the report.
   */
  cause?: { reason: string; lineNumber: number | null };
}

/** Which tasks a detector scores. */
export interface DetectorTasks {
  duplicate: boolean;
  coding: boolean;
}

/** A detector under evaluation. */
export interface Detector {
  /** Short name for tables and plots, e.g. `current`, `sap-exact`. */
  readonly name: string;
  /** Version of the model / rule, recorded in the report (e.g. `heuristic-duplicate@1`). */
  readonly version: string;
  readonly tasks: DetectorTasks;
  /** Operating thresholds: an invoice / line is flagged when its score is >= the threshold. */
  readonly thresholds: { duplicate: number; coding: number };
  /**
   * Scores the invoices in order. Must yield exactly one output per input, in input order,
   * and may use only the invoices it has already been given (as production would).
   */
  run(invoices: AsyncIterable<Invoice>): AsyncIterable<InvoiceOutput>;
  /** Releases resources (stores, sessions). */
  close?(): Promise<void>;
}

/** A detector defined by a per-invoice scoring function (the common case). */
export interface PerInvoiceDetector extends Omit<Detector, 'run'> {
  score(invoice: Invoice): Promise<InvoiceOutput> | InvoiceOutput;
}

/** Turns a per-invoice scorer into a {@link Detector}. */
export function detectorFromScorer(d: PerInvoiceDetector): Detector {
  return {
    name: d.name,
    version: d.version,
    tasks: d.tasks,
    thresholds: d.thresholds,
    async *run(invoices) {
      for await (const inv of invoices) yield await d.score(inv);
    },
    ...(d.close ? { close: () => (d.close as () => Promise<void>)() } : {}),
  };
}
