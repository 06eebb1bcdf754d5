import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assertModelCardDraft, assertModelSpec } from '../models/spec.js';
import { runTrain, trainCommand, type TrainCliOptions } from './cli.js';
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
