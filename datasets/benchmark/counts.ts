/**
 * Counts of a generated benchmark (invoices, lines, vendors, document types and every labelled
 * kind), as written to `card.json`.
 */
import { CODING_KINDS, DUPLICATE_KINDS, HARD_NEGATIVE_KINDS, type BenchmarkCounts } from './types.js';

/** A record with every key of `keys` at 0. */
export function zeros<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
}

/** Counts of an empty split. */
export function emptyCounts(): BenchmarkCounts {
  return {
    invoices: 0,
    lines: 0,
    vendors: 0,
    plain_invoices: 0,
    document_types: {},
    duplicates: zeros(DUPLICATE_KINDS),
    hard_negatives: zeros(HARD_NEGATIVE_KINDS),
    coding: zeros(CODING_KINDS),
    invoices_with_coding_exceptions: 0,
    total_cents: 0,
  };
}

/** Adds the counts `from` into `into` (kind by kind). */
export function addCounts(into: BenchmarkCounts, from: BenchmarkCounts): void {
  into.invoices += from.invoices;
  into.lines += from.lines;
  into.vendors += from.vendors;
  into.plain_invoices += from.plain_invoices;
  into.invoices_with_coding_exceptions += from.invoices_with_coding_exceptions;
  into.total_cents += from.total_cents;
  for (const [k, v] of Object.entries(from.document_types))
    into.document_types[k] = (into.document_types[k] ?? 0) + v;
  for (const k of DUPLICATE_KINDS) into.duplicates[k] += from.duplicates[k];
  for (const k of HARD_NEGATIVE_KINDS) into.hard_negatives[k] += from.hard_negatives[k];
  for (const k of CODING_KINDS) into.coding[k] += from.coding[k];
}
