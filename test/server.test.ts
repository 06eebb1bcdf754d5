/**
 * End to end: the server entry point as `npm start` runs it (embedded PGlite, no database
 * server, no env vars but a port and a data dir), writing the bootstrap keys once and
 * answering the README's curl example with the workflow key, and the answer the README shows
 * for it holding the served figures; on SIGTERM while a retrain job trains, it cancels the
 * training and exits 0 within its shutdown deadline, registering no model version.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../core/paths.js';

let child: ChildProcess;
let base = '';
let log = '';
const dataDir = mkdtempSync(join(tmpdir(), 'triage-server-'));

beforeAll(async () => {
  const root = packageRoot();
  child = spawn(process.execPath, ['--import', 'tsx', join(root, 'bin', 'server.ts')], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', PORT: '0', DATA_DIR: join(dataDir, 'pglite'), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 90_000);
    child.stdout!.on('data', (b: Buffer) => {
      log += b.toString();
      const m = /listening on (http:\/\/[^\s"]+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.stderr!.on('data', (b: Buffer) => (log += b.toString()));
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${log}`)));
  });
}, 120_000);

afterAll(async () => {
  if (child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

it('refuses a second server on the same data dir with one fatal log line and exit code 1, no stack trace', () => {
  const root = packageRoot();
  const second = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bin', 'server.ts')], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', PORT: '0', DATA_DIR: join(dataDir, 'pglite'), LOG_LEVEL: 'info' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(second.status, second.stderr).toBe(1);
  const fatal = second.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { level: number; code?: string; msg: string })
    .filter((l) => l.level >= 60);
  expect(fatal).toHaveLength(1);
  expect(fatal[0]).toMatchObject({ code: 'TRIAGE_STORE_UNAVAILABLE' });
  expect(fatal[0]!.msg).toContain('is in use by another process');
  expect(second.stderr).not.toMatch(/^\s+at /m);
}, 150_000);

it('starts on embedded defaults, writes the bootstrap keys once and scores the README example', async () => {
  expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  const health = await fetch(`${base}/healthz`);
  expect(health.status).toBe(200);
  expect(await health.json()).toMatchObject({ status: 'ok', store: 'pglite' });

  // Bootstrap keys: beside the data dir, mode 0600, only the path in the log.
  const file = join(dataDir, 'bootstrap-keys.json');
  expect(statSync(file).mode & 0o777).toBe(0o600);
  const boot = JSON.parse(readFileSync(file, 'utf8')) as {
    tenant_id: string;
    keys: { roles: string[]; key: string; prefix: string }[];
  };
  expect(boot.tenant_id).toBe('default');
  expect(boot.keys.map((k) => k.roles)).toEqual([['admin'], ['workflow']]);
  expect(log).toContain(file);
  for (const k of boot.keys) expect(log).not.toContain(k.key);
  const workflowKey = boot.keys.find((k) => k.roles.includes('workflow'))!.key;

  const example = readFileSync(join(packageRoot(), 'datasets', 'samples', 'example-invoice.json'), 'utf8');
  const anonymous = await fetch(`${base}/v1/invoices/score`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: example,
  });
  expect(anonymous.status).toBe(401);
  expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
  const res = await fetch(`${base}/v1/invoices/score`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${workflowKey}` },
    body: example,
  });
  expect(res.status).toBe(200);
  const d = (await res.json()) as ScoreAnswer;
  // Served by the shipped champions: the wheelchair billed as a nebulizer is held for coding.
  expect(d.decision).toBe('HOLD');
  expect(d.reasons.map((r) => r.code)).toContain('DESCRIPTION_CODE_MISMATCH');
  expect(d.versions.models).toEqual({ 'coding-mismatch': 'coding-mismatch@4', duplicate: 'duplicate@5' });

  // The README shows this answer (shortened, numbers rounded): its figures must be the served ones.
  const shown = readmeScoreAnswer();
  expect(shown.decision).toBe(d.decision);
  expect(shown.queue).toBe(d.queue);
  expect(shown.priority).toBe(d.priority);
  expect(shown.scores).toEqual(d.scores);
  expect(shown.versions.models).toEqual(d.versions.models);
  expect(shown.versions.thresholds).toEqual(d.versions.thresholds);
  const shownReasons = shown.reasons.filter(
    (r): r is ScoreAnswer['reasons'][number] => typeof r !== 'string',
  );
  expect(shownReasons.length).toBeGreaterThan(0);
  shownReasons.forEach((r, i) => {
    expect(r.code).toBe(d.reasons[i]!.code);
    expect(r.weight).toBe(d.reasons[i]!.weight);
    expect(r.evidence.line_number).toBe(d.reasons[i]!.evidence.line_number);
    if (r.evidence.model !== undefined) expect(r.evidence.model).toBe(d.reasons[i]!.evidence.model);
  });
  for (const line of shown.lines) {
    const served = d.lines.find((l) => l.line_number === line.line_number)!;
    expect(line.coding_mismatch).toBe(Number(served.coding_mismatch.toFixed(4)));
  }
});

it('stops within its shutdown deadline on SIGTERM while a retrain job trains, registering nothing', async () => {
  const boot = JSON.parse(readFileSync(join(dataDir, 'bootstrap-keys.json'), 'utf8')) as {
    keys: { roles: string[]; key: string }[];
  };
  const auth = { authorization: `Bearer ${boot.keys.find((k) => k.roles.includes('admin'))!.key}` };
  const registry = join(dataDir, 'models', 'coding-mismatch');
  const versionsBefore = readdirSync(registry).filter((f) => /^\d+$/.test(f));
  const train = await fetch(`${base}/v1/models/coding-mismatch/train`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ seed: 11 }),
  });
  expect(train.status, await train.clone().text()).toBe(202);
  const { job_id: jobId } = (await train.json()) as { job_id: string };
  for (let state = ''; state !== 'active'; await new Promise((r) => setTimeout(r, 100))) {
    const job = await fetch(`${base}/v1/jobs/${jobId}`, { headers: auth });
    state = ((await job.json()) as { state: string }).state;
    expect(['waiting', 'active']).toContain(state);
  }
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const t0 = Date.now();
  child.kill('SIGTERM');
  // Code 0: stopped by itself, not by the 20 s deadline (code 1).
  expect(await exited).toBe(0);
  expect(Date.now() - t0).toBeLessThan(15_000);
  expect(log).toMatch(/shutting down: cancelling the running retrain job/);
  expect(log).toMatch(/retrain job cancelled by shutdown: no model version registered/);
  expect(log).toMatch(/server stopped/);
  expect(readdirSync(registry).filter((f) => /^\d+$/.test(f))).toEqual(versionsBefore);
}, 60_000);

/** The fields of a scoring answer that the README's example shows. */
interface ScoreAnswer {
  decision: string;
  queue?: string;
  priority: number;
  scores: Record<string, number>;
  reasons: { code: string; weight: number; evidence: { line_number?: number; model?: string } }[];
  lines: { line_number: number; coding_mismatch: number }[];
  versions: { models: Record<string, string>; thresholds: Record<string, string> };
}

/**
 * The answer shown under "Score an invoice" in README.md: the first JSON block of that section,
 * parsed (its "…" placeholders are JSON strings, so reasons may hold strings).
 */
function readmeScoreAnswer(): Omit<ScoreAnswer, 'reasons'> & {
  reasons: (ScoreAnswer['reasons'][number] | string)[];
} {
  const readme = readFileSync(join(packageRoot(), 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Score an invoice\n'));
  const block = /```json\n([\s\S]*?)\n```/.exec(section);
  if (!block) throw new Error('README has no JSON answer under "Score an invoice"');
  return JSON.parse(block[1]!) as ReturnType<typeof readmeScoreAnswer>;
}
