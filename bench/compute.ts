/**
 * In-process pure compute of scoring: the scoring service with the shipped champions and the
 * store stubbed (no database: the replay checks find nothing, the candidate search returns ten
 * fixed earlier invoices, the write echoes the decision), so the figure is the CPU cost of
 * features, the reference search, both models, duplicates, routing and explanations alone.
 * Ten-line invoices whose descriptions are all new (no per-description memo helps) or the same
 * ten on every invoice (every memo warm), one after another on one thread: invoices/s per core
 * is invoices per CPU second of the process.
 */
import { createHash } from 'node:crypto';
import { loadavg } from 'node:os';
import Table from 'cli-table3';
import type { Invoice } from '../core/invoice.js';
import { validateInvoice } from '../core/validate.js';
import { sharedReferenceData } from '../datasets/reference.js';
import { referenceIndex } from '../features/reference-index.js';
import {
  createHeuristicCodingScorer,
  createScoringService,
  type ScoringService,
} from '../inference/index.js';
import {
  featureLineVectoriser,
  loadChampionScorers,
  servingLineContext,
} from '../inference/model-scorers.js';
import { prepare } from '../inference/stages/prepare.js';
import { shippedModelsDir } from '../bin/models-dir.js';
import { ModelRegistry } from '../models/registry.js';
import { servedFeatureSchemas } from '../models/served-schemas.js';
import type { CandidateInvoice } from '../store/candidates.js';
import type { ScoringTx, TriageRepository } from '../store/repository.js';
import { fmt, msSince, percentiles } from './stats.js';

/** Throughput of the stubbed-store scoring path. */
export interface ComputeResult {
  invoices: number;
  lines: number;
  /** Wall seconds of the timed run. */
  seconds: number;
  /** User + system CPU seconds of the process during the timed run. */
  cpuSeconds: number;
  invoicesPerSecond: number;
  /** Invoices per CPU second: the per-core rate, independent of other load on the machine. */
  invoicesPerCpuSecond: number;
  latencyMs: { p50: number; p95: number; p99: number; mean: number };
  /** Mean size of the stored explanation JSON, bytes. */
  explanationBytes: number;
  /**
   * sha256 (hex, first 16 digits) of the timed decisions and stored explanations in order:
   * equal in two trees when both decide and explain the same (decision ids are a sequence).
   */
  digest: string;
  models: Record<string, string>;
  /** 1-minute load average before and after the run. */
  load: [number, number];
}

/**
 * An earlier invoice as the candidate search returns it, prepared once: `at(query)` gives the
 * candidate with its embedding distance to `query` (the database computes the distance, so the
 * stub does only that per query and keeps its own preparation out of the figure).
 */
function candidateOf(inv: Invoice): (query: Float32Array) => CandidateInvoice {
  const p = prepare(inv);
  const embedding = p.features.embedding;
  const row: Omit<CandidateInvoice, 'embeddingDistance'> = {
    invoiceId: inv.invoice_id,
    decisionId: `d-${inv.invoice_id}`,
    decision: 'AUTO_APPROVE',
    vendorId: inv.vendor.id,
    vendorName: inv.vendor.name,
    vendorKey: p.features.vendorKey,
    vendorTaxId: null,
    vendorNpi: inv.vendor.npi ?? null,
    invoiceNumber: inv.invoice_number,
    invoiceNumberNormalised: p.features.invoiceNumber.normalised,
    invoiceNumberCanonical: p.features.invoiceNumber.canonical,
    invoiceDate: inv.invoice_date,
    totalCents: inv.total_cents,
    currency: inv.currency,
    documentType: inv.document_type,
    poNumber: inv.po_number ?? null,
    servicePeriodStart: null,
    servicePeriodEnd: null,
    lineMatchKeys: p.features.lines.map((l) => l.matchKey),
    sources: ['knn'],
    approval: 'auto_approved',
    reversedCents: 0,
    reversedBy: [],
  };
  return (query) => {
    let dot = 0;
    for (let i = 0; i < query.length; i++) dot += query[i]! * embedding[i]!;
    // A fresh object (and arrays) per query, as rows read from the database would be.
    return {
      ...row,
      lineMatchKeys: [...row.lineMatchKeys],
      sources: [...row.sources],
      reversedBy: [],
      embeddingDistance: 1 - dot,
    };
  };
}

/**
 * A repository whose scoring reads find nothing and whose candidate search returns `earlier`
 * (as candidates of every query); the write echoes the decision. Only what `score()` calls.
 */
function stubRepository(earlier: readonly Invoice[], explanations: string[]): TriageRepository {
  const rows = earlier.map(candidateOf);
  const tx: ScoringTx = {
    findByInvoiceId: () => Promise.resolve(null),
    findDuplicateCandidates: (q) => {
      const query = Float32Array.from(q.embedding);
      return Promise.resolve({
        candidates: rows.map((at) => at(query)),
        search: {
          method: 'exact',
          k: q.k,
          tenantRowsCounted: earlier.length,
          knnFound: earlier.length,
          vendorKnnFound: 0,
          exactKeyFound: 0,
        },
      });
    },
    findEarlierLines: () => Promise.resolve([]),
    findInvoicesById: () => Promise.resolve([]),
    procurementContext: () => Promise.resolve({ kind: 'none' }),
    recordPoBilling: () => Promise.resolve(),
    insert: (_inv, _sha, _keys, decision, extras) => {
      explanations.push(JSON.stringify(extras?.explanation ?? null));
      return Promise.resolve({ decision, created: true });
    },
  };
  const repo = {
    engine: 'postgres',
    findByInvoiceId: () => Promise.resolve(null),
    vendors: {
      get: () => Promise.resolve(null),
      codeCounts: () => Promise.resolve(new Map()),
      baselines: () => Promise.resolve(new Map()),
    },
    policies: { latestVersion: () => Promise.resolve(1), latest: () => Promise.resolve(null) },
    configVersions: () => Promise.resolve({ policy: 1, vendor: null }),
    scoringInputsMany: (_t: string, queries: readonly unknown[]) =>
      Promise.resolve(
        queries.map(() => ({
          versions: { policy: 1, vendor: null },
          codeCounts: new Map(),
          baselines: new Map(),
        })),
      ),
    withScoringLock: (_t: string, _k: readonly string[], fn: (t: ScoringTx) => Promise<unknown>) => fn(tx),
  };
  return repo as unknown as TriageRepository;
}

