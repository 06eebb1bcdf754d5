/**
 * Group commit of single score requests: while a tenant's scoring is busy, the requests of
 * that tenant that arrive queue, and the next free runner scores all of them (up to `maxGroup`)
 * together through the chunk path (inference/chunk-scoring.ts: grouped reads, one transaction
 * and multi-row writes per group of members that share no vendor key, invoice id or PO), with
 * the decisions the single path would make one by one. Group size follows the load: a request
 * that finds a runner free and nobody queued runs the single path at once, exactly as without
 * the wrapper, and no timer ever holds a request back.
 *
 * Per request: its own outcome (`created` false for a replay) or its own error (a member's
 * `TRIAGE_INVOICE_CONFLICT` settles only that member), stored and audited under its own API key.
 *
 * Cancellation: a queued request whose signal aborts (its deadline) leaves the queue and is
 * rejected with the abort reason. A group's transactions take one signal that aborts with the
 * first of its members' signals: the groups not yet committed then roll back and every member
 * still waiting is rejected with that reason (for the API, 503 `TRIAGE_DEADLINE_EXCEEDED` with
 * `Retry-After`), so a 503 still leaves no rows, and each retry scores (or replays) on its own.
 */
import type { Invoice } from '../core/invoice.js';
import type { ChunkScorer, ChunkSettled } from './chunk-scoring.js';
import { DEFAULT_TENANT, type ScoreOptions, type ScoreOutcome, type ScoringService } from './pipeline.js';
import { withScore } from './with-score.js';

/** Options of {@link withGroupCommit}. */
export interface GroupCommitOptions {
  /** Most requests scored in one group call; default 50. */
  maxGroup?: number;
  /** Invoices with more lines always take the single path, outside any group; default 200. */
  maxLines?: number;
  /** Scorings (single requests or groups) of one tenant in flight at once; default 2. */
  runners?: number;
  /** Told the size of each group scored through the chunk path (metrics, tests). */
  onGroup?: (size: number) => void;
}

/** A queued request. */
interface Waiter {
  invoice: Invoice;
  actorKeyId: string | null;
  signal: AbortSignal | undefined;
  resolve(o: ScoreOutcome): void;
  reject(e: unknown): void;
  /** Removes the queued request's abort listener. */
  detach(): void;
}

/** A tenant with scoring in flight. */
interface TenantLane {
  running: number;
  queue: Waiter[];
}

/**
 * The same service whose `score` coalesces concurrent requests of a tenant into groups (see the
 * module comment); `scoring` itself when it has no `scoreChunk`. The tenant defaults as in
 * `score` (`default`).
 * @throws from `score`: what the single path throws, or the abort reason of the request's (or,
 *   in a group, of its group's earliest member's) signal.
 */
export function withGroupCommit(scoring: ScoringService, o: GroupCommitOptions = {}): ScoringService {
  const chunk = scoring.scoreChunk;
  if (!chunk) return scoring;
  const maxGroup = o.maxGroup ?? 50;
  const maxLines = o.maxLines ?? 200;
  const runners = o.runners ?? 2;
  const lanes = new Map<string, TenantLane>();

  const release = (tenantId: string, lane: TenantLane): void => {
    lane.running--;
    drain(tenantId, lane);
  };

  /** Starts groups of the queued requests while runners are free. */
  function drain(tenantId: string, lane: TenantLane): void {
    while (lane.running < runners && lane.queue.length > 0) {
      const members = lane.queue.splice(0, maxGroup);
      lane.running++;
      void runGroup(chunk!, tenantId, members, o.onGroup).finally(() => release(tenantId, lane));
    }
    if (lane.running === 0 && lane.queue.length === 0) lanes.delete(tenantId);
  }

  const score = (
    invoice: Invoice,
    tenantId = DEFAULT_TENANT,
    actorKeyId: string | null = null,
    opts: ScoreOptions = {},
  ): Promise<ScoreOutcome> => {
    if (invoice.lines.length > maxLines) return scoring.score(invoice, tenantId, actorKeyId, opts);
    let lane = lanes.get(tenantId);
    if (!lane) {
      lane = { running: 0, queue: [] };
      lanes.set(tenantId, lane);
    }
    const l = lane;
    if (l.running < runners && l.queue.length === 0) {
      l.running++;
      return scoring.score(invoice, tenantId, actorKeyId, opts).finally(() => release(tenantId, l));
    }
    const { signal } = opts;
    signal?.throwIfAborted();
    return new Promise<ScoreOutcome>((resolve, reject) => {
      const onAbort = (): void => {
        const at = l.queue.indexOf(w);
        if (at < 0) return;
        l.queue.splice(at, 1);
        reject(signal!.reason);
      };
      const w: Waiter = {
        invoice,
        actorKeyId,
        signal,
        resolve,
        reject,
        detach: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      l.queue.push(w);
    });
  };

  return withScore(scoring, score);
}

/**
 * Scores queued requests through the chunk path in one call (a lone one as a chunk of one, which
 * decides as the single path does), each settled as soon as its group commits. Never rejects.
 */
async function runGroup(
  chunk: ChunkScorer,
  tenantId: string,
  queued: readonly Waiter[],
  onGroup: ((size: number) => void) | undefined,
): Promise<void> {
  for (const w of queued) w.detach();
  const members = queued.filter((w) => {
    if (!w.signal?.aborted) return true;
    w.reject(w.signal.reason);
    return false;
  });
  if (members.length === 0) return;
  const signals = members.flatMap((w) => (w.signal ? [w.signal] : []));
  const signal = signals.length > 0 ? AbortSignal.any(signals) : undefined;
  const settle = (x: ChunkSettled): void => {
    const w = members[x.index]!;
    if ('outcome' in x) w.resolve(x.outcome);
    else w.reject(x.error);
  };
  let settled = 0;
  try {
    onGroup?.(members.length);
    await chunk(
      members.map((w) => w.invoice),
      tenantId,
      {
        actorKeyIds: members.map((w) => w.actorKeyId),
        maxGroup: members.length,
        ...(signal ? { signal } : {}),
        committed: (done) => {
          for (const x of done) settle(x);
          settled += done.length;
        },
      },
    );
  } catch (e) {
    // The groups after the last commit stored nothing: their members answer with the error.
    for (const w of members.slice(settled)) w.reject(e);
  }
}
