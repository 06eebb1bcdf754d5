/**
 * The review load re-measured on an unseen seed, as `npm run gen:benchmark -- --invoices 4000
 * --seed 101` then `npm run eval -- --data DIR --split test --detector current` measure it:
 * seed 101's 600-invoice test split scored in submission order through the real service (embedded
 * engine, shipped champions, the certified default policy). Asserts the issue's bound on clean
 * invoices sent to people (<= 33 per 1,000 clean), the decision's promise observed on that split
 * (exceptions among AUTO_APPROVE <= 0.5%, clean among HOLD <= 10%) and the figures README's "The
 * decision's guarantee" states for seed 101 (2 of 542 approved are exceptions, 1 of 50 held is
 * clean, 5.5 clean invoices per 1,000 clean sent to people).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceDetector } from '../bin/service-detector.js';
import { generateBenchmark } from '../datasets/benchmark/generator.js';
import { DECISION_PROMISE } from '../training/eval/guarantee.js';
import { evaluate } from '../training/eval/harness.js';

/** The target for every unseen seed: clean invoices sent to people per 1,000 clean. */
const REVIEW_LOAD_BOUND = 33;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'review-load-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('review load on an unseen seed (101)', () => {
  it('sends <= 33 clean invoices per 1,000 clean to people; the promise and README figures hold', async () => {
    const out = join(dir, 'bench-101');
    const gen = await generateBenchmark({ invoices: 4000, seed: 101, out });
    expect(gen.card.splits.test.invoices).toBe(600);
    const detector = await serviceDetector({ store: { engine: 'pglite' }, dataDir: out });
    const report = await evaluate(out, [detector], { split: 'test' });
    const g = report.detectors[0]!.guarantee!;
    const figures = {
      approved: [g.autoApprove.errors, g.autoApprove.invoices],
      held: [g.hold.errors, g.hold.invoices],
      cleanToPeople: [g.reviewLoad.cleanToPeople, g.reviewLoad.clean],
      perThousandClean: Number(g.reviewLoad.perThousandClean.toFixed(1)),
    };
    expect(g.reviewLoad.invoices).toBe(600);
    expect(g.reviewLoad.perThousandClean, JSON.stringify(figures)).toBeLessThanOrEqual(REVIEW_LOAD_BOUND);
    expect(g.autoApprove.rate).toBeLessThanOrEqual(DECISION_PROMISE.autoApprove);
    expect(g.autoApprove.pass).toBe(true);
    expect(g.hold.rate).toBeLessThanOrEqual(DECISION_PROMISE.hold);
    expect(g.hold.pass).toBe(true);
    // README, "The decision's guarantee", served default now: seed 101's row.
    expect(figures).toEqual({
      approved: [2, 542],
      held: [1, 50],
      cleanToPeople: [3, g.reviewLoad.clean],
      perThousandClean: 5.5,
    });
  }, 600_000);
});
