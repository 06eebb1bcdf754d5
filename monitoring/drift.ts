/**
 * Drift of a model's inputs and scores per tenant: live rows are binned on the cut points of
 * the model version's reference histograms (monitoring/reference.ts) and compared with them.
 *
 * Live side, incremental: each scored row adds one count per feature to an in-memory
 * accumulator keyed by (tenant, model version, hour); {@link DriftAccumulator.drain} hands the
 * counts to the store, which adds them to `drift_counts` (one row per tenant, model, hour and
 * feature). The scoring path pays a few array increments, no SQL; a report reads at most
 * `window hours x (features + 1)` rows of one tenant and model, never the decisions. Counts not
 * yet flushed when a process dies are lost (at most one flush interval); that is monitoring
 * data, not invoices or labels. Every replica flushes its own counts, so the table holds the
 * sum over replicas.
 *
 * Statistics and status (documented thresholds, per distribution):
 * - PSI (`sum (a - e) ln(a / e)` over bin shares, empty bins at 1e-4): < 0.1 ok, 0.1-0.25
 *   watch, >= 0.25 drift (the credit-scoring convention);
 * - where bins are sparse (fewer than {@link SPARSE_ROWS_PER_BIN} live rows per bin), PSI is
 *   unstable and the status uses the Jensen-Shannon divergence in bits instead: < 0.018 ok,
 *   0.018-0.045 watch, >= 0.045 drift (PSI is the J-divergence and JS ~ J/8 for small shifts,
 *   so these are PSI's 0.1 and 0.25 in nats / 8, in bits);
 * - missing values: live share of non-finite values minus the reference's share > 0.05
 *   watch, > 0.2 drift;
 * - fewer than {@link MIN_ROWS} live rows: `insufficient_data`.
 * A model's status is the worst of its score's and features' statuses.
 */
import { binOf, jensenShannon, psi } from './stats.js';
import type { BinnedDistribution, ReferenceHistograms } from './reference.js';

/** Drift status of one distribution or of a model. */
export type DriftStatus = 'ok' | 'watch' | 'drift' | 'insufficient_data';

/** The documented thresholds. */
export const DRIFT_THRESHOLDS = {
  psi: { watch: 0.1, drift: 0.25 },
  jsBits: { watch: 0.018, drift: 0.045 },
  missingShareIncrease: { watch: 0.05, drift: 0.2 },
} as const;

/** Below this many live rows per bin, JS decides instead of PSI. */
export const SPARSE_ROWS_PER_BIN = 5;
/** Below this many live rows, no status is given. */
export const MIN_ROWS = 30;

/** Hour buckets of the live counts, ms. */
export const DRIFT_BUCKET_MS = 3_600_000;

/** Live counts of one distribution in one bucket (what the store adds up). */
export interface DriftCountRow {
  tenantId: string;
  /** `<name>@<version>`. */
  model: string;
  /** Start of the hour, ISO 8601. */
  bucketStart: string;
  /** Feature name or `score`. */
  feature: string;
  counts: number[];
  missing: number;
}

/** Live counts of one distribution over a window (summed buckets). */
export interface LiveDistribution {
  feature: string;
  counts: number[];
  missing: number;
}

/** Drift of one distribution. */
export interface DistributionDrift {
  feature: string;
  /** Live rows (binned + missing). */
  n: number;
  psi: number | null;
  /** Jensen-Shannon divergence, bits. */
  js_bits: number | null;
  /** Which statistic decided the status: PSI, or JS where bins are sparse. */
  statistic: 'psi' | 'js';
  missing_share: number | null;
  reference_missing_share: number;
  status: DriftStatus;
}

const RANK: Record<DriftStatus, number> = { insufficient_data: 0, ok: 1, watch: 2, drift: 3 };

/** The worse of two statuses (`insufficient_data` loses to any other). */
export function worse(a: DriftStatus, b: DriftStatus): DriftStatus {
  return RANK[a] >= RANK[b] ? a : b;
}

function level(x: number, t: { watch: number; drift: number }): DriftStatus {
  return x >= t.drift ? 'drift' : x >= t.watch ? 'watch' : 'ok';
}

/** Compares live counts with the reference distribution (same bins). */
export function compareDistribution(
  ref: BinnedDistribution,
  live: LiveDistribution | undefined,
): DistributionDrift {
  const counts = live && live.counts.length === ref.counts.length ? live.counts : ref.counts.map(() => 0);
  const binned = counts.reduce((a, b) => a + b, 0);
  const missing = live?.missing ?? 0;
  const n = binned + missing;
  const refN = ref.counts.reduce((a, b) => a + b, 0) + ref.missing;
  const refMissingShare = refN ? ref.missing / refN : 0;
  const sparse = binned < SPARSE_ROWS_PER_BIN * ref.counts.length;
  const p = binned ? psi(ref.counts, counts) : null;
  const js = binned ? jensenShannon(ref.counts, counts) : null;
  const missingShare = n ? missing / n : null;
  let status: DriftStatus = 'insufficient_data';
  if (n >= MIN_ROWS) {
    status =
      binned === 0 ? 'ok' : sparse ? level(js!, DRIFT_THRESHOLDS.jsBits) : level(p!, DRIFT_THRESHOLDS.psi);
    status = worse(
      status,
      level((missingShare ?? 0) - refMissingShare, DRIFT_THRESHOLDS.missingShareIncrease),
    );
  }
  const r6 = (x: number | null): number | null => (x === null ? null : Math.round(x * 1e6) / 1e6);
  return {
    feature: ref.name,
    n,
    psi: r6(p),
    js_bits: r6(js),
    statistic: sparse ? 'js' : 'psi',
    missing_share: r6(missingShare),
    reference_missing_share: r6(refMissingShare)!,
    status,
  };
}

