/**
 * Line matching on a public entity-resolution benchmark: the Amazon-Google product pairs of
 * DeepMatcher (train/valid/test, 234 matches in 2,293 test pairs; published F1: DeepMatcher
 * about 0.69-0.70, Ditto about 0.75).
 *
 * "The current line-matching path" is what the scoring pipeline computes for every invoice
 * line and compares across invoices (features/invoice-features.ts `extractLineFeatures`):
 *
 * 1. `line-embedding`: the cosine of the two lines' description embeddings (hashed char
 *    3/4-grams + words of the normalised description, recipe 1, 128 dims; the vector stored in
 *    `invoice_lines.embedding`), with the product title as the line description.
 * 2. `line-embedding+manufacturer`: the same with `manufacturer title` as the description.
 * 3. `match-key`: equality of the lines' match keys (code, else the first four stems, + amount
 *    in cents; the price as the amount), the key behind the pair comparison's line overlap.
 *
 * For comparison, `recipe-2 embedding` is the features issue's text embedding
 * (`features/embedding.ts` embedText: char 2-4-grams weighted by word IDF + word TF-IDF), which
 * the scoring path does not use yet, and `line-matcher` is the trained, calibrated
 * line-matching model of `matching/` (trained here on the train split, seeded).
 *
 * Protocol: each variant's threshold maximises F1 on the valid split and is then applied
 * unchanged to the test split. Similarities are not probabilities, so ECE is reported only for
 * the line matcher (in its card, `lineMatcher`).
 */
import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import Table from 'cli-table3';
import {
  loadAmazonGoogle,
  sharedErDir,
  type DeepMatcherPair,
  type PairSideRecord,
} from '../../datasets/er/index.js';
import { parseAmount } from '../../features/amount.js';
import { embedText } from '../../features/embedding.js';
import { cosine } from '../../features/hashing.js';
import { extractLineFeatures } from '../../features/invoice-features.js';
import type { InvoiceLine } from '../../core/invoice.js';
import {
  atThreshold,
  bestF1Threshold,
  prAuc,
  prCurve,
  rocAuc,
  type PrPoint,
  type Scored,
  type ThresholdMetrics,
} from './metrics.js';
import { thinCurve } from './harness.js';
import { fmt, prSpec, renderSvg } from './report.js';
import type { LineMatcherCard } from '../../matching/line-matcher.js';
import type { LabelledPair } from '../../matching/train.js';
import { MATCHER_SEED, sideRecords, trainMatcherScorer, withTestMetrics } from './er-matcher.js';

/** A way to score a pair of records (`S`: a product offer side, a match record) as the same item. */
export interface PairScorer<S = PairSideRecord> {
  name: string;
  description: string;
  /** In the scoring path today (true) or for comparison only (false). */
  current: boolean;
  /** A yes/no scorer's fixed operating threshold (no threshold is tuned for it). */
  fixedThreshold?: number;
  score(left: S, right: S): number;
}

/** Price text as integer cents (0 when absent or not an amount). */
function cents(text: string): number {
  try {
    return parseAmount(text, { decimalSeparator: '.' }).cents;
  } catch {
    return 0;
  }
}

/** A product record as an invoice line, the way an extracted supply line reaches the service. */
export function asLine(side: PairSideRecord, withManufacturer = false): InvoiceLine {
  const price = cents(side.priceText);
  const text =
    withManufacturer && side.manufacturer.trim() !== '' ? `${side.manufacturer} ${side.title}` : side.title;
  return {
    line_number: 1,
    description: text.trim() === '' ? '(no title)' : text.slice(0, 1000),
    quantity: 1,
    unit_price_cents: price,
    amount_cents: price,
  };
}

/** The pair scorers evaluated (see the module comment). */
export const PAIR_SCORERS: readonly PairScorer[] = [
  {
    name: 'line-embedding',
    description: 'cosine of the pipeline line embeddings of the titles (recipe 1)',
    current: true,
    score: (l, r) =>
      Math.max(0, cosine(extractLineFeatures(asLine(l)).embedding, extractLineFeatures(asLine(r)).embedding)),
  },
  {
    name: 'line-embedding+manufacturer',
    description: 'the same, manufacturer prepended to the title',
    current: true,
    score: (l, r) =>
      Math.max(
        0,
        cosine(
          extractLineFeatures(asLine(l, true)).embedding,
          extractLineFeatures(asLine(r, true)).embedding,
        ),
      ),
  },
  {
    name: 'match-key',
    description: 'equal line match keys (first four stems + amount), as in the line overlap',
    current: true,
    fixedThreshold: 1,
    score: (l, r) =>
      extractLineFeatures(asLine(l)).matchKey === extractLineFeatures(asLine(r)).matchKey ? 1 : 0,
  },
  {
    name: 'recipe-2 embedding',
    description: 'features/embedding.ts embedText of the titles (not yet in the scoring path)',
    current: false,
    score: (l, r) => Math.max(0, cosine(embedText(l.title), embedText(r.title))),
  },
];

