/**
 * Scoring a batch chunk: the invoices of one tenant in order, with the decisions that scoring
 * them one by one (`ScoringService.score`) would make, in a few statements per group instead
 * of about seven per invoice.
 *
 * The chunk is cut into groups of consecutive invoices that share no scoring-lock key (vendor
 * key, vendor id), invoice id or PO number. Per group: the vendor and policy reads of stages
 * 2-4 for all members in one statement (committed state, as a single score reads them), then
 * one transaction holding every member's locks: one candidate statement for all members
 * (store/chunk-search.ts, the replay check included), one statement each for the members' line
 * rebills and first ERP reads (vendor- or PO-scoped, so no member's read can see another's
 * write), the members judged in order, each seeing the members ahead of it
 * in its tenant-wide kNN block as if they were stored (the only block another vendor's invoice
 * can reach; every other read is scoped to the vendor or the PO), one write for the group
 * (store/scoring-write.ts insertScoredMany), and the caller's own writes (the batch items'
 * states) before the commit. A failure rolls the group back whole: nothing of it is written.
 *
 * While a group's write and commit execute in PostgreSQL, the process computes stages 2-4 of
 * the next group's members that share no key with it (at most one group ahead): their reads are
 * scoped to vendors that write does not touch, so they read what they would read after its
 * commit. The members that share a key with it, and the next group's transaction (its
 * candidate search, line rebills, ERP reads and judgements), wait for the commit, so every
 * member still sees every earlier member of the chunk.
 */
import type { DecisionResponse } from '../core/decision.js';
import { TriageError } from '../core/errors.js';
import type { Invoice } from '../core/invoice.js';
import { mergeGroup, type GroupMember } from '../store/chunk-search.js';
import { historyConflict } from '../store/history.js';
import type {
  CandidateInvoice,
  CandidateResult,
  ChunkTx,
  ScoredRow,
  ScoringTx,
  StoredDecision,
  TriageRepository,
} from '../store/repository.js';
import type { SqlExecutor } from '../store/sql.js';
import { candidateQuery, findCandidates, lineRebillQuery, type Prepared } from './stages/index.js';
import type { ProcurementLookup } from '../core/erp.js';

/** Outcome of scoring one invoice (as `ScoringService.score` answers it). */
export interface ChunkOutcome {
  decision: DecisionResponse;
  /** False when the invoice id had been scored before and the stored decision was returned. */
  created: boolean;
}

/** What became of one invoice of a chunk: its outcome, or the final error it was refused with. */
export type ChunkSettled = { index: number; outcome: ChunkOutcome } | { index: number; error: TriageError };

/** Options of a {@link ChunkScorer} call. */
export interface ChunkOptions {
  /** API key that scored the chunk (stored and audited); default null (the system). */
  actorKeyId?: string | null;
  /**
   * The API key of each invoice, by chunk index, in place of `actorKeyId` (stored and audited
   * per invoice): a chunk of requests made with different keys.
   */
  actorKeyIds?: readonly (string | null)[];
  /**
   * Stops the work when it aborts: every group's transaction checks it before each statement and
   * before its commit and then rolls back, so the groups not yet committed store nothing and the
   * call throws the abort reason (the groups committed before stay committed).
   */
  signal?: AbortSignal;
  /**
   * Runs inside each group's transaction, after its write, with what became of its members
   * (indexes into the chunk): writes committed with the group or not at all.
   */
  commit?: (tx: SqlExecutor, settled: readonly ChunkSettled[]) => Promise<void>;
  /** Told after each group's commit with what became of its members. */
  committed?: (settled: readonly ChunkSettled[]) => void;
  /** Most invoices per group; default 100. */
  maxGroup?: number;
}

/**
 * Scores validated invoices of one tenant in order.
 * @returns one entry per invoice, in order: an outcome, or a non-retryable `TriageError`
 *   (`TRIAGE_INVOICE_CONFLICT`: the id was scored with other content or imported as history).
 * @throws any other error of a group (store outage, model failure): that group and the ones
 *   after it are not written; the groups before it are committed.
 */
