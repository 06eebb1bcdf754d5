import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from 'commander';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { outputFile, positiveInt, workerCount } from './cli-args.js';
import { importHistoryStream } from '../inference/history.js';
import type { HistoryStore } from '../store/history.js';

describe('positiveInt', () => {
  it('reads decimal positive integers', () => {
    expect(['1', '2', '500', '9007199254740991'].map(positiveInt)).toEqual([1, 2, 500, 9007199254740991]);
  });

  it.each([
    '',
    ' ',
    'foo',
    '--defer-index',
    '0',
    '-5',
    '1.5',
    '1e3',
    '0x10',
    '0b1',
    '0o7',
    ' 5',
    '07',
    '9007199254740993',
  ])('refuses %j', (v) => {
    expect(() => positiveInt(v)).toThrow(InvalidArgumentError);
    expect(() => positiveInt(v)).toThrow('must be a positive integer');
  });
});

describe('importHistoryStream bounds', () => {
  // Nothing may be read or written when the bounds are wrong: the store throws if it is used.
  const store = new Proxy({} as HistoryStore, {
    get: () => {
      throw new Error('store used');
    },
  });
  const opts = { actorKeyId: null, onBadRecord: 'refuse' as const };

  it.each([Number.NaN, 0, -2, 1.5])('refuses parallel %s', async (parallel) => {
    await expect(importHistoryStream(store, 't', [], { ...opts, parallel })).rejects.toThrow(
      new RangeError(`parallel must be a positive integer, got ${parallel}`),
    );
  });

  it.each([Number.NaN, 0, -5])('refuses chunkSize %s', async (chunkSize) => {
    await expect(importHistoryStream(store, 't', [], { ...opts, chunkSize })).rejects.toThrow(RangeError);
  });

  it('imports nothing from an empty source with sound bounds', async () => {
    await expect(
      importHistoryStream(store, 't', [], { ...opts, parallel: 2, chunkSize: 3 }),
    ).resolves.toEqual({
      records: 0,
      imported: 0,
      skipped: 0,
      invalid: [],
    });
  });
});

describe('--workers', () => {
  it('takes 0 up to the cores and refuses more, naming the limit', () => {
    expect(workerCount('0', 2)).toBe(0);
    expect(workerCount('2', 2)).toBe(2);
    expect(() => workerCount('99', 2)).toThrow(InvalidArgumentError);
    expect(() => workerCount('99', 2)).toThrow('must be at most 2 (the cores of this machine).');
    expect(() => workerCount('-1', 2)).toThrow('must be 0 or a positive integer.');
  });
});

describe('outputFile', () => {
  it('takes a file in an existing directory, whether or not the file exists', () => {
    const dir = mkdtempSync(join(tmpdir(), 'out-'));
    expect(outputFile(join(dir, 'decisions.jsonl'))).toBe(join(dir, 'decisions.jsonl'));
  });

  it('refuses a file whose directory is missing or is a file, naming the directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'out-'));
    expect(() => outputFile(join(dir, 'missing', 'd.jsonl'))).toThrow(
      new InvalidArgumentError(`its directory ${join(dir, 'missing')} does not exist.`),
    );
    writeFileSync(join(dir, 'f'), '');
    expect(() => outputFile(join(dir, 'f', 'd.jsonl'))).toThrow(`${join(dir, 'f')} is not a directory.`);
  });
});
