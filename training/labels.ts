/**
 * Reviewer labels: what reviewers decided about scored invoices (`POST /v1/reviews`, stored
 * by the service), as training reads them. The store provides them through a
 * {@link LabelSource}; a JSONL export works the same way ({@link fileLabelSource}).
 *
 * Each label carries its provenance (`source`: reviewer, audit_sample, erp; core/labels.ts).
 * Deduplication: one label per (invoice, line, task); a person's outcome (reviewer,
 * audit_sample) beats an ERP status, and among labels of the same rank, e.g. when a reviewer
 * changes their mind or a second reviewer disagrees, the **latest** (by `createdAt`, then id)
 * wins; the others are recorded as superseded.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Invoice } from '../core/invoice.js';
import { isLabelProvenance, supersedes, type LabelProvenance } from '../core/labels.js';
import { validateInvoice } from '../core/validate.js';
import type { ModelTask } from '../models/spec.js';

/** One reviewer label (a row of the store's `listLabels()`). */
export interface ReviewLabel {
  /** Review id (stable; recorded in the model card when used). */
  id: string;
  decisionId: string;
  /** Client invoice id the decision was made for. */
  invoiceId: string;
  /** Line the label is about (coding); null for invoice-level labels. */
  lineNumber: number | null;
  task: ModelTask;
  /** 1 = the exception is real (coding mismatch / duplicate), 0 = false positive / clean. */
  label: 0 | 1;
  /** The code the line should have been billed under, when the reviewer corrected it. */
  correctedCode: string | null;
  /**
   * For `duplicate` labels: the client invoice id of the other invoice of the pair (the earlier
   * invoice it duplicates, or for label 0 the one it was wrongly flagged against).
   */
  duplicateOf: string | null;
  reviewer: string;
  /** ISO 8601 timestamp of the review. */
  createdAt: string;
  /** Where the label came from; absent in older exports: `reviewer`. */
  source?: LabelProvenance;
}

/** Where reviewer labels and the invoices they refer to come from. */
export interface LabelSource {
  /** Every stored label (any order). */
  listLabels(): Promise<ReviewLabel[]>;
  /** The stored payloads of the given client invoice ids; ids not found are absent from the map. */
  getInvoices(invoiceIds: readonly string[]): Promise<Map<string, Invoice>>;
}

/** Result of {@link dedupeLabels}. */
export interface DedupedLabels {
  /** The winning label of each (invoice, line, task), sorted by id. */
  kept: ReviewLabel[];
  /** Ids of the labels superseded by a later review of the same key, sorted. */
  superseded: string[];
}

/** The deduplication key of a label: invoice + line (or `*`) + task. */
export function labelKey(l: Pick<ReviewLabel, 'invoiceId' | 'lineNumber' | 'task'>): string {
  return `${l.task}|${l.invoiceId}|${l.lineNumber ?? '*'}`;
}

/**
 * Keeps one label per (invoice, line, task): the one that {@link supersedes} the others
 * (provenance rank, then the latest `createdAt`, then the larger id).
 */
