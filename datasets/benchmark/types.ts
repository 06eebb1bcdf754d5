/**
 * Record format of the seeded invoice benchmark (issue 3). One JSONL line per invoice, in
 * submission order: `{ "invoice": Invoice, "label": BenchmarkLabel }`. The invoice is exactly
 * what a workflow system would POST to `/v1/invoices/score`; the label is the ground truth.
 * Consumers: the evaluation harness (training/eval), training (training/), recall scripts.
 */
import type { Invoice } from '../../core/invoice.js';

/** Coding exception kinds (per line). */
export const CODING_KINDS = [
  'wrong_code_same_family',
  'outside_vendor_categories',
  'unit_dose_mismatch',
  'price_outlier',
  'implausible_quantity',
  'terminated_code',
  'unknown_code',
] as const;
export type CodingKind = (typeof CODING_KINDS)[number];

/** Duplicate kinds (per invoice: this invoice duplicates an earlier one). */
export const DUPLICATE_KINDS = [
  'exact_resubmission',
  'rekeyed_number',
  'date_shifted',
  'vendor_variant',
  'partial_resubmission',
  'line_level_duplicate',
  'amount_rounding_or_tax',
] as const;
export type DuplicateKind = (typeof DUPLICATE_KINDS)[number];

/** Hard negatives: look like duplicates but must NOT be flagged. */
export const HARD_NEGATIVE_KINDS = [
  'recurring_monthly',
  'credit_memo_reversal',
  'rebill_after_credit',
  'number_reused_years_later',
  'same_amount_date_other_vendor',
  'separate_partial_shipment',
] as const;
export type HardNegativeKind = (typeof HARD_NEGATIVE_KINDS)[number];

/** Ground truth of one benchmark invoice. */
export interface BenchmarkLabel {
  /** Split by vendor and time, no leakage: a vendor's invoices and their duplicates share a split. */
  split: 'train' | 'valid' | 'test';
  /** Position in submission order (0-based); records are written in this order. */
  seq: number;
  /** Vendor profile id (see the dataset's vendors.json: service line, approved BETOS categories). */
  vendor_profile: string;
  /** Set when this invoice duplicates an earlier one. */
  duplicate: {
    kind: DuplicateKind;
    /** `invoice_id` of the earlier invoice it duplicates. */
    of: string;
    /** The documented changes applied, e.g. ['invoice_number:O->0@3', 'invoice_date:+2d']. */
    changes: string[];
  } | null;
  /** Set when this invoice is a hard negative with respect to an earlier one. */
  hard_negative: { kind: HardNegativeKind; related: string } | null;
  /** One entry per line with a coding exception (lines not listed are clean). */
  coding: { line_number: number; kind: CodingKind; true_code: string | null }[];
}

/** One JSONL record of the benchmark. */
export interface BenchmarkRecord {
  invoice: Invoice;
  label: BenchmarkLabel;
}
