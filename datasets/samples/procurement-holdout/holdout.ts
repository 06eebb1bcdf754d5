/**
 * The hand-built procurement hold-out set (README.md beside this file): reads its files, runs
 * every case through the HTTP API (vendor profiles, one ERP load, then each invoice scored in
 * file order) and judges each decision against the case's expected outcome. Used by
 * `test/procurement-holdout.test.ts` and `scripts/procurement-holdout.ts`.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REASON_CODES, type DecisionResponse } from '../../../core/decision.js';
import type { ErpLoad } from '../../../core/erp.js';
import type { Invoice } from '../../../core/invoice.js';

/** Folder of the set's data files. */
export const HOLDOUT_DIR = dirname(fileURLToPath(import.meta.url));

/** The reason codes of the `procurement` queue, from the reason catalog. */
export const PROCUREMENT_CODES: ReadonlySet<string> = new Set(
  Object.entries(REASON_CODES)
    .filter(([, r]) => r.queue === 'procurement')
    .map(([code]) => code),
);

/** Kinds whose cases must be clean (no procurement reason). */
export const CLEAN_KINDS: ReadonlySet<string> = new Set(['hard_negative', 'clean_setup']);

/** A vendor of the set (`vendors.json`); loaded as a vendor profile. */
export interface HoldoutVendor {
  vendor_id: string;
  name: string;
  category: string;
}

/** One line of `cases.jsonl`: an invoice and what the service must answer. */
export interface HoldoutCase {
  /** Unique id; the two invoices of a multi-invoice case end in `a` and `b`. */
  case_id: string;
  /** Exception kind (e.g. `price_above_po`), `hard_negative`, or `clean_setup` (an earlier invoice a later case builds on). */
  kind: string;
  /** Procurement reason codes the decision must carry, or `clean` (none at all). */
  expected: string[] | 'clean';
  /** Further procurement codes that are not an error on this case (they may fire besides the expected ones). */
  also_acceptable?: string[];
  /** Per invoice line number: exactly the procurement codes that line must carry. */
  expected_lines?: Record<string, string[]>;
  /** One line: why the expected outcome is right. */
  rationale: string;
  invoice: Invoice;
}

/** The whole set. */
export interface Holdout {
  vendors: HoldoutVendor[];
  erp: ErpLoad;
  cases: HoldoutCase[];
}

/** Reads the set from `dir` (default the folder of this module). @throws on a missing or malformed file. */
export function loadHoldout(dir: string = HOLDOUT_DIR): Holdout {
  const read = (f: string): string => readFileSync(join(dir, f), 'utf8');
  return {
    vendors: JSON.parse(read('vendors.json')) as HoldoutVendor[],
    erp: JSON.parse(read('erp.json')) as ErpLoad,
    cases: read('cases.jsonl')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as HoldoutCase),
  };
}

/** The service's answer on one case, judged. */
export interface CaseResult {
  case_id: string;
  kind: string;
  /** Procurement codes the decision carries (invoice reasons and line reason codes), sorted. */
  got: string[];
  decision: string;
  queue: string | null;
  /** Any procurement code fired. */
  flagged: boolean;
  /** Every expected code fired (for clean cases: nothing fired). */
  caught: boolean;
  /** Expected codes that did not fire. */
  missing: string[];
  /** Codes that fired but are neither expected nor acceptable. */
  unexpected: string[];
  /** Per invoice line: the PO lines it was aligned to and the match score (the service's evidence). */
  alignment: { line_number: number; po_line_numbers: number[]; match_score: number }[];
  /** Per-line disagreements with `expected_lines`, e.g. `line 2: got [] want [PRICE_ABOVE_PO]`. */
  line_errors: string[];
  /** The case passes: caught, nothing unexpected, lines as expected. */
  pass: boolean;
}

/** Judges a decision against a case. */
export function judge(c: HoldoutCase, d: DecisionResponse): CaseResult {
  const byLine = new Map<number, Set<string>>();
  for (const l of d.procurement?.lines ?? []) {
    byLine.set(l.line_number, new Set(l.reason_codes.filter((x) => PROCUREMENT_CODES.has(x))));
  }
  const got = new Set<string>(d.reasons.map((r) => r.code).filter((x) => PROCUREMENT_CODES.has(x)));
  for (const s of byLine.values()) for (const x of s) got.add(x);
  const expected = c.expected === 'clean' ? [] : c.expected;
  const allowed = new Set([...expected, ...(c.also_acceptable ?? [])]);
  const missing = expected.filter((x) => !got.has(x));
  const unexpected = [...got].filter((x) => !allowed.has(x)).sort();
  const line_errors: string[] = [];
  for (const [ln, want] of Object.entries(c.expected_lines ?? {})) {
    const have = [...(byLine.get(Number(ln)) ?? [])].sort();
    const w = [...want].sort();
    if (have.join() !== w.join()) line_errors.push(`line ${ln}: got [${have.join()}] want [${w.join()}]`);
  }
  const caught = c.expected === 'clean' ? got.size === 0 : missing.length === 0;
  return {
    case_id: c.case_id,
    kind: c.kind,
    got: [...got].sort(),
    decision: d.decision,
    queue: d.queue ?? null,
    flagged: got.size > 0,
    caught,
    missing,
    unexpected,
    alignment: (d.procurement?.lines ?? []).map((l) => ({
      line_number: l.line_number,
      po_line_numbers: l.po_line_numbers,
      match_score: l.match_score,
    })),
    line_errors,
    pass: caught && unexpected.length === 0 && line_errors.length === 0,
  };
}

