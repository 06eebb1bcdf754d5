/**
 * Crash-safe file operations for the registry: atomic file replacement (write a temporary
 * file, fsync, rename over the target, fsync the directory) and a directory lock that works
 * across processes (`mkdir` is atomic) with stale-lock recovery: a lock whose owner process
 * (same host) is gone, or that is older than `staleMs`, is broken.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { TriageError } from '../core/errors.js';

/** fsyncs a directory so that a rename inside it is durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/** Writes `data` to `path` and fsyncs it (the file is new, not yet visible under its final name). */
export async function writeDurable(path: string, data: string | Uint8Array): Promise<void> {
  const h = await open(path, 'wx');
  try {
    await h.writeFile(data);
    await h.sync();
  } finally {
    await h.close();
  }
}

/**
 * Replaces `path` atomically: readers see the old content or the new, never a mix, and a
 * crash leaves the old file (plus, at worst, a `.tmp` file that is ignored).
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomUUID()}.tmp`);
  try {
    await writeDurable(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  await fsyncDir(dir);
}

/** True when the lock's owner file names a process on this host that no longer exists. */
async function ownerIsDead(lockDir: string): Promise<boolean> {
  try {
    const o = JSON.parse(await readFile(join(lockDir, 'owner'), 'utf8')) as { pid: number; host: string };
    if (o.host !== hostname() || o.pid === process.pid) return false;
    process.kill(o.pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Options of {@link withDirLock}. */
export interface LockOptions {
  /** Give up after this long; default 10 s. */
  timeoutMs?: number;
  /** A lock older than this is taken to belong to a crashed process and removed; default 60 s. */
  staleMs?: number;
}

/**
 * Runs `fn` holding the lock directory `lockDir` (created with `mkdir`, removed afterwards).
 * @throws TriageError `TRIAGE_MODEL_REGISTRY_BUSY` when the lock is not obtained in time.
 */
export async function withDirLock<T>(lockDir: string, fn: () => Promise<T>, o: LockOptions = {}): Promise<T> {
  const timeoutMs = o.timeoutMs ?? 10_000;
  const staleMs = o.staleMs ?? 60_000;
  const start = Date.now();
  for (;;) {
    try {
      await mkdir(lockDir);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const age = await stat(lockDir).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > staleMs || (await ownerIsDead(lockDir))) {
        await rm(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() - start > timeoutMs) {
        const owner = await readFile(join(lockDir, 'owner'), 'utf8').catch(() => 'an unknown process');
        throw new TriageError('TRIAGE_MODEL_REGISTRY_BUSY', `Registry lock ${lockDir} held by ${owner}`);
      }
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 30));
    }
  }
  try {
    await writeFile(
      join(lockDir, 'owner'),
      JSON.stringify({ pid: process.pid, host: hostname(), at: new Date() }),
    );
    return await fn();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}
