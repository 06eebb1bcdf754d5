/**
 * The review load re-measured on the two unseen seeds README quotes, as `npm run gen:benchmark --
 * --invoices 4000 --seed S` then `npm run eval -- --data DIR --split test --detector current`
 * measure it: each seed's 600-invoice test split scored in submission order through the real
 * service (embedded engine, shipped champions, the certified default policy). Asserts the issue's
 * bound on clean invoices sent to people (<= 33 per 1,000 clean, the bound README's `npm run eval
 * -- --max-review-load 33` checks), the decision's promise observed on that split (exceptions
 * among AUTO_APPROVE <= 0.5%, clean among HOLD <= 10%) and the figures README's "The decision's
 * guarantee" states for the seed (the served default's rows for seeds 101 and 202). Each seed
 * costs about 40-80 CPU-seconds (generation, 600 invoices scored on PGlite); seed 202 alone took
 * 80 CPU-s, 19 minutes of wall time at a load of 15-27 on 2 cores, hence the long timeout.
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

/**
 * README's served-default rows per unseen seed: [exceptions, invoices] among AUTO_APPROVE,
 * [clean, invoices] among HOLD, clean invoices sent to people (count, and per 1,000 clean).
 */
const SEEDS = [
  { seed: 101, approved: [2, 542], held: [3, 53], cleanToPeople: 3, perThousandClean: 5.5 },
  { seed: 202, approved: [1, 534], held: [3, 65], cleanToPeople: 3, perThousandClean: 5.6 },
];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'review-load-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.each(SEEDS)('review load on unseen seed $seed', (expected) => {
  it('sends <= 33 clean invoices per 1,000 clean to people; the promise and README figures hold', async () => {
    const out = join(dir, `bench-${expected.seed}`);
    const gen = await generateBenchmark({ invoices: 4000, seed: expected.seed, out });
    expect(gen.card.splits.test.invoices).toBe(600);
    const detector = await serviceDetector({ store: { engine: 'pglite' }, dataDir: out });
    const report = await evaluate(out, [detector], { split: 'test' });
    const g = report.detectors[0]!.guarantee!;
    const figures = {
      approved: [g.autoApprove.errors, g.autoApprove.invoices],
      held: [g.hold.errors, g.hold.invoices],
      cleanToPeople: g.reviewLoad.cleanToPeople,
      perThousandClean: Number(g.reviewLoad.perThousandClean.toFixed(1)),
    };
    expect(g.reviewLoad.invoices).toBe(600);
    expect(g.reviewLoad.perThousandClean, JSON.stringify(figures)).toBeLessThanOrEqual(REVIEW_LOAD_BOUND);
    expect(g.autoApprove.rate).toBeLessThanOrEqual(DECISION_PROMISE.autoApprove);
    expect(g.autoApprove.pass).toBe(true);
    expect(g.hold.rate).toBeLessThanOrEqual(DECISION_PROMISE.hold);
    expect(g.hold.pass).toBe(true);
    // README, "The decision's guarantee", served default now: this seed's rows.
    const { seed: _seed, ...readme } = expected;
    expect(figures).toEqual(readme);
  }, 1_800_000);
});