/** Results of one scorer. */
export interface ErScorerReport {
  name: string;
  description: string;
  current: boolean;
  /** Chosen on valid (maximum F1), or the scorer's fixed threshold. */
  threshold: number;
  valid: ThresholdMetrics & { rocAuc: number; prAuc: number };
  test: ThresholdMetrics & { rocAuc: number; prAuc: number };
  /** Best F1 on test with a threshold chosen on test: an optimistic bound, not an estimate. */
  testOracleF1: number;
  testCurve: PrPoint[];
}

/** A line-matching evaluation (Amazon-Google, or any DeepMatcher-layout pair directory). */
export interface ErReport {
  /** `amazon-google (DeepMatcher splits)` or `pairs in <dir>`. */
  benchmark: string;
  pairs: { valid: number; test: number; validMatches: number; testMatches: number };
  /** Published test F1 of other matchers on the benchmark; null for a user's pairs. */
  published: { deepmatcher: string; ditto: string } | null;
  scorers: ErScorerReport[];
  /** Card of the line matcher trained for this evaluation, with its test metrics. */
  lineMatcher: LineMatcherCard | null;
}

/** A labelled pair of sides of type `S`. */
export interface SidePair<S> {
  left: S;
  right: S;
  label: 0 | 1;
}

function scored<S>(pairs: readonly SidePair<S>[], s: PairScorer<S>): Scored[] {
  return pairs.map((p) => ({ score: Math.min(1, s.score(p.left, p.right)), label: p.label }));
}

/** Each scorer's threshold chosen on `valid` (maximum F1, unless fixed) and applied to `test`. */
export function scoreScorers<S>(
  valid: readonly SidePair<S>[],
  test: readonly SidePair<S>[],
  scorers: readonly PairScorer<S>[],
): ErScorerReport[] {
  return scorers.map((s) => {
    const v = scored(valid, s);
    const t = scored(test, s);
    const best = s.fixedThreshold === undefined ? bestF1Threshold(v) : atThreshold(v, s.fixedThreshold);
    return {
      name: s.name,
      description: s.description,
      current: s.current,
      threshold: best.threshold,
      valid: { ...best, rocAuc: rocAuc(v), prAuc: prAuc(v) },
      test: { ...atThreshold(t, best.threshold), rocAuc: rocAuc(t), prAuc: prAuc(t) },
      testOracleF1: bestF1Threshold(t).f1,
      testCurve: thinCurve(prCurve(t)),
    };
  });
}

/** Counts of a report's `pairs` field. */
export function pairCounts(
  valid: readonly { label: 0 | 1 }[],
  test: readonly { label: 0 | 1 }[],
): ErReport['pairs'] {
  return {
    valid: valid.length,
    test: test.length,
    validMatches: valid.filter((p) => p.label === 1).length,
    testMatches: test.filter((p) => p.label === 1).length,
  };
}

/**
 * Evaluates every pair scorer on the DeepMatcher valid and test splits, and the line matcher
 * (`matching/`) trained on the train split with `seed` (threshold chosen on valid).
 * @param dir the `amazon_google` folder; default `<shared>/er/amazon_google`.
 * @param scorers the fixed scorers; `withMatcher: false` leaves the trained matcher out.
 * @throws Error when the shared folder is absent; TriageError when a file is malformed.
 */
export function evaluateAmazonGoogle(
  dir?: string,
  scorers: readonly PairScorer[] = PAIR_SCORERS,
  o: { seed?: number; withMatcher?: boolean } = {},
): ErReport {
  const er = sharedErDir();
  const folder = dir ?? (er ? join(er, 'amazon_google') : null);
  if (!folder)
    throw new Error('the shared datasets folder (../shared/datasets or /work/shared/datasets) is absent');
  const ag = loadAmazonGoogle(folder);
  const { train, valid, test } = ag.pairs;
  const all: PairScorer[] = [...scorers];
  let card: LineMatcherCard | null = null;
  if (o.withMatcher !== false) {
    const toRecord = sideRecords((s: PairSideRecord) => ({
      title: s.title,
      manufacturer: s.manufacturer,
      price: s.priceText,
    }));
    const asPairs = (ps: readonly DeepMatcherPair[]): LabelledPair[] =>
      ps.map((p) => ({ a: toRecord(p.left), b: toRecord(p.right), label: p.label }));
    const trained = trainMatcherScorer(asPairs(train), asPairs(valid), {
      seed: o.seed ?? MATCHER_SEED,
      trainedOn: 'amazon-google DeepMatcher train split (threshold and calibration on its valid split)',
    });
    all.push({ ...trained.scorer, score: (l, r) => trained.scorer.score(toRecord(l), toRecord(r)) });
    card = withTestMetrics(trained.spec.card, trained.scorer, asPairs(test), trained.spec.threshold);
  }
  return {
    benchmark: 'amazon-google (DeepMatcher splits)',
    pairs: pairCounts(valid, test),
    published: { deepmatcher: 'F1 about 0.69-0.70 (Hybrid)', ditto: 'F1 about 0.75' },
    scorers: scoreScorers(valid, test, all),
    lineMatcher: card,
  };
}

