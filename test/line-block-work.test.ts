/**
 * The work of the line block (store/line-rebills.ts) is bounded per line: on a vendor whose every
 * earlier line is in the block of every new line (one code, one description), no step of the
 * statement's plan handles more rows at once than the earlier lines or the kept candidates
 * (`perLine` per new line), so its cost grows with lines x earlier lines only through per-line
 * bounded top-N searches, never through a sort or join of every pair. Both engines.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Invoice, InvoiceLine } from '../core/invoice.js';
import { BLOCKING_SPEC } from '../core/blocking.js';
import { lineRebillQuery } from '../inference/stages/line-rebills.js';
import { prepare } from '../inference/stages/prepare.js';
import {
  createRepository,
  openDatabase,
  vectorTransportOf,
  type SqlDatabase,
  type TriageRepository,
} from '../store/index.js';
import { lineBlockStatement, findEarlierLinesMany } from '../store/line-rebills.js';
import { decisionFor, engines, invoiceOfLines, keysOf } from './fixtures.js';
import { dropSchema } from './harness.js';

const TENANT = 'lbw';
const EARLIER = 40;
const LINES = 30;

const line = (n: number): InvoiceLine => ({
  line_number: n,
  description: 'Nebulizer, with compressor, for home use with tubing and mouthpiece',
  code: { system: 'HCPCS', value: 'E0570' },
  quantity: 1,
  unit_price_cents: 100,
  amount_cents: 100,
});

const invoice = (id: string, date: string, lines: number): Invoice =>
  invoiceOfLines(
    id,
    { id: 'V-LBW', name: 'Line Block Supply' },
    date,
    Array.from({ length: lines }, (_, i) => line(i + 1)),
  );

interface PlanNode {
  'Node Type': string;
  'Actual Rows': number;
  Plans?: PlanNode[];
}

const nodesOf = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodesOf)];

describe.each(engines('lbwork'))('line block work on $name', ({ config }) => {
  const cfg = config();
  let db: SqlDatabase;
  let repo: TriageRepository;
  beforeAll(async () => {
    db = await openDatabase(cfg);
    repo = createRepository(db);
    for (let k = 0; k < EARLIER; k++) {
      const date = new Date(Date.UTC(2025, 0, 2 + k * 5)).toISOString().slice(0, 10);
      const inv = invoice(`lbw-${k}`, date, 2);
      await repo.saveDecision(TENANT, inv, `h-${inv.invoice_id}`, keysOf(inv), decisionFor(inv));
    }
  }, 120_000);
  afterAll(async () => {
    await db?.close();
    await dropSchema(cfg);
  });

  it('keeps perLine candidates per line and never handles every pair at once', async () => {
    const q = lineRebillQuery(prepare(invoice('lbw-new', '2025-12-01', LINES)))!;
    const [found] = await findEarlierLinesMany(db, TENANT, [q]);
    // Every earlier line is in every new line's block; each line keeps its perLine best.
    expect(found!.length).toBe(LINES * BLOCKING_SPEC.lines.perLine);
    const { sql, params } = lineBlockStatement(TENANT, [q]);
    const [row] = await db.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params);
    const raw = row!['QUERY PLAN'];
    const plan = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { Plan: PlanNode }[];
    const nodes = nodesOf(plan[0]!.Plan);
    const earlierLines = EARLIER * 2;
    const bound = Math.max(earlierLines, LINES * BLOCKING_SPEC.lines.perLine);
    const widest = Math.max(...nodes.map((n) => n['Actual Rows']));
    expect(widest).toBeGreaterThanOrEqual(LINES * BLOCKING_SPEC.lines.perLine);
    // Every pair at once would be LINES x earlier lines = 2,400 rows.
    expect(widest).toBeLessThanOrEqual(bound);
  }, 120_000);

  it('searches a large set in statements of at most chunkLines lines with the same rows as one', async () => {
    const big = lineRebillQuery(prepare(invoice('lbw-big', '2025-12-01', LINES)))!;
    // lines out of number order, and a second query of another vendor with no earlier lines
    const shuffled = { ...big, lines: [...big.lines].reverse() };
    const other = {
      ...lineRebillQuery(prepare(invoice('lbw-other', '2025-12-01', 5)))!,
      vendorId: 'V-NONE',
      vendorKey: 'none',
    };
    const queries = [shuffled, other, big];
    const one = await findEarlierLinesMany(db, TENANT, queries, 10_000);
    const chunked = await findEarlierLinesMany(db, TENANT, queries, 7);
    expect(one[0]!.length).toBe(LINES * BLOCKING_SPEC.lines.perLine);
    expect(one[1]).toEqual([]);
    expect(chunked).toEqual(one);
    // The embeddings in pgvector's binary form find the same rows as pgvector literals.
    expect(await findEarlierLinesMany(db, TENANT, queries, 7, await vectorTransportOf(db))).toEqual(one);
    expect(chunked[0]!.map((r) => r.lineNumber)).toEqual(
      [...chunked[0]!.map((r) => r.lineNumber)].sort((a, b) => a - b),
    );
  }, 120_000);
});
