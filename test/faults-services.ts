/**
 * Throwaway PostgreSQL and Redis servers for the fault suite, on free ports in temp dirs, so
 * that a test can stop, kill and restart them without touching the shared services. PostgreSQL
 * runs as the `postgres` user when the tests run as root (initdb refuses root). Worker processes
 * are `bin/worker.ts` children that a test can SIGKILL.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../core/paths.js';

/** PostgreSQL 15 binaries (pgvector is installed for this version). */
export const PG_BIN = process.env.TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** Why the fault suite cannot run here, or null when it can. */
export function faultSuiteUnavailable(): string | null {
  if (!existsSync(join(PG_BIN, 'initdb'))) return `no initdb in ${PG_BIN} (set TEST_PG_BIN)`;
  if (spawnSync('redis-server', ['--version']).status !== 0) return 'redis-server is not on PATH';
  if (process.getuid?.() === 0 && !userIds('postgres'))
    return 'running as root without a postgres user for initdb';
  return null;
}

function userIds(name: string): { uid: number; gid: number } | null {
  const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return null;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** A private PostgreSQL cluster. */
export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  readonly url: string;
  start(): void;
  /** Stops the server; `immediate` is a crash-like stop (no checkpoint, clients cut). */
  stop(mode?: 'fast' | 'immediate'): void;
  destroy(): void;
}

/** initdb + pg_ctl start in a temp dir, trust auth, fsync off. Takes a few seconds. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'triage-faults-pg-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  const ids = asRoot ? userIds('postgres') : null;
  if (ids) chownSync(dir, ids.uid, ids.gid);
  const run = (bin: string, args: string[]): void => {
    const r = spawnSync(join(PG_BIN, bin), args, {
      encoding: 'utf8',
      cwd: dir,
      ...(ids ? { uid: ids.uid, gid: ids.gid } : {}),
      env: { PATH: process.env.PATH ?? '', LC_ALL: 'C' },
      timeout: 60_000,
    });
    if (r.status !== 0) {
      const log = existsSync(join(dir, 'log')) ? readFileSync(join(dir, 'log'), 'utf8').slice(-2000) : '';
      throw new Error(`${bin} ${args.join(' ')} failed: ${r.stderr || r.stdout}\n${log}`);
    }
  };
  run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  const start = (): void =>
    run('pg_ctl', ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
  start();
  let running = true;
  // If the test process ends without afterAll (a killed run), do not leave the cluster behind.
  const onExit = (): void => {
    if (!running) return;
    spawnSync(join(PG_BIN, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop'], {
      ...(ids ? { uid: ids.uid, gid: ids.gid } : {}),
      timeout: 10_000,
    });
  };
  process.once('exit', onExit);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start() {
      start();
      running = true;
    },
    stop(mode = 'fast') {
      run('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
      running = false;
    },
    destroy() {
      process.off('exit', onExit);
      if (running) {
        try {
          run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
        } catch {
          // already stopped
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A private Redis without persistence: a restart loses every key, as a crashed cache would. */
export interface PrivateRedis {
  readonly url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  destroy(): Promise<void>;
}

/** redis-server on a free port, as a child process. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'triage-faults-redis-'));
  let child: ChildProcess | null = null;
  const start = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const c = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      child = c;
      let out = '';
      const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${out}`)), 20_000);
      c.stdout!.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      c.once('exit', (code) => {
        clearTimeout(timer);
        if (!out.includes('Ready to accept connections'))
          reject(new Error(`redis-server exited ${code}:\n${out}`));
      });
    });
  const stop = async (): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
    child = null;
  };
  await start();
  const onExit = (): void => void child?.kill('SIGKILL');
  process.once('exit', onExit);
  return {
    url: `redis://127.0.0.1:${port}`,
    start,
    stop,
    async destroy() {
      process.off('exit', onExit);
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A `bin/worker.ts` child process. */
export interface WorkerProcess {
  readonly child: ChildProcess;
  /** Everything it logged so far. */
  log(): string;
  /** SIGTERM and wait; returns the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait (a crash: no shutdown code runs). */
  kill(): Promise<void>;
}

/**
 * Starts `bin/worker.ts` with the given environment and waits until it logs that it is ready.
 * @param root the checkout whose `bin/worker.ts` runs (default this one; an A/B bench passes another).
 * @param startTimeoutMs how long to wait for it to be ready (default 90 s; a bench on a loaded machine waits longer).
 * @throws Error when the worker exits or has not logged that it is ready within `startTimeoutMs`.
 */
export async function startWorker(
  env: Record<string, string>,
  root = packageRoot(),
  startTimeoutMs = 90_000,
): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'bin', 'worker.ts')], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const onExit = (): void => void child.kill('SIGKILL');
  process.once('exit', onExit);
  child.once('exit', () => process.off('exit', onExit));
  let log = '';
  child.stdout!.on('data', (b: Buffer) => (log += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (log += b.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start:\n${log}`)), startTimeoutMs);
    const check = (): void => {
      if (log.includes('invoice-triage worker ready')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code}:\n${log}`));
    });
  });
  const exited = (): Promise<number | null> =>
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve(child.exitCode)
      : new Promise((r) => child.once('exit', (code) => r(code)));
  return {
    child,
    log: () => log,
    async stop() {
      const done = exited();
      child.kill('SIGTERM');
      return done;
    },
    async kill() {
      const done = exited();
      child.kill('SIGKILL');
      await done;
    },
  };
}
