import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isTriageError, type TriageError } from '../core/errors.js';
import { packageRoot } from '../core/paths.js';
import { servedFeatureSchemas } from '../models/served-schemas.js';
import { TEST_DATABASE_URL, uniqueSchema } from '../test/fixtures.js';
import { dropSchema } from '../test/harness.js';
import { makeCardDraft, makeEvaluation, makeSpec } from '../test/model-fixtures.js';
import { modelsCommand } from './models.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'models-cli-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * Commands that change the registry are audited in a store: a PostgreSQL schema of its own when
 * TEST_DATABASE_URL is set, else an embedded store in the test's directory.
 */
const AUDITED = new Set(['register', 'register-external', 'promote']);
const schema = uniqueSchema('modelscli');
const storeFlags = (): string[] =>
  TEST_DATABASE_URL
    ? ['--database-url', TEST_DATABASE_URL, '--schema', schema]
    : ['--data-dir', join(dir, 'store')];
afterAll(async () => {
  if (TEST_DATABASE_URL)
    await dropSchema({ engine: 'postgres', connectionString: TEST_DATABASE_URL, schema });
});

async function run(...args: string[]): Promise<string[]> {
  const out: string[] = [];
  const store = AUDITED.has(args[0]!) ? storeFlags() : [];
  await modelsCommand((l) => out.push(l)).parseAsync(['--root', join(dir, 'artifacts'), ...args, ...store], {
    from: 'user',
  });
  return out;
}

/** Writes a training run's outputs (spec.json, card.json) as `npm run train` does. */
async function trainingRun(name: string, seed: number, prAuc: number): Promise<string> {
  const served = servedFeatureSchemas()['coding-mismatch'];
  const spec = makeSpec({
    seed,
    hidden: [8],
    featureNames: [...served.names],
    featureSchemaVersion: served.version!,
  });
  const out = join(dir, name);
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'spec.json'), JSON.stringify(spec));
  await writeFile(join(out, 'card.json'), JSON.stringify(makeCardDraft(spec, { prAuc })));
  await writeFile(join(out, 'evaluation.json'), JSON.stringify(makeEvaluation(prAuc)));
  return out;
}