/** The results table. */
export function renderErTables(r: ErReport): string {
  const t = new Table({
    style: { head: [], border: [] },
    head: [
      'scorer',
      'in path',
      'thr (valid)',
      'valid F1',
      'test P',
      'test R',
      'test F1',
      'ROC-AUC',
      'PR-AUC',
      'test-tuned F1',
    ],
  });
  for (const s of r.scorers) {
    t.push([
      s.name,
      s.current ? 'yes' : 'no',
      fmt(s.threshold),
      fmt(s.valid.f1),
      fmt(s.test.precision),
      fmt(s.test.recall),
      fmt(s.test.f1),
      fmt(s.test.rocAuc),
      fmt(s.test.prAuc),
      fmt(s.testOracleF1),
    ]);
  }
  return [
    `${r.benchmark}: valid ${r.pairs.valid} pairs (${r.pairs.validMatches} matches), ` +
      `test ${r.pairs.test} pairs (${r.pairs.testMatches} matches); threshold = max F1 on valid, applied on test`,
    t.toString(),
    (r.published
      ? `Published test F1: DeepMatcher ${r.published.deepmatcher}; Ditto ${r.published.ditto}. `
      : '') + '"test-tuned F1" picks the threshold on test: an upper bound, not an estimate.',
  ].join('\n');
}

/**
 * Writes `er-report.json` and `er-report.html` (PR curves on test) into `dir`, and the trained
 * line matcher's card (with its test metrics) as `line-matcher-card.json` when there is one.
 */
export async function writeErReport(
  r: ErReport,
  dir: string,
): Promise<{ json: string; html: string; card: string | null }> {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, 'er-report.json');
  const html = join(dir, 'er-report.html');
  writeFileSync(json, JSON.stringify(r, null, 2) + '\n');
  const card = r.lineMatcher ? join(dir, 'line-matcher-card.json') : null;
  if (card) writeFileSync(card, JSON.stringify(r.lineMatcher, null, 2) + '\n');
  const published = r.published
    ? ` Published test F1: DeepMatcher ${r.published.deepmatcher}, Ditto ${r.published.ditto}.`
    : '';
  const names = r.scorers.map((s) => s.name);
  const svg = await renderSvg(
    prSpec(
      `${r.benchmark}, test pairs: precision-recall (diamond = threshold chosen on valid)`,
      r.scorers.flatMap((s) => s.testCurve.map((p) => ({ detector: s.name, ...p }))),
      r.scorers.map((s) => ({ detector: s.name, recall: s.test.recall, precision: s.test.precision })),
      names,
    ),
  );
  const rows = r.scorers
    .map(
      (s) =>
        `<tr><td>${s.name}</td><td>${s.description}</td><td>${s.current ? 'yes' : 'no'}</td><td>${fmt(s.threshold)}</td>` +
        `<td>${fmt(s.valid.f1)}</td><td>${fmt(s.test.precision)}</td><td>${fmt(s.test.recall)}</td><td><b>${fmt(s.test.f1)}</b></td>` +
        `<td>${fmt(s.test.rocAuc)}</td><td>${fmt(s.test.prAuc)}</td></tr>`,
    )
    .join('');
  writeFileSync(
    html,
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Line matching: ${r.benchmark}</title>` +
      `<style>body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px}table{border-collapse:collapse}` +
      `td,th{padding:.25rem .6rem;border-bottom:1px solid #eee;text-align:left}</style></head><body>` +
      `<h1>Line matching: ${r.benchmark}</h1><p>Test: ${r.pairs.test} pairs, ${r.pairs.testMatches} matches. ` +
      `Thresholds chosen on valid (${r.pairs.valid} pairs), applied on test.${published}</p>` +
      `${svg}<table><thead><tr><th>scorer</th><th>definition</th><th>in scoring path</th><th>threshold</th><th>valid F1</th>` +
      `<th>test P</th><th>test R</th><th>test F1</th><th>ROC-AUC</th><th>PR-AUC</th></tr></thead><tbody>${rows}</tbody></table></body></html>\n`,
  );
  return { json, html, card };
}
