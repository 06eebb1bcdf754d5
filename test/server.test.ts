/**
 * End to end: the server entry point as `npm start` runs it (embedded PGlite, no database
 * server, no env vars but a port and a data dir), answering the README's curl example.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../core/paths.js';

let child: ChildProcess;
let base = '';
const dataDir = mkdtempSync(join(tmpdir(), 'triage-server-'));

beforeAll(async () => {
  const root = packageRoot();
  child = spawn(process.execPath, ['--import', 'tsx', join(root, 'bin', 'server.ts')], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', PORT: '0', DATA_DIR: join(dataDir, 'pglite'), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
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

it('starts on embedded defaults and scores the README example invoice', async () => {
  expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  const health = await fetch(`${base}/healthz`);
  expect(health.status).toBe(200);
  expect(await health.json()).toMatchObject({ status: 'ok', store: 'pglite' });
  const example = readFileSync(join(packageRoot(), 'datasets', 'samples', 'example-invoice.json'), 'utf8');
  const res = await fetch(`${base}/v1/invoices/score`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: example,
  });
  expect(res.status).toBe(200);
  const d = (await res.json()) as {
    decision: string;
    reasons: { code: string }[];
    versions: { models: Record<string, string> };
  };
  expect(d.decision).toBe('REVIEW');
  expect(d.reasons.map((r) => r.code)).toContain('DESCRIPTION_CODE_MISMATCH');
  expect(Object.keys(d.versions.models)).toEqual(['coding-mismatch', 'duplicate']);
});
