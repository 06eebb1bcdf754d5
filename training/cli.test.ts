import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assertModelCardDraft, assertModelSpec } from '../models/spec.js';
import { shippedModelsDir } from '../bin/models-dir.js';
import { ModelRegistry } from '../models/registry.js';
import { servedFeatureSchemas } from '../models/served-schemas.js';
import { runTrain, trainCommand, withChampionRecipe, type TrainCliOptions } from './cli.js';
import type { Detector } from './eval/detector.js';
import { invoiceKeys, type FeatureProvider } from './features.js';
import { syntheticBenchmark } from './synthetic.js';

/** Line features: unit price in dollars and quantity (line 2 of an exception is overpriced). */
const provider: FeatureProvider = {
  schemaVersions: { line: 'fs-cli-test', pair: 'fs-cli-test' },
  lineFeatureNames: ['unit_price_dollars', 'quantity'],
  pairFeatureNames: ['same_vendor'],
  lineVectors: (inv) =>
    inv.lines.map((l) => ({ lineNumber: l.line_number, x: [l.unit_price_cents / 100, l.quantity] })),
  keys: invoiceKeys,
  pairVector: (a, b) => [a.vendor.id === b.vendor.id ? 1 : 0],
};

const dir = mkdtempSync(join(tmpdir(), 'train-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const data = join(dir, 'bench');
mkdirSync(data);
// one file per split, as the benchmark generator writes them (the harness reads test.jsonl)
const records = syntheticBenchmark(3000, 9);
for (const split of ['train', 'valid', 'test'] as const)
  writeFileSync(
    join(data, `${split}.jsonl`),
    records
      .filter((r) => r.label.split === split)
      .map((r) => JSON.stringify(r))
      .join('\n'),
  );

const base: TrainCliOptions = {
  model: 'coding-mismatch',
  data,
  seed: 7,
  targetError: 0.02,
  holdError: 0.2,
  delta: 0.1,
  reviewWeight: 3,
  epochs: 3,
  k: 10,
  progress: false,
};

describe('train CLI', () => {
  it('writes spec, card and report; the same seed reproduces the same spec and metrics', async () => {
    const logs: string[] = [];
    let closes = 0;
    const constant: Detector = {
      name: 'constant',
      version: 'c@1',
      tasks: { duplicate: false, coding: true },
      thresholds: { duplicate: 1, coding: 0.5 },
      async *run(invoices) {
        for await (const inv of invoices)
          yield { invoiceId: inv.invoice_id, duplicateScore: 0, duplicateOf: null, lines: [] };
      },
      close: () => {
        if (++closes > 1) throw new Error('closed twice');
        return Promise.resolve();
      },
    };
    const a = await runTrain(
      { ...base, out: join(dir, 'a') },
      {
        provider: () => ({ provider }),
        baselines: () => Promise.resolve([constant]),
        log: (l) => logs.push(l),
      },
    );
    expect(closes).toBe(1);
    const b = await runTrain(
      { ...base, out: join(dir, 'b'), evalReport: false },
      { provider: () => ({ provider }), log: () => {} },
    );
    const read = (run: string, f: string): unknown => JSON.parse(readFileSync(join(dir, run, f), 'utf8'));
    const spec = assertModelSpec(read('a', 'spec.json'));
    const card = assertModelCardDraft(read('a', 'card.json'));
    expect(read('b', 'spec.json')).toEqual(spec);
    expect((read('b', 'card.json') as typeof card).metrics).toEqual(card.metrics);
    expect(card.featureSchemaVersion).toBe('fs-cli-test');
    expect(card.labels.benchmark.files.map((f) => f.path)).toEqual([
      'test.jsonl',
      'train.jsonl',
      'valid.jsonl',
    ]);
    expect(card.metrics.test[1]!.rocAuc!).toBeGreaterThan(0.9);
    expect(card.thresholds.autoApprove.feasible).toBe(true);
    expect(a.card.metrics).toEqual(card.metrics);
    expect(b.outDir).toBe(join(dir, 'b'));
    expect(logs.join('\n')).toMatch(/ROC-AUC/);
    expect(
      (read('a', 'report.json') as { curves: { prInvoice: unknown[] } }).curves.prInvoice.length,
    ).toBeGreaterThan(0);
  });

  it('rejects an unknown model and a bad rate before doing any work', async () => {
    const cmd = trainCommand({ provider: () => ({ provider }), log: () => {} })
      .exitOverride()
      .configureOutput({ writeErr: () => {} });
    await expect(cmd.parseAsync(['--model', 'fraud', '--data', data], { from: 'user' })).rejects.toThrow(
      /fraud/,
    );
    await expect(
      cmd.parseAsync(['--model', 'duplicate', '--data', data, '--target-error', '2'], { from: 'user' }),
    ).rejects.toThrow(/target-error/);
    const args = (...more: string[]) => ['--model', 'duplicate', '--data', data, ...more];
    await expect(cmd.parseAsync(args('--label-sources', 'reviewer,crm'), { from: 'user' })).rejects.toThrow(
      /--label-sources: crm is not one of reviewer, audit_sample, erp/,
    );
    await expect(cmd.parseAsync(args('--label-sources', 'erp,erp'), { from: 'user' })).rejects.toThrow(
      /repeated/,
    );
    await expect(cmd.parseAsync(args('--label-weight', 'erp=0'), { from: 'user' })).rejects.toThrow(
      /--label-weight: want/,
    );
    await expect(cmd.parseAsync(args('--label-weight', 'erp'), { from: 'user' })).rejects.toThrow(
      /--label-weight: want/,
    );
  });

  it('parses label provenance filters and weights (repeatable)', () => {
    const cmd = trainCommand({ provider: () => ({ provider }), log: () => {} });
    cmd.parseOptions([
      '--label-sources',
      'reviewer,erp',
      '--label-weight',
      'erp=0.5',
      '--label-weight',
      'audit_sample=4',
    ]);
    expect(cmd.opts()).toMatchObject({
      labelSources: ['reviewer', 'erp'],
      labelWeight: { erp: 0.5, audit_sample: 4 },
    });
  });
});

describe("train CLI: the served champion's recipe by default", () => {
  const shipped = new ModelRegistry({ root: shippedModelsDir(), featureSchemas: servedFeatureSchemas() });
  const duplicate: TrainCliOptions = { ...base, model: 'duplicate', epochs: undefined };

  it("takes the shipped champion duplicate@5's whole recipe when no recipe option is given", async () => {
    const { options, recipeOf } = await withChampionRecipe(duplicate, shipped);
    expect(recipeOf).toBe('duplicate@5');
    expect(options).toEqual({
      ...duplicate,
      architectures: ['monotone-mixed-mlp-16-8-x2'],
      vectorEdition: 4,
      hardNegativeWeight: 5,
      approveGridPoints: 400,
    });
    expect(options.seed).toBe(7); // the run's own seed, not the champion's
    const coding = await withChampionRecipe(base, shipped);
    expect(coding.recipeOf).toBe('coding-mismatch@4');
    expect(coding.options.vectorEdition).toBe(3);
  });

  it('keeps the options as given when any recipe option is, without a registry, or without a champion', async () => {
    for (const given of [
      { architectures: ['mlp-16-8'] },
      { vectorEdition: 4 },
      { hardNegativeWeight: 2 },
      { approveGridPoints: 60 },
      { gridLogitStep: 0.1 },
    ]) {
      const o = { ...duplicate, ...given };
      expect(await withChampionRecipe(o, shipped), JSON.stringify(given)).toEqual({
        options: o,
        recipeOf: null,
      });
    }
    expect(await withChampionRecipe(duplicate, null)).toEqual({ options: duplicate, recipeOf: null });
    const empty = new ModelRegistry({
      root: join(dir, 'empty-registry'),
      featureSchemas: servedFeatureSchemas(),
    });
    expect(await withChampionRecipe(duplicate, empty)).toEqual({ options: duplicate, recipeOf: null });
  });

  it("the command trains with the recipe of --registry (default the deps' registry), and none gives the defaults", async () => {
    /** A feature provider that stops the run, telling the vector edition the command asked for. */
    const stop = (ctx: { editions?: Record<string, number> }): never => {
      throw new Error(`editions ${JSON.stringify(ctx.editions ?? {})}`);
    };
    const run = async (registryRoot: string | undefined, ...more: string[]) => {
      const logs: string[] = [];
      const cmd = trainCommand({
        provider: stop,
        log: (l) => logs.push(l),
        ...(registryRoot ? { registryRoot } : {}),
      });
      const args = ['--model', 'duplicate', '--data', data, '--no-progress', ...more];
      const error = await cmd.parseAsync(args, { from: 'user' }).then(
        () => null,
        (e: Error) => e.message,
      );
      return { error, logs };
    };
    const served = await run(shippedModelsDir());
    expect(served.error).toBe('editions {"pair":4}');
    expect(served.logs[0]).toMatch(
      /^training with the recipe of the champion duplicate@5 \(.*models\/artifacts\): /,
    );
    expect(served.logs[0]).toContain('architectures monotone-mixed-mlp-16-8-x2');
    expect((await run(undefined, '--registry', shippedModelsDir())).error).toBe('editions {"pair":4}');
    for (const r of [await run(shippedModelsDir(), '--registry', 'none'), await run(undefined)]) {
      expect(r.error).toBe('editions {}');
      expect(r.logs.some((l) => l.includes('recipe of the champion'))).toBe(false);
    }
  });
});
