/**
 * Golden decisions: what the scoring service decides for a fixed list of invoices, in a form
 * that can be compared byte for byte across code changes.
 *
 * The invoices are scored in order through the production path (`wire`: shipped champions,
 * heuristics where a task has none, the served default policy: the certified one for its champions) into a fresh
 * in-memory PGlite store whose default tenant has the benchmark's vendor master registered, on
 * a fixed clock. Each invoice gives one JSON line holding the decision as returned (key order
 * kept), the stored explanation and the `decision.created` audit payload. Decision ids are
 * random, so every decision id (of this invoice or of an earlier candidate) is replaced by
 * `decision-of:<invoice_id>`; `created_at` is dropped.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Invoice } from '../core/invoice.js';
import type { BenchmarkVendor } from '../datasets/benchmark/vendors.js';
import { DEFAULT_TENANT } from '../inference/index.js';
import type { StoreConfig } from '../store/index.js';
import { wire, type ModelsWiring } from './bootstrap.js';
import { registerVendorMaster } from './service-detector.js';

/** The clock golden runs score on: every decision's "today" is 2026-01-15. */
export const GOLDEN_CLOCK = new Date('2026-01-15T12:00:00.000Z');

/** What a golden run scores: the vendor master to register, then the invoices in order. */
export interface GoldenInput {
  /** The command that generated the benchmark these come from (documentation only). */
  source: string;
  vendors: BenchmarkVendor[];
  invoices: Invoice[];
}

/** Options of {@link goldenDecisions}. */
export interface GoldenOptions {
  /** Store to score into; default an in-memory PGlite. */
  store?: StoreConfig;
  /** Models to serve; default the shipped champions (no reload); null: the heuristic scorers. */
  models?: ModelsWiring | null;
  /** Called after each scored invoice. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Scores `input.invoices` in order and returns one canonical JSON line per invoice (see the
 * module doc). @throws TriageError from the service (e.g. an invoice id used twice with other content).
 */
export async function goldenDecisions(input: GoldenInput, o: GoldenOptions = {}): Promise<string[]> {
  const wired = await wire(o.store ?? { engine: 'pglite' }, {
    models: o.models === undefined ? { reloadMs: null } : o.models,
    clock: () => new Date(GOLDEN_CLOCK),
    newId: sequentialIds(),
    // Scoring only: no decision is drawn into the audit sample (its draw would mark audit payloads).
    monitoring: { defaultAuditRate: 0, flushMs: 0 },
  });
  try {
    await registerVendorMaster(wired.repo, input.vendors);
    const idOf = new Map<string, string>();
    const scored: { invoiceId: string; decisionId: string; decision: unknown }[] = [];
    for (const invoice of input.invoices) {
      const { decision } = await wired.scoring.score(invoice);
      idOf.set(decision.decision_id, `decision-of:${invoice.invoice_id}`);
      scored.push({ invoiceId: invoice.invoice_id, decisionId: decision.decision_id, decision });
      o.onProgress?.(scored.length, input.invoices.length);
    }
    const audit = new Map<string, unknown>();
    for (let after = 0; ;) {
      const rows = await wired.repo.audit.list(DEFAULT_TENANT, { afterSeq: after, limit: 500 });
      if (rows.length === 0) break;
      for (const r of rows) if (r.kind === 'decision.created') audit.set(r.subjectId, JSON.parse(r.payload));
      after = rows[rows.length - 1]?.seq ?? after;
    }
    const out: string[] = [];
    for (const s of scored) {
      const record = await wired.repo.getDecisionRecord(DEFAULT_TENANT, s.decisionId);
      out.push(
        JSON.stringify(
          anonymise(
            {
              invoice_id: s.invoiceId,
              decision: s.decision,
              explanation: record?.decision.explanation ?? null,
              audit: audit.get(s.decisionId) ?? null,
            },
            idOf,
          ),
        ),
      );
    }
    return out;
  } finally {
    await wired.repo.close();
    await wired.closeModels();
  }
}

/**
 * Ids that are UUIDs in form but numbered in order, one sequence per kind: the store breaks
 * ties between equally distant duplicate candidates by invoice key, so random keys would order
 * them differently on every run.
 */
export function sequentialIds(): (kind: string) => string {
  const next = new Map<string, number>();
  const prefix = new Map<string, string>();
  return (kind) => {
    const n = (next.get(kind) ?? 0) + 1;
    next.set(kind, n);
    if (!prefix.has(kind)) prefix.set(kind, (prefix.size + 1).toString(16).padStart(8, '0'));
    return `${prefix.get(kind)!}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
  };
}

/** A deep copy with decision ids replaced through `idOf` and `created_at` fields dropped. */
function anonymise(v: unknown, idOf: ReadonlyMap<string, string>): unknown {
  if (typeof v === 'string') return idOf.get(v) ?? v;
  if (Array.isArray(v)) return v.map((x) => anonymise(x, idOf));
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (k !== 'created_at') out[k] = anonymise(x, idOf);
  return out;
}

/** Reads a gzipped JSON file. @throws Error when missing or not gzipped JSON. */
export function readGzipJson<T>(file: string): T {
  return JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')) as T;
}

/** Writes lines (newline-terminated) to a gzipped file. */
export function writeGzipLines(file: string, lines: readonly string[]): void {
  writeFileSync(file, gzipSync(lines.map((l) => l + '\n').join(''), { level: 9 }));
}

/** Reads the lines of a gzipped text file (no trailing empty line). */
export function readGzipLines(file: string): string[] {
  const text = gunzipSync(readFileSync(file)).toString('utf8');
  return text.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1);
}

/** Invoices of two golden runs whose lines differ (by position), with both lines. */
export function goldenDifferences(
  expected: readonly string[],
  actual: readonly string[],
): { index: number; expected: string | null; actual: string | null }[] {
  const out: { index: number; expected: string | null; actual: string | null }[] = [];
  for (let i = 0; i < Math.max(expected.length, actual.length); i++) {
    const e = expected[i] ?? null;
    const a = actual[i] ?? null;
    if (e !== a) out.push({ index: i, expected: e, actual: a });
  }
  return out;
}