describe('npm run models', () => {
  it('registers training runs, lists them, refuses a worse promotion and records a forced one', async () => {
    const a = await trainingRun('run-a', 1, 0.8);
    const b = await trainingRun('run-b', 2, 0.7);
    const reg = await run(
      'register',
      'coding-mismatch',
      '--from',
      a,
      '--evaluation',
      join(a, 'evaluation.json'),
    );
    expect(reg[0]).toMatch(
      /^registered coding-mismatch@1 as challenger \(ONNX vs float64 reference: max \|probability diff\| /,
    );
    await run('register', 'coding-mismatch', '--from', b, '--evaluation', join(b, 'evaluation.json'));
    expect((await run('promote', 'coding-mismatch', '1', '--actor', 'lead', '--reason', 'first'))[0]).toBe(
      'coding-mismatch@1 is champion (was none)',
    );
    const refused = await run('promote', 'coding-mismatch', '2', '--actor', 'ds', '--reason', 'try').catch(
      (e: unknown) => e,
    );
    expect(isTriageError(refused, 'TRIAGE_MODEL_PROMOTION_REFUSED')).toBe(true);
    expect((refused as TriageError).errors[0]).toMatchObject({
      path: '<version>',
      message: expect.stringMatching(
        /^candidate coding-mismatch@2: pr_auc 0\.7000 .*; champion coding-mismatch@1: pr_auc 0\.8000 /,
      ),
    });
    const forced = await run(
      'promote',
      'coding-mismatch',
      '2',
      '--actor',
      'ds',
      '--force',
      '--reason',
      'incident 42',
    );
    expect(forced[0]).toBe('coding-mismatch@2 is champion (was 1) - FORCED');
    const list = JSON.parse((await run('--json', 'list')).join('\n')) as {
      versions: { aliases: string[] }[];
    }[];
    expect(list[0]!.versions.map((v) => v.aliases)).toEqual([[], ['champion']]);
    const show = (await run('show', 'coding-mismatch'))[0]!;
    expect(show).toContain('coding-mismatch@2 (trained, mlp, task coding-mismatch)');
    expect(show).toContain('promoted by ds (FORCED): incident 42 [other: 1]');
    const aliases = JSON.parse(
      await readFile(join(dir, 'artifacts', 'coding-mismatch', 'aliases.json'), 'utf8'),
    );
    expect(aliases.champion).toBe('2');
  });
});

describe('npm run models without --root', () => {
  const shipped = join(packageRoot(), 'models', 'artifacts', 'coding-mismatch');
  const snapshot = async () => ({
    aliases: await readFile(join(shipped, 'aliases.json'), 'utf8'),
    versions: (await readdir(shipped)).sort(),
  });

  it("works on the service's registry (MODELS_DIR): seeds it, promotes there, leaves models/artifacts alone", async () => {
    const served = join(dir, 'served-models');
    const env = { MODELS_DIR: served };
    const cli = async (...args: string[]) => {
      const out: string[] = [];
      const store = AUDITED.has(args[0]!) ? storeFlags() : [];
      await modelsCommand((l) => out.push(l), false, env).parseAsync([...args, ...store], { from: 'user' });
      return out;
    };
    const before = await snapshot();
    const shippedChampion = (JSON.parse(before.aliases) as { champion: string }).champion;
    // Not seeded yet: a read shows what the service would serve, without creating the directory.
    const listed = JSON.parse((await cli('--json', 'list')).join('\n')) as {
      name: string;
      versions: { version: string; aliases: string[] }[];
    }[];
    const coding = listed.find((m) => m.name === 'coding-mismatch')!;
    expect(coding.versions.find((v) => v.aliases.includes('champion'))?.version).toBe(shippedChampion);
    expect(existsSync(served)).toBe(false);

    const run = await trainingRun('run-served', 3, 0.5);
    const reg = (await cli('register', 'coding-mismatch', '--from', run))[0]!;
    const version = /^registered coding-mismatch@(\d+) as challenger/.exec(reg)![1]!;
    expect(Number(version)).toBe(Math.max(...coding.versions.map((v) => Number(v.version))) + 1);
    expect(
      await cli('promote', 'coding-mismatch', version, '--actor', 'ops', '--reason', 'r', '--force'),
    ).toEqual([`coding-mismatch@${version} is champion (was ${shippedChampion}) - FORCED`]);
    const aliases = JSON.parse(await readFile(join(served, 'coding-mismatch', 'aliases.json'), 'utf8'));
    expect(aliases).toMatchObject({ champion: version, challenger: null });
    expect((await cli('show', 'coding-mismatch'))[0]).toMatch(
      new RegExp(`^coding-mismatch@${version} \\(trained`),
    );
    // The shipped registry is byte for byte as before: same champion, no new version.
    expect(await snapshot()).toEqual(before);
  });
});

describe('npm run models -- list output', () => {
  const list = (env: NodeJS.ProcessEnv) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(packageRoot(), 'bin', 'models.ts'), 'list'], {
      cwd: packageRoot(),
      env: { PATH: process.env.PATH ?? '', ...env },
      encoding: 'utf8',
      timeout: 120_000,
    });

  it('prints no ANSI colour codes into a pipe, even where the terminal type takes colours', () => {
    const r = list({ TERM: 'xterm-256color' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/coding-mismatch/);
    expect(r.stdout).not.toContain('\u001b[');
  });

  it('colours the table only when asked to (a terminal), never with colours off', async () => {
    const out: string[] = [];
    await modelsCommand((l) => out.push(l), false).parseAsync(['list'], { from: 'user' });
    expect(out.join('\n')).toMatch(/model/);
    expect(out.join('\n')).not.toContain('\u001b[');
  });
});