export type ChunkScorer = (
  invoices: readonly Invoice[],
  tenantId: string,
  opts?: ChunkOptions,
) => Promise<ChunkSettled[]>;

/** The reads a member's judgement makes inside its group's transaction. */
export type MemberReads = Pick<ScoringTx, 'findEarlierLines' | 'findInvoicesById' | 'procurementContext'>;

/** The single-invoice stages the chunk scorer runs (inference/pipeline.ts provides them). */
export interface ChunkKernel<Pre, Judged, Draw> {
  repo: Pick<TriageRepository, 'withChunkLock'>;
  /** Nearest neighbours per kNN block. */
  k: number;
  prepare(invoice: Invoice): Prepared;
  /** Stages 2-4 and the clock of a group's members, before the transaction (their reads in one statement). */
  beforeGroup(ps: readonly Prepared[], tenantId: string): Promise<Pre[]>;
  /** Stages 6-10 from the candidates to the decision. */
  judge(
    reads: MemberReads,
    tenantId: string,
    pre: Pre,
    found: CandidateResult,
    draw: Draw | undefined,
  ): Promise<Judged>;
  /** The stored record of a judged invoice (stage 11). */
  write(pre: Pre, j: Judged, actorKeyId: string | null): Omit<ScoredRow, 'pk'>;
  /** What a PO-backed invoice billed, recorded after its decision is stored. */
  billing(
    pre: Pre,
    j: Judged,
  ): {
    x: Parameters<ChunkTx['recordPoBilling']>[0];
    allocations: Parameters<ChunkTx['recordPoBilling']>[1];
  } | null;
  /** The tenant's audit-sample draw (monitoring), read once per group. */
  auditSampler(tenantId: string): Promise<Draw | undefined>;
  /** Tells monitoring about a new decision, after its group committed. */
  scored(j: Judged): void;
  /** The stored decision of a re-sent invoice, or null. @throws TriageError `TRIAGE_INVOICE_CONFLICT` */
  replay(p: Prepared, stored: StoredDecision | null): ChunkOutcome | null;
}

/** A member of a group as a candidate of the members after it (the columns the store would return). */
function memberCandidate(p: Prepared, decision: DecisionResponse): CandidateInvoice {
  // The store returns no description stems, so the member does not carry them either.
  const { lineDescriptionStems: _stems, ...side } = p.pairSide;
  return {
    ...side,
    invoiceId: p.invoice.invoice_id,
    decisionId: decision.decision_id,
    decision: decision.decision,
    vendorName: p.invoice.vendor.name,
    invoiceNumber: p.invoice.invoice_number,
    currency: p.invoice.currency,
    lineMatchKeys: [...p.keys.lines].sort((a, b) => a.lineNumber - b.lineNumber).map((l) => l.matchKey),
    embeddingDistance: 0,
    sources: [],
    approval: decision.decision === 'AUTO_APPROVE' ? 'auto_approved' : null,
    reversedCents: 0,
    reversedBy: [],
  };
}

/**
 * The in-transaction reads of a group's members: their line-rebill searches in one statement
 * and their first ERP reads in another; an ERP lookup that needs the PO's details (a cited or
 * only open PO) is completed by the member's own read. Per member, the reads its judgement
 * makes, answering as the transaction would.
 */
async function groupReads(tx: ChunkTx, ps: readonly Prepared[]): Promise<MemberReads[]> {
  const queries = ps.map((p) => lineRebillQuery(p));
  const found = await tx.findEarlierLinesMany(queries.filter((q) => q !== null));
  let next = 0;
  const earlier = queries.map((q) => (q ? found[next++]! : []));
  const firsts = await tx.procurementFirstMany(
    ps.map((p) => ({
      invoiceId: p.invoice.invoice_id,
      vendorId: p.invoice.vendor.id,
      poNumber: p.invoice.po_number,
    })),
  );
  return ps.map((_, m) => {
    let first: ProcurementLookup | null = firsts[m]!;
    return {
      findEarlierLines: async () => earlier[m]!,
      findInvoicesById: (e, ids) => tx.findInvoicesById(e, ids),
      procurementContext: (q) => {
        const settled = first;
        first = null;
        return settled ? Promise.resolve(settled) : tx.procurementContext(q);
      },
    };
  });
}

