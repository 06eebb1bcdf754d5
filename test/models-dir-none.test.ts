/**
 * `MODELS_DIR=none` (heuristics only) reads the shipped registry, `models/artifacts`, which is
 * part of the package: nothing may write it. `npm run models` refuses `register`,
 * `register-external` and `promote` (`TRIAGE_MODEL_REGISTRY_READ_ONLY`, exit code 2, the message
 * naming the setting) and the API answers promotions and retrain requests with a 409
 * problem+json naming it, queueing nothing. Reading the registry still works. Every shipped file
 * is byte for byte as before.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servedRegistry, wireModelsApi } from '../bin/models-api.js';
import { shippedModelsDir } from '../bin/models-dir.js';
import { modelsCommand } from '../bin/models.js';
import { packageRoot } from '../core/paths.js';
import { createInProcessQueue, createProcessors, type InProcessQueue, type TrainFn } from '../jobs/index.js';
import { servedFeatureSchemas } from '../models/served-schemas.js';
import { engines, TEST_DATABASE_URL, uniqueSchema } from './fixtures.js';
import { dropSchema, startHarness, type Harness } from './harness.js';
import { makeCardDraft, makeSpec } from './model-fixtures.js';

/** Every file under the shipped registry (lock and staging files included) with its sha256. */
async function shippedFiles(): Promise<Record<string, string>> {
  const root = shippedModelsDir();
  const out: Record<string, string> = {};
  for (const e of await readdir(root, { withFileTypes: true, recursive: true })) {
    const path = join(e.parentPath, e.name);
    out[relative(root, path)] = e.isFile()
      ? createHash('sha256')
          .update(await readFile(path))
          .digest('hex')
      : 'directory';
  }
  return out;
}

const NONE = { MODELS_DIR: 'none' };
let dir: string;
let before: Record<string, string>;
const schema = uniqueSchema('modelsnone');
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'models-none-'));
  before = await shippedFiles();
});
afterAll(async () => {
  // The shipped registry is byte for byte as it was, after every test of the file.
  expect(await shippedFiles()).toEqual(before);
  await rm(dir, { recursive: true, force: true });
  if (TEST_DATABASE_URL)
    await dropSchema({ engine: 'postgres', connectionString: TEST_DATABASE_URL, schema });
});

describe('npm run models with MODELS_DIR=none', () => {
  /** Store flags as an audited command takes them (the refusal comes before the store is opened). */
  const storeFlags = (): string[] =>
    TEST_DATABASE_URL
      ? ['--database-url', TEST_DATABASE_URL, '--schema', schema]
      : ['--data-dir', join(dir, 'store')];
  const cli = async (...args: string[]): Promise<string[]> => {
    const out: string[] = [];
    await modelsCommand((l) => out.push(l), false, NONE).parseAsync(args, { from: 'user' });
    return out;
  };

  it('refuses register, register-external and promote, naming the setting; list still reads the shipped registry', async () => {
    const served = servedFeatureSchemas()['coding-mismatch'];
    const spec = makeSpec({
      seed: 9,
      hidden: [8],
      featureNames: [...served.names],
      featureSchemaVersion: served.version!,
    });
    const run = join(dir, 'run');
    await mkdir(run, { recursive: true });
    await writeFile(join(run, 'spec.json'), JSON.stringify(spec));
    await writeFile(join(run, 'card.json'), JSON.stringify(makeCardDraft(spec, { prAuc: 0.5 })));
    const champion = (
      JSON.parse(await readFile(join(shippedModelsDir(), 'coding-mismatch', 'aliases.json'), 'utf8')) as {
        champion: string;
      }
    ).champion;
    const attempts = [
      ['register', 'coding-mismatch', '--from', run],
      ['register-external', 'coding-mismatch', join(run, 'spec.json'), '--card', join(run, 'card.json')],
      ['promote', 'coding-mismatch', champion, '--actor', 'ops', '--reason', 'drill', '--force'],
    ];
    for (const args of attempts)
      await expect(cli(...args, ...storeFlags()), args[0]).rejects.toMatchObject({
        code: 'TRIAGE_MODEL_REGISTRY_READ_ONLY',
        message: expect.stringMatching(/^MODELS_DIR=none: .*models\/artifacts.*set MODELS_DIR/),
      });
    const listed = JSON.parse((await cli('--json', 'list')).join('\n')) as {
      name: string;
      champion: string;
    }[];
    expect(listed.find((m) => m.name === 'coding-mismatch')?.champion).toBe(champion);
    expect(await shippedFiles()).toEqual(before);
  });

  it('exits with code 2 and the error on standard error', () => {
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        join(packageRoot(), 'bin', 'models.ts'),
        'promote',
        'duplicate',
        '1',
        '--actor',
        'ops',
        '--reason',
        'r',
      ],
      {
        cwd: packageRoot(),
        env: { PATH: process.env.PATH ?? '', ...NONE },
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^TRIAGE_MODEL_REGISTRY_READ_ONLY: MODELS_DIR=none: /);
    expect(r.stdout).toBe('');
  });
});

describe.each(engines('modelsnone'))('model routes with MODELS_DIR=none on $name', ({ config }) => {
  let h: Harness;
  let queue: InProcessQueue;
  const trained: string[] = [];
  const train: TrainFn = async (d) => {
    trained.push(d.task);
    return { task: d.task, version: `${d.task}@99`, metrics: {} };
  };
  beforeAll(async () => {
    h = await startHarness(config(), {
      app: (wired) => {
        queue = createInProcessQueue({
          processors: createProcessors({ scoring: wired.scoring, batches: wired.batches, train }),
          jobOptions: { attempts: 1 },
        });
        return {
          models: wireModelsApi({ registry: servedRegistry({ dir: null }), repo: wired.repo, queue }),
        };
      },
    });
  });
  afterAll(async () => {
    await h?.close();
    await queue?.close();
  });

  it('answers a promotion and a retrain request with 409 naming MODELS_DIR; nothing queued, audited or written', async () => {
    const promote = await h.call('ds', {
      method: 'POST',
      url: '/v1/models/coding-mismatch/promote',
      payload: { version: '1', reason: 'drill', force: true },
    });
    expect(promote).toBeProblem(409, 'TRIAGE_MODEL_REGISTRY_READ_ONLY');
    expect(promote.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(promote.json<{ detail: string }>().detail).toMatch(/^MODELS_DIR=none: /);
    const retrain = await h.call('ds', {
      method: 'POST',
      url: '/v1/models/coding-mismatch/train',
      payload: {},
    });
    expect(retrain).toBeProblem(409, 'TRIAGE_MODEL_REGISTRY_READ_ONLY');
    expect(retrain.json<{ detail: string }>().detail).toContain('MODELS_DIR');
    await queue.drained();
    expect(trained).toEqual([]);
    const listed = await h.call('auditor', { method: 'GET', url: '/v1/models' });
    expect(listed.statusCode).toBe(200);
    expect(listed.json<{ models: { name: string }[] }>().models.map((m) => m.name)).toContain(
      'coding-mismatch',
    );
    const audit = await h.call('auditor', { method: 'GET', url: '/v1/audit?limit=1000' });
    expect(
      audit.json<{ items: { kind: string }[] }>().items.filter((i) => i.kind.startsWith('model.')),
    ).toEqual([]);
    expect(await shippedFiles()).toEqual(before);
  });
});