export function dedupeLabels(labels: readonly ReviewLabel[]): DedupedLabels {
  const latest = new Map<string, ReviewLabel>();
  const superseded: string[] = [];
  for (const l of labels) {
    const k = labelKey(l);
    const prev = latest.get(k);
    if (!prev) {
      latest.set(k, l);
      continue;
    }
    const newer = supersedes(l, prev);
    superseded.push(newer ? prev.id : l.id);
    if (newer) latest.set(k, l);
  }
  const kept = [...latest.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { kept, superseded: superseded.sort() };
}

/**
 * Checks one parsed label row.
 * @throws RangeError naming the field at fault.
 */
export function parseReviewLabel(v: unknown, where: string): ReviewLabel {
  const o = v as Record<string, unknown>;
  const str = (k: string): string => {
    if (typeof o?.[k] !== 'string' || o[k] === '')
      throw new RangeError(`${where}: ${k} must be a non-empty string`);
    return o[k] as string;
  };
  const optStr = (k: string): string | null => (o[k] === null || o[k] === undefined ? null : str(k));
  const task = str('task');
  if (task !== 'coding-mismatch' && task !== 'duplicate')
    throw new RangeError(`${where}: task must be coding-mismatch or duplicate`);
  if (o.label !== 0 && o.label !== 1) throw new RangeError(`${where}: label must be 0 or 1`);
  const line = o.lineNumber;
  if (line !== null && line !== undefined && !(Number.isInteger(line) && (line as number) >= 1))
    throw new RangeError(`${where}: lineNumber must be a positive integer or null`);
  const createdAt = str('createdAt');
  if (Number.isNaN(Date.parse(createdAt)))
    throw new RangeError(`${where}: createdAt must be an ISO timestamp`);
  if (o.source !== undefined && !isLabelProvenance(o.source))
    throw new RangeError(`${where}: source must be reviewer, audit_sample or erp`);
  return {
    id: str('id'),
    decisionId: str('decisionId'),
    invoiceId: str('invoiceId'),
    lineNumber: (line as number | null | undefined) ?? null,
    task,
    label: o.label,
    correctedCode: optStr('correctedCode'),
    duplicateOf: optStr('duplicateOf'),
    reviewer: str('reviewer'),
    createdAt,
    ...(o.source !== undefined ? { source: o.source as LabelProvenance } : {}),
  };
}

/**
 * A label source over an export directory holding `labels.jsonl` (one {@link ReviewLabel} per
 * line) and `invoices.jsonl` (one invoice, in the API's shape, per line).
 * @throws RangeError / TriageError (`TRIAGE_INPUT_INVALID`) on the first malformed row, naming
 *   the file and line; Error when a file is missing.
 */
export function fileLabelSource(dir: string): LabelSource {
  const lines = (file: string): { v: unknown; where: string }[] =>
    readFileSync(join(dir, file), 'utf8')
      .split('\n')
      .map((text, i) => ({ text, where: `${file}:${i + 1}` }))
      .filter(({ text }) => text.trim() !== '')
      .map(({ text, where }) => {
        try {
          return { v: JSON.parse(text) as unknown, where };
        } catch {
          throw new RangeError(`${where}: not valid JSON`);
        }
      });
  let invoices: Map<string, Invoice> | undefined;
  return {
    listLabels: () =>
      Promise.resolve(lines('labels.jsonl').map(({ v, where }) => parseReviewLabel(v, where))),
    getInvoices(ids) {
      invoices ??= new Map(
        lines('invoices.jsonl').map(({ v }, i) => {
          const inv = validateInvoice(v, `/invoices.jsonl/${i}`);
          return [inv.invoice_id, inv] as const;
        }),
      );
      const all = invoices;
      return Promise.resolve(
        new Map(ids.filter((id) => all.has(id)).map((id) => [id, all.get(id)!] as const)),
      );
    },
  };
}

/**
 * The fields training reads from a row of the store's `listLabels()` (`store/reviews.ts`,
 * `LabelRow`), declared structurally so training does not depend on the store's module.
 */
export interface StoreLabelRow {
  review_id: string;
  decision_id: string;
  invoice_id: string;
  line_number: number | null;
  task: ModelTask;
  label: 0 | 1;
  corrected_code: string | null;
  duplicate_of_invoice_id: string | null;
  reviewer_key_id: string;
  created_at: string;
  /** Provenance of the label; absent: `reviewer`. */
  source?: LabelProvenance;
  /** The submitted invoice (present when listed with `includeInvoice: true`). */
  invoice?: Invoice;
}

/**
 * A {@link LabelSource} over the service's label store (reviews, audit-sample reviews, ERP
 * labels). One review can yield several rows (an invoice-level coding review labels each flagged line), so a row's label id is the
 * review id plus `#<line>` for line rows. All reviews are listed (`latestOnly: false`) and
 * deduplicated here by invoice + line + task, so the card records what was superseded.
 * Invoice payloads come from the rows (`includeInvoice: true`); the earlier invoice of a
 * duplicate pair comes from `otherInvoices` when given (else from the rows, when it was
 * itself reviewed), otherwise the label is skipped with a reason.
 */
export function storeLabelSource(
  store: { listLabels(opts: { includeInvoice: boolean; latestOnly: boolean }): Promise<StoreLabelRow[]> },
  otherInvoices?: (ids: readonly string[]) => Promise<Map<string, Invoice>>,
): LabelSource {
  let rows: Promise<StoreLabelRow[]> | undefined;
  const list = (): Promise<StoreLabelRow[]> =>
    (rows ??= store.listLabels({ includeInvoice: true, latestOnly: false }));
  return {
    async listLabels() {
      return (await list()).map((r) => ({
        id: r.line_number === null ? r.review_id : `${r.review_id}#${r.line_number}`,
        decisionId: r.decision_id,
        invoiceId: r.invoice_id,
        lineNumber: r.line_number,
        task: r.task,
        label: r.label,
        correctedCode: r.corrected_code,
        duplicateOf: r.duplicate_of_invoice_id,
        reviewer: r.reviewer_key_id,
        createdAt: r.created_at,
        source: r.source ?? 'reviewer',
      }));
    },
    async getInvoices(ids) {
      const found = new Map<string, Invoice>();
      for (const r of await list()) if (r.invoice) found.set(r.invoice_id, r.invoice);
      const missing = ids.filter((id) => !found.has(id));
      if (missing.length > 0 && otherInvoices)
        for (const [id, inv] of await otherInvoices(missing)) found.set(id, inv);
      return new Map(ids.filter((id) => found.has(id)).map((id) => [id, found.get(id)!] as const));
    },
  };
}
