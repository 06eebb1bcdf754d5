/**
 * How long the embedded server (`bin/server.ts`, as `npm start` runs it on a fresh data
 * directory) takes to stop on SIGTERM while a `coding-mismatch` retrain job runs, and whether
 * a model version was registered meanwhile:
 * `npx tsx bench/shutdown-retrain.ts [worktree] [seconds of training before SIGTERM]`.
 * Prints one JSON line (job state and progress at the signal, exit code, stop time in ms, the
 * registry's versions afterwards) and the shutdown log lines. `SHUTDOWN_TIMEOUT_MS` is set to
 * 120 s so that a server without cancellation is measured rather than cut off.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(process.argv[2] ?? '.');
const delayS = Number(process.argv[3] ?? 20);
const dataDir = mkdtempSync(join(tmpdir(), 'shutdown-retrain-'));
const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'bin', 'server.ts')], {
  cwd: root,
  env: {
    PATH: process.env.PATH ?? '',
    PORT: '0',
    DATA_DIR: join(dataDir, 'pglite'),
    LOG_LEVEL: 'info',
    SHUTDOWN_TIMEOUT_MS: '120000',
  },
  stdio: ['ignore', 'pipe', 'pipe'],
});
let log = '';
child.stdout.on('data', (b: Buffer) => (log += b.toString()));
child.stderr.on('data', (b: Buffer) => (log += b.toString()));
const base = await new Promise<string>((res) => {
  const t = setInterval(() => {
    const m = /listening on (http:\/\/[^\s"]+)/.exec(log);
    if (m) {
      clearInterval(t);
      res(m[1]!);
    }
  }, 50);
});
const boot = JSON.parse(readFileSync(join(dataDir, 'bootstrap-keys.json'), 'utf8')) as {
  keys: { roles: string[]; key: string }[];
};
const auth = { authorization: `Bearer ${boot.keys.find((k) => k.roles.includes('admin'))!.key}` };
const train = await fetch(`${base}/v1/models/coding-mismatch/train`, { method: 'POST', headers: auth });
const { job_id: jobId } = (await train.json()) as { job_id: string };
await new Promise((r) => setTimeout(r, delayS * 1000));
const job = (await (await fetch(`${base}/v1/jobs/${jobId}`, { headers: auth })).json()) as {
  state: string;
  progress: number;
};
const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
const t0 = Date.now();
child.kill('SIGTERM');
const killer = setTimeout(() => child.kill('SIGKILL'), 150_000);
const code = await exited;
clearTimeout(killer);
const stopMs = Date.now() - t0;
const versions = readdirSync(join(dataDir, 'models', 'coding-mismatch')).filter((f) => /^\d+$/.test(f));
console.log(
  JSON.stringify({ root, delayS, state: job.state, progress: job.progress, exit: code, stopMs, versions }),
);
for (const l of log.split('\n').filter((x) => /shutting|cancel|stopped|deadline/.test(x)))
  console.log('  ', l.slice(0, 300));
rmSync(dataDir, { recursive: true, force: true });