/** Drift of a model for a tenant over a window. */
export interface DriftReport {
  model: string;
  tenant_id: string;
  unit: ReferenceHistograms['unit'];
  window: { from: string; to: string; hours: number };
  /** Live rows scored in the window. */
  rows: number;
  status: DriftStatus;
  thresholds: typeof DRIFT_THRESHOLDS & { sparse_rows_per_bin: number; min_rows: number };
  reference: { source: string; rows: number };
  score: DistributionDrift;
  features: DistributionDrift[];
}

/** Builds the report of a model from its reference and the live counts of the window. */
export function driftReport(
  ref: ReferenceHistograms,
  live: ReadonlyMap<string, LiveDistribution>,
  meta: { model: string; tenantId: string; from: Date; to: Date },
): DriftReport {
  const score = compareDistribution(ref.score, live.get('score'));
  const features = ref.features.map((f) => compareDistribution(f, live.get(f.name)));
  const status = features.reduce((s, f) => worse(s, f.status), score.status);
  return {
    model: meta.model,
    tenant_id: meta.tenantId,
    unit: ref.unit,
    window: {
      from: meta.from.toISOString(),
      to: meta.to.toISOString(),
      hours: Math.round((meta.to.getTime() - meta.from.getTime()) / 3_600_000),
    },
    rows: score.n,
    status,
    thresholds: { ...DRIFT_THRESHOLDS, sparse_rows_per_bin: SPARSE_ROWS_PER_BIN, min_rows: MIN_ROWS },
    reference: { source: ref.source, rows: ref.rows },
    score,
    features,
  };
}

interface Pending {
  tenantId: string;
  model: string;
  bucketStart: string;
  counts: Map<string, { counts: number[]; missing: number }>;
}

/**
 * In-memory live counts, drained by the store flush. `observe` is O(rows x features) array
 * increments; nothing else happens on the scoring path.
 */
export class DriftAccumulator {
  private pending = new Map<string, Pending>();

  constructor(private readonly clock: () => Date = () => new Date()) {}

  /**
   * Adds scored rows of one model for a tenant. `rows[i]` is the feature vector (schema order)
   * or null when the model did not score that row (its features and score count as missing).
   */
  observe(
    tenantId: string,
    model: string,
    ref: ReferenceHistograms,
    rows: readonly (ArrayLike<number> | null)[],
    scores: readonly (number | null)[],
  ): void {
    if (rows.length === 0) return;
    const t = this.clock().getTime();
    const bucketStart = new Date(t - (t % DRIFT_BUCKET_MS)).toISOString();
    const key = `${tenantId}\u0001${model}\u0001${bucketStart}`;
    let p = this.pending.get(key);
    if (!p) {
      p = { tenantId, model, bucketStart, counts: new Map() };
      this.pending.set(key, p);
    }
    const add = (d: BinnedDistribution, x: number | null): void => {
      let c = p.counts.get(d.name);
      if (!c) {
        c = { counts: new Array<number>(d.counts.length).fill(0), missing: 0 };
        p.counts.set(d.name, c);
      }
      const b = x === null ? -1 : binOf(x, d.edges);
      if (b < 0) c.missing++;
      else c.counts[b]!++;
    };
    rows.forEach((row, i) => {
      add(ref.score, scores[i] ?? null);
      ref.features.forEach((f, j) => add(f, row ? row[j]! : null));
    });
  }

  /** Removes and returns the counts gathered since the last drain. */
  drain(): DriftCountRow[] {
    const out: DriftCountRow[] = [];
    for (const p of this.pending.values())
      for (const [feature, c] of p.counts)
        out.push({ tenantId: p.tenantId, model: p.model, bucketStart: p.bucketStart, feature, ...c });
    this.pending.clear();
    return out;
  }

  /** Puts counts back after a failed flush (they are added again at the next one). */
  restore(rows: readonly DriftCountRow[]): void {
    for (const r of rows) {
      const key = `${r.tenantId}\u0001${r.model}\u0001${r.bucketStart}`;
      let p = this.pending.get(key);
      if (!p) {
        p = { tenantId: r.tenantId, model: r.model, bucketStart: r.bucketStart, counts: new Map() };
        this.pending.set(key, p);
      }
      const c = p.counts.get(r.feature);
      if (!c) p.counts.set(r.feature, { counts: [...r.counts], missing: r.missing });
      else {
        r.counts.forEach((x, i) => (c.counts[i] = (c.counts[i] ?? 0) + x));
        c.missing += r.missing;
      }
    }
  }
}
