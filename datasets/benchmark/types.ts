/**
 * Record format of the seeded invoice benchmark. One JSONL line per invoice, in
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
    /**
     * Extra changes of other kinds applied on top of `kind` (additive field, `combine.ts`), e.g.
     * `['date_shifted', 'retotalled']`; absent for a single-change duplicate.
     */
    combined?: string[];
  } | null;
  /** Set when this invoice is a hard negative with respect to an earlier one. */
  hard_negative: {
    kind: HardNegativeKind;
    related: string;
    /** How it differs from the related invoice, in the vocabulary of `changes` (additive field). */
    changes?: string[];
  } | null;
  /** One entry per line with a coding exception (lines not listed are clean). */
  coding: {
    line_number: number;
    kind: CodingKind;
    true_code: string | null;
    /**
     * What the generator did, for people and tests (additive field): e.g. the fee the price
     * was compared with (`fee_cents`, `ratio`), the billing unit and the units a dose should
     * have been billed in, the code that was replaced.
     */
    evidence?: Record<string, string | number>;
  }[];
}

/** One JSONL record of the benchmark. */
export interface BenchmarkRecord {
  invoice: Invoice;
  label: BenchmarkLabel;
}

/** The three splits, in time order (train is the earliest window, test the latest). */
export const BENCHMARK_SPLITS = ['train', 'valid', 'test'] as const;
export type BenchmarkSplit = (typeof BENCHMARK_SPLITS)[number];

/**
 * Files of a generated benchmark directory: one JSONL file per split (records in submission
 * order, `seq` increasing), the dataset card and the vendor profiles.
 */
export const BENCHMARK_FILES = {
  split: (split: BenchmarkSplit) => `${split}.jsonl`,
  card: 'card.json',
  vendors: 'vendors.json',
} as const;

/** Counts of one split (or of the whole set) in the dataset card. */
export interface BenchmarkCounts {
  invoices: number;
  lines: number;
  vendors: number;
  /** Invoices with neither a duplicate nor a hard-negative label. */
  plain_invoices: number;
  document_types: Record<string, number>;
  duplicates: Record<DuplicateKind, number>;
  hard_negatives: Record<HardNegativeKind, number>;
  /** Lines per coding exception kind. */
  coding: Record<CodingKind, number>;
  /** Invoices with at least one coding exception. */
  invoices_with_coding_exceptions: number;
  /** Sum of `total_cents` (credit memos negative). */
  total_cents: number;
}

/** Per-kind rates: duplicate and hard-negative kinds are shares of a split's invoices, coding kinds shares of the eligible lines. */
export interface BenchmarkRates {
  duplicate: Record<DuplicateKind, number>;
  hard_negative: Record<HardNegativeKind, number>;
  coding: Record<CodingKind, number>;
}

/** `card.json` of a generated benchmark. */
export interface BenchmarkCard {
  name: string;
  generator_version: string;
  seed: number;
  /** The command that reproduces the set. */
  command: string;
  options: {
    invoices: number;
    start: string;
    valid_from: string;
    test_from: string;
    end: string;
    split_fractions: [number, number, number];
    invoices_per_vendor: number;
    price_outlier_k: number;
  };
  rates: BenchmarkRates;
  /** What each group of rates is a share of. */
  rate_units: Record<keyof BenchmarkRates, string>;
  reference_data: { version: string; files: Record<string, string> };
  splits: Record<
    BenchmarkSplit,
    BenchmarkCounts & {
      window: { from: string; to: string };
      /** Derived invoices requested by the rates vs written (fewer when too few originals qualify). */
      quotas: Record<string, { target: number; written: number }>;
    }
  >;
  totals: BenchmarkCounts;
  files: Record<string, { sha256: string; bytes: number; records?: number }>;
}