/**
 * The scoring service over the shipped champions and a stubbed store; the stored explanations'
 * JSON is appended to `explanations`.
 */
export async function computeService(
  earlier: readonly Invoice[],
  explanations: string[],
): Promise<{ scoring: ScoringService; close(): Promise<void> }> {
  const reference = sharedReferenceData();
  const index = referenceIndex(reference);
  let nextId = 0;
  const registry = new ModelRegistry({ root: shippedModelsDir(), featureSchemas: servedFeatureSchemas() });
  const scorers = await loadChampionScorers({
    registry,
    watchIntervalMs: null,
    coding: {
      vectorise: featureLineVectoriser(servingLineContext(index)),
      evidence: createHeuristicCodingScorer(index),
    },
    duplicate: {},
  });
  if (!scorers.coding || !scorers.duplicate) throw new Error('the shipped champions did not load');
  const scoring = createScoringService({
    repo: stubRepository(earlier, explanations),
    coding: scorers.coding,
    duplicate: scorers.duplicate,
    reference: index,
    referenceVersion: reference.version,
    clock: () => new Date('2025-04-01T12:00:00Z'),
    newId: () => `d-${(nextId++).toString().padStart(8, '0')}`,
  });
  return { scoring, close: () => scorers.close() };
}

/**
 * Scores `invoices` one after another on the stubbed store (after `warmup` untimed ones taken
 * from the front of the list), against ten candidates each (`earlier`).
 */
export async function runComputeBenchmark(
  invoices: readonly Invoice[],
  earlier: readonly Invoice[],
  warmup = 50,
): Promise<ComputeResult> {
  const explanations: string[] = [];
  const decisions: unknown[] = [];
  const { scoring, close } = await computeService(earlier, explanations);
  try {
    for (const inv of invoices.slice(0, warmup)) await scoring.score(validateInvoice(inv));
    explanations.length = 0;
    const timed = invoices.slice(warmup);
    const lat: number[] = [];
    let lines = 0;
    const load0 = loadavg()[0]!;
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (const inv of timed) {
      const t = process.hrtime.bigint();
      decisions.push((await scoring.score(validateInvoice(inv))).decision);
      lat.push(msSince(t));
      lines += inv.lines.length;
    }
    const seconds = msSince(t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const hash = createHash('sha256');
    decisions.forEach((d, i) => hash.update(JSON.stringify(d)).update(explanations[i] ?? ''));
    return {
      invoices: timed.length,
      lines,
      seconds,
      cpuSeconds,
      invoicesPerSecond: timed.length / seconds,
      invoicesPerCpuSecond: timed.length / cpuSeconds,
      latencyMs: percentiles(lat),
      explanationBytes:
        explanations.reduce((a, e) => a + Buffer.byteLength(e), 0) / Math.max(explanations.length, 1),
      digest: hash.digest('hex').slice(0, 16),
      models: scoring.versions.models,
      load: [load0, loadavg()[0]!],
    };
  } finally {
    await close();
  }
}

/** The section's table: one row per run. */
export function computeTable(results: readonly ComputeResult[]): string {
  const t = new Table({
    head: [
      'invoices',
      'wall s',
      'CPU s',
      'invoices/s (wall)',
      'invoices per CPU s',
      'p50 ms',
      'p99 ms',
      'explanation bytes',
      'digest',
      'load 1m before/after',
    ],
  });
  for (const r of results)
    t.push(
      [
        r.invoices,
        fmt(r.seconds),
        fmt(r.cpuSeconds),
        fmt(r.invoicesPerSecond),
        fmt(r.invoicesPerCpuSecond),
        fmt(r.latencyMs.p50),
        fmt(r.latencyMs.p99),
        Math.round(r.explanationBytes),
        r.digest,
        `${r.load[0].toFixed(1)} / ${r.load[1].toFixed(1)}`,
      ].map(String),
    );
  return t.toString();
}

/**
 * The `compute` section of `npm run bench`: `n` timed invoices made by `invoiceOf` (after 50
 * untimed ones), ten more as every invoice's candidates; prints the section's table.
 * @param descriptions how `invoiceOf` makes the line descriptions (`new`: unique per invoice;
 *   `repeated`: the same on every invoice), for the table's title.
 */
export async function computeSection(
  n: number,
  invoiceOf: (i: number, tag: string) => Invoice,
  descriptions: 'new' | 'repeated' = 'new',
): Promise<ComputeResult> {
  const invoices = Array.from({ length: n + 50 }, (_, i) => invoiceOf(i, 'c'));
  const earlier = Array.from({ length: 10 }, (_, i) => invoiceOf(1_000_000 + i, 'e'));
  const r = await runComputeBenchmark(invoices, earlier);
  const what = descriptions === 'new' ? 'new descriptions' : 'the same ten descriptions on every invoice';
  console.log(`\nIn-process compute, store stubbed, 10-line invoices with ${what}, sequential`);
  console.log(computeTable([r]));
  return r;
}