/** One HTTP call through the app (e.g. `app.inject`) with the key of a role. */
export type HoldoutCall = (
  role: 'admin' | 'erp' | 'workflow',
  method: 'PUT' | 'POST',
  url: string,
  payload: unknown,
) => Promise<{ statusCode: number; body: string }>;

/**
 * Loads the vendors and the ERP data, scores every invoice in file order and judges each.
 * @throws when a load or a scoring call does not answer 2xx (the body is in the message).
 */
export async function runHoldout(call: HoldoutCall, set: Holdout = loadHoldout()): Promise<CaseResult[]> {
  const ok = async (role: Parameters<HoldoutCall>[0], method: 'PUT' | 'POST', url: string, body: unknown) => {
    const r = await call(role, method, url, body);
    if (r.statusCode < 200 || r.statusCode > 299)
      throw new Error(`${method} ${url}: ${r.statusCode} ${r.body}`);
    return r.body;
  };
  for (const v of set.vendors) {
    await ok('admin', 'PUT', `/v1/vendors/${v.vendor_id}`, {
      name: v.name,
      approved_betos: [],
      approved_hcpcs_prefixes: [],
    });
  }
  await ok('erp', 'POST', '/v1/erp/load', set.erp);
  const results: CaseResult[] = [];
  for (const c of set.cases) {
    const body = await ok('workflow', 'POST', '/v1/invoices/score', c.invoice);
    results.push(judge(c, JSON.parse(body) as DecisionResponse));
  }
  return results;
}

/** Per kind: cases, how many any procurement reason flagged, how many carried every expected code. */
export interface KindSummary {
  kind: string;
  n: number;
  flagged: number;
  /** Exception kinds: cases with every expected code; clean kinds: cases with no procurement code. */
  caught: number;
  /** caught / n: recall for an exception kind, 1 - flag rate for a clean kind. */
  rate: number;
}

/** Summarises results per kind, exception kinds first (file order), then the clean kinds. */
export function summarise(results: CaseResult[]): KindSummary[] {
  const by = new Map<string, KindSummary>();
  for (const r of results) {
    const s = by.get(r.kind) ?? { kind: r.kind, n: 0, flagged: 0, caught: 0, rate: 0 };
    s.n++;
    if (r.flagged) s.flagged++;
    if (r.caught) s.caught++;
    s.rate = s.caught / s.n;
    by.set(r.kind, s);
  }
  const all = [...by.values()];
  return [...all.filter((s) => !CLEAN_KINDS.has(s.kind)), ...all.filter((s) => CLEAN_KINDS.has(s.kind))];
}

/** A plain-text report: per-kind recall, the hard-negative flag rate, and every failing case. */
export function formatReport(results: CaseResult[]): string {
  const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;
  const out = ['kind                              n   flagged  own-reason recall / clean rate'];
  for (const s of summarise(results)) {
    const label = CLEAN_KINDS.has(s.kind)
      ? `flag rate ${pct(s.flagged / s.n)}`
      : `recall ${pct(s.rate)} (${s.caught}/${s.n})`;
    out.push(`${s.kind.padEnd(32)} ${String(s.n).padStart(3)}  ${String(s.flagged).padStart(7)}  ${label}`);
  }
  const failing = results.filter((r) => !r.pass);
  out.push('', `${results.length - failing.length} of ${results.length} cases pass`);
  for (const r of failing) {
    const why = [
      r.missing.length ? `missing ${r.missing.join(',')}` : '',
      r.unexpected.length ? `unexpected ${r.unexpected.join(',')}` : '',
      ...r.line_errors,
    ].filter(Boolean);
    const aligned = r.alignment
      .map((a) => `${a.line_number}->[${a.po_line_numbers.join(',')}] ${a.match_score.toFixed(3)}`)
      .join(' ');
    out.push(
      `  ${r.case_id} (${r.kind}): ${r.decision} [${r.got.join(',')}] ${why.join('; ')}; aligned ${aligned}`,
    );
  }
  return out.join('\n');
}
