/**
 * The shipped line-pair model on a generator seed it was not trained on (101; trained on 42):
 * issue 14's line-level target, recall of copied lines >= 0.8 with <= 1% of plain invoices
 * flagged, on a small draw with raised rates (every split, each its own history, the line block
 * and model evaluated in memory as served: `npm run line-pair -- eval` on the same directory).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateBenchmark } from '../datasets/benchmark/generator.js';
import { loadReferenceData } from '../datasets/reference.js';
import { shippedLinePairModel } from '../models/line-pair.js';
import { linePairFigures, type LinePairFigures } from './line-pair.js';
import { linePairInvoices } from './line-pairs.js';

let dir: string;
let figures: LinePairFigures;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'line-pair-seed101-'));
  await generateBenchmark({
    invoices: 2000,
    seed: 101,
    ratesScale: 4,
    out: dir,
    reference: loadReferenceData(),
  });
  const model = shippedLinePairModel();
  figures = linePairFigures(await linePairInvoices(dir), model.score, model.threshold);
}, 600_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('line-level duplicates on an unseen seed', () => {
  it('catches at least 0.8 of copied lines, naming the earlier invoice and line', () => {
    expect(figures.lines).toBeGreaterThanOrEqual(20);
    expect(figures.linesCaught / figures.lines, JSON.stringify(figures)).toBeGreaterThanOrEqual(0.8);
  });

  it('flags at most 1% of plain invoices', () => {
    expect(figures.plain).toBeGreaterThan(1000);
    expect(figures.plainFlagged / figures.plain, JSON.stringify(figures)).toBeLessThanOrEqual(0.01);
  });
});
