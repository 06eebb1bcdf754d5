/**
 * A coding model trained on an earlier line vector keeps serving after features are added:
 * `coding-mismatch@4` (line revision 3, 51 features) is served today's vector restricted to its
 * own features and decides the golden fixture's first invoices exactly as recorded with it
 * (the recorded feature schema version aside, which names today's vectors).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  goldenDecisions,
  goldenDifferences,
  readGzipJson,
  readGzipLines,
  type GoldenInput,
} from '../bin/golden-decisions.js';
import { shippedModelsDir } from '../bin/bootstrap.js';
import { earlierVectorVersions } from '../features/schema.js';

const golden = fileURLToPath(new URL('./golden/', import.meta.url));
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A copy of the shipped registry with `version` as the coding champion. */
function registryWithCodingChampion(version: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'coding-earlier-'));
  dirs.push(dir);
  cpSync(shippedModelsDir(), dir, { recursive: true });
  const file = join(dir, 'coding-mismatch', 'aliases.json');
  const aliases = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  writeFileSync(file, JSON.stringify({ ...aliases, champion: version, challenger: null }, null, 2));
  return dir;
}

describe('coding-mismatch@4 on the current line vector', () => {
  it('is an earlier line version whose features are a subset of today’s', () => {
    const card = JSON.parse(
      readFileSync(join(shippedModelsDir(), 'coding-mismatch', '4', 'card.json'), 'utf8'),
    ) as { featureSchemaVersion: string; featureNames: string[] };
    const [rev3] = earlierVectorVersions('line');
    expect(rev3).toEqual({
      edition: 3,
      version: card.featureSchemaVersion,
      accepted: [],
      names: card.featureNames,
    });
    expect(card.featureNames).toHaveLength(51);
  });

  it('loads and decides the first golden invoices exactly as recorded', async () => {
    const n = 40;
    const input = readGzipJson<GoldenInput>(`${golden}input.json.gz`);
    const expected = readGzipLines(`${golden}decisions.jsonl.gz`).slice(0, n);
    const errors: unknown[] = [];
    const actual = await goldenDecisions(
      { ...input, invoices: input.invoices.slice(0, n) },
      { models: { dir: registryWithCodingChampion('4'), reloadMs: null, onError: (e) => errors.push(e) } },
    );
    expect(errors).toEqual([]);
    expect(actual.every((l) => l.includes('"coding-mismatch":"coding-mismatch@4"'))).toBe(true);
    expect(actual.some((l) => /"coding_mismatch":0\.\d*[1-9]/.test(l))).toBe(true);
    expect(goldenDifferences(expected, actual).map((d) => d.index)).toEqual([]);
  }, 300_000);
});