/**
 * The next group's stages 2-4, started while the group before it is written: `free` are the
 * chunk indexes of its members that share no key with that group, `pres` their results in that
 * order. Used only when the next group does start at `first` (the group before settled whole).
 */
interface Lookahead<Pre> {
  first: number;
  free: readonly number[];
  pres: Promise<Pre[]>;
}

/** Keys two members of one group may not share. */
function groupKeys(p: Prepared): string[] {
  const inv = p.invoice;
  return [...p.lockKeys, `invoice_id:${inv.invoice_id}`, ...(inv.po_number ? [`po:${inv.po_number}`] : [])];
}

/** Creates the chunk scorer over the single-invoice stages. */
export function createChunkScorer<Pre extends { p: Prepared }, Judged, Draw>(
  kernel: ChunkKernel<Pre, Judged, Draw>,
): ChunkScorer {
  /** The members `from..` that form the next group. */
  function nextGroup(prepared: readonly Prepared[], from: number, max: number): number[] {
    const taken = new Set<string>();
    const group: number[] = [];
    for (let i = from; i < prepared.length && group.length < max; i++) {
      const keys = groupKeys(prepared[i]!);
      if (group.length > 0 && keys.some((x) => taken.has(x))) break;
      for (const x of keys) taken.add(x);
      group.push(i);
    }
    return group;
  }

  /**
   * Stages 2-4 of the group `from..` started while the group before it (`inFlight`) is being
   * written: only for the members that share no key with it, whose vendor-scoped reads that
   * write cannot change. The others are read after its commit ({@link stagesOf}).
   */
  function lookahead(
    prepared: readonly Prepared[],
    inFlight: readonly number[],
    from: number,
    max: number,
    tenantId: string,
  ): Lookahead<Pre> | null {
    if (from >= prepared.length) return null;
    const group = nextGroup(prepared, from, max);
    const written = new Set(inFlight.flatMap((i) => groupKeys(prepared[i]!)));
    const free = group.filter((i) => !groupKeys(prepared[i]!).some((x) => written.has(x)));
    if (free.length === 0) return null;
    const pres = kernel.beforeGroup(
      free.map((i) => prepared[i]!),
      tenantId,
    );
    // Abandoned when the group before it fails or settles only a prefix; never an unhandled rejection.
    pres.catch(() => undefined);
    return { first: from, free, pres };
  }

  /** Stages 2-4 of a group's members, in member order: the look-ahead's when it computed them. */
  async function stagesOf(
    prepared: readonly Prepared[],
    group: readonly number[],
    tenantId: string,
    early: Lookahead<Pre> | null,
  ): Promise<Pre[]> {
    const used = early?.first === group[0] ? early : null;
    const free = new Set(used?.free);
    const tied = group.filter((i) => !free.has(i));
    const [ahead, after] = await Promise.all([
      used ? used.pres : Promise.resolve([]),
      kernel.beforeGroup(
        tied.map((i) => prepared[i]!),
        tenantId,
      ),
    ]);
    let f = 0;
    let t = 0;
    return group.map((i) => (free.has(i) ? ahead[f++]! : after[t++]!));
  }

  /**
   * Scores one group in one transaction; returns how many members were settled (a prefix) and
   * the next group's look-ahead, started once this group's write is sent.
   */
  async function scoreGroup(
    prepared: readonly Prepared[],
    group: readonly number[],
    tenantId: string,
    opts: ChunkOptions,
    out: ChunkSettled[],
    early: Lookahead<Pre> | null,
  ): Promise<{ settled: number; next: Lookahead<Pre> | null }> {
    const max = opts.maxGroup ?? 100;
    const pres = await stagesOf(prepared, group, tenantId, early);
    let next: Lookahead<Pre> | null = null;
    let started = false;
    const draw = await kernel.auditSampler(tenantId);
    const lockKeys = group.flatMap((i) => prepared[i]!.lockKeys);
    const created: Judged[] = [];
    const actorOf = (index: number): string | null =>
      opts.actorKeyIds ? (opts.actorKeyIds[index] ?? null) : (opts.actorKeyId ?? null);
    const settled = await kernel.repo.withChunkLock(
      tenantId,
      lockKeys,
      async (tx) => {
        created.length = 0;
        const searches = await tx.searchMany(group.map((i) => candidateQuery(prepared[i]!, kernel.k)));
        const { exactSearchMaxRows, iterative } = await tx.searchOptions();
        const reads = await groupReads(
          tx,
          pres.map((x) => x.p),
        );
        const ahead: GroupMember[] = [];
        const rows: ScoredRow[] = [];
        const billings: NonNullable<ReturnType<ChunkKernel<Pre, Judged, Draw>['billing']>>[] = [];
        const done: ChunkSettled[] = [];
        for (const [m, index] of group.entries()) {
          const pre = pres[m]!;
          const { p } = pre;
          const s = searches[m]!;
          try {
            const again = kernel.replay(p, s.stored);
            if (again) {
              done.push({ index, outcome: again });
              continue;
            }
          } catch (e) {
            if (!(e instanceof TriageError)) throw e;
            done.push({ index, error: e });
            continue;
          }
          if (s.taken) {
            // Imported as history: the single write would refuse it the same way.
            done.push({ index, error: historyConflict(p.invoice.invoice_id) });
            continue;
          }
          let found: CandidateResult;
          const merged = mergeGroup(s, m, ahead, kernel.k, exactSearchMaxRows, iterative);
          if ('result' in merged) found = merged.result;
          else if (ahead.length === 0) found = await findCandidates(tx, p, kernel.k);
          // A search of its own on stored rows: first in a later group.
          else break;
          const j = await kernel.judge(reads[m]!, tenantId, pre, found, draw);
          const row = { pk: tx.newPk(), ...kernel.write(pre, j, actorOf(index)) };
          rows.push(row);
          const b = kernel.billing(pre, j);
          if (b) billings.push(b);
          ahead.push({
            pk: row.pk,
            position: m,
            candidate: memberCandidate(p, row.decision),
            reversesInvoiceId: row.extras.reversesInvoiceId ?? null,
            totalCents: p.invoice.total_cents,
          });
          created.push(j);
          done.push({ index, outcome: { decision: row.decision, created: true } });
        }
        const written = tx.insertMany(rows);
        if (!started) {
          // The next group's stages 2-4 run while PostgreSQL executes this write and the commit.
          started = true;
          next = lookahead(prepared, group, group[0]! + group.length, max, tenantId);
        }
        await written;
        for (const b of billings) await tx.recordPoBilling(b.x, b.allocations);
        await opts.commit?.(tx.sql, done);
        return done;
      },
      opts.signal ? { signal: opts.signal } : {},
    );
    for (const j of created) kernel.scored(j);
    opts.committed?.(settled);
    out.push(...settled);
    return { settled: settled.length, next };
  }

  return async (invoices, tenantId, opts = {}) => {
    const prepared = invoices.map((inv) => kernel.prepare(inv));
    const out: ChunkSettled[] = [];
    let early: Lookahead<Pre> | null = null;
    for (let from = 0; from < prepared.length;) {
      const group = nextGroup(prepared, from, opts.maxGroup ?? 100);
      const done: { settled: number; next: Lookahead<Pre> | null } = await scoreGroup(
        prepared,
        group,
        tenantId,
        opts,
        out,
        early,
      );
      from += done.settled;
      early = done.next;
    }
    return out;
  };
}
