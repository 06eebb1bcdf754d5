/**
 * The feature schema: every feature the scorers consume, with its unit, and a version hash.
 * The hash is stored with every decision (and, from the training issue on, with every model);
 * a model trained on another schema must be refused.
 */
import { createHash } from 'node:crypto';
import { EMBEDDING_DIM } from './hashing.js';

/** One feature: stable name, unit and meaning. */
export interface FeatureSpec {
  name: string;
  unit: string;
  description: string;
}

/** A named, versioned list of features. */
export interface FeatureSchema {
  name: string;
  features: readonly FeatureSpec[];
  /** Embedding recipe parameters that change vectors when they change. */
  embedding: { dim: number; ngrams: readonly number[]; words: boolean; hash: 'fnv1a32-signed' };
}

/** Features of one line for the coding-mismatch scorer. */
export const LINE_FEATURES: readonly FeatureSpec[] = [
  {
    name: 'desc_ref_cosine',
    unit: 'cosine [-1,1]',
    description: 'Description embedding vs the billed code reference description (max of short/long).',
  },
  {
    name: 'desc_ref_token_overlap',
    unit: 'ratio [0,1]',
    description: 'Share of the reference description stems found in the line description.',
  },
  { name: 'code_known', unit: 'bool', description: 'Code exists in HCPCS Level II 2025-01.' },
  {
    name: 'code_terminated',
    unit: 'bool',
    description: 'Code terminated on or before the service (or invoice) date.',
  },
  {
    name: 'unit_price_fee_log_ratio',
    unit: 'ln(unit_price_cents / fee_cents)',
    description: 'Unit price vs the CMS 2025 national fee for the code and modifier.',
  },
  {
    name: 'line_amount_gap_cents',
    unit: 'cents',
    description: 'amount_cents - round(quantity * unit_price_cents).',
  },
];

/** Features of a candidate pair for the duplicate scorer. */
export const PAIR_FEATURES: readonly FeatureSpec[] = [
  { name: 'same_vendor', unit: 'bool', description: 'Same vendor id, tax id or NPI.' },
  {
    name: 'vendor_name_jw',
    unit: 'Jaro-Winkler [0,1]',
    description: 'Similarity of normalised vendor names.',
  },
  { name: 'invoice_number_equal', unit: 'bool', description: 'Normalised invoice numbers equal.' },
  { name: 'invoice_number_canonical_equal', unit: 'bool', description: 'OCR-folded invoice numbers equal.' },
  {
    name: 'invoice_number_edit',
    unit: 'edits',
    description: 'Levenshtein distance of normalised invoice numbers.',
  },
  { name: 'amount_rel_diff', unit: 'ratio', description: '|total_a - total_b| / max(|total_a|, |total_b|).' },
  { name: 'days_apart', unit: 'days', description: 'Absolute difference of invoice dates.' },
  {
    name: 'line_overlap',
    unit: 'Jaccard [0,1]',
    description: 'Jaccard of line keys (code or description stems, amount).',
  },
  { name: 'embedding_cosine', unit: 'cosine [-1,1]', description: 'Cosine of invoice embeddings.' },
  {
    name: 'document_types',
    unit: 'category',
    description: 'Pair of document types (invoice, credit_memo, debit_memo).',
  },
];

/** The schema of this version. */
export const FEATURE_SCHEMA: FeatureSchema = {
  name: 'invoice-triage-features',
  features: [...LINE_FEATURES, ...PAIR_FEATURES],
  embedding: { dim: EMBEDDING_DIM, ngrams: [3, 4], words: true, hash: 'fnv1a32-signed' },
};

/** `sha256(JSON(schema))`, first 12 hex chars, prefixed: e.g. `fs-1a2b3c4d5e6f`. */
export function featureSchemaVersion(schema: FeatureSchema = FEATURE_SCHEMA): string {
  return `fs-${createHash('sha256').update(JSON.stringify(schema)).digest('hex').slice(0, 12)}`;
}
