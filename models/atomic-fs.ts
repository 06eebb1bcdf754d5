/**
 * Crash-safe file operations for the registry, over two well-kept libraries:
 *
 * - atomic replacement with `write-file-atomic` (temporary file, fsync, rename over the
 *   target), followed by an fsync of the directory so that the rename itself is durable;
 * - a cross-process lock with `proper-lockfile` (an atomic `mkdir` lock directory whose mtime
 *   the holder refreshes while it works, so a slow holder keeps its lock and only the lock of a
 *   crashed process goes stale).
 */
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import lockfile from 'proper-lockfile';
import writeFileAtomic from 'write-file-atomic';
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

/**
 * Writes `path` atomically with its content fsynced (write-file-atomic); the directory entry is
 * durable once the directory is fsynced (see {@link replaceFile}, or {@link fsyncDir} after
 * several writes into one new directory).
 */
export async function writeDurable(path: string, data: string | Uint8Array): Promise<void> {
  await writeFileAtomic(path, typeof data === 'string' ? data : Buffer.from(data), { fsync: true });
}

/**
 * Replaces (or creates) `path` atomically and durably: readers see the old content or the new,
 * never a mix, and a crash leaves the old file (plus, at worst, an ignored temporary file).
 */
export async function replaceFile(path: string, data: string | Uint8Array): Promise<void> {
  await writeDurable(path, data);
  await fsyncDir(dirname(path));
}

/** Options of {@link withFileLock}. */
export interface LockOptions {
  /** Give up waiting for the lock after about this long, ms; default 10 000. */
  timeoutMs?: number;
  /**
   * A lock not refreshed for this long belongs to a crashed process and is broken, ms; default
   * 10 000, at least 2 000. The holder refreshes it every `staleMs / 2`.
   */
  staleMs?: number;
}

/** Wait between two attempts to take a held lock, ms. */
const RETRY_MS = 50;

/** A cross-process lock taken by {@link acquireFileLock}. */
export interface HeldLock {
  /** Throws when the lock was lost meanwhile (its refresh failed, or another process broke it as stale). */
  assertHeld(): void;
  /** Removes the lock (nothing to do when it was lost); call once. */
  release(): Promise<void>;
}

/**
 * Takes the cross-process lock `lockPath` (a directory created and then refreshed by
 * proper-lockfile every `staleMs / 2` until released; removed at process exit too).
 * @param busy builds the error thrown when the lock is held by another live holder after
 *   `timeoutMs` (0: fail at once), or when `assertHeld` finds the lock lost (`lost` set).
 * @throws the error of `busy`; the file-system error when the lock cannot be created.
 */
export async function acquireFileLock(
  lockPath: string,
  busy: (cause: Error, lost: boolean) => Error,
  o: LockOptions = {},
): Promise<HeldLock> {
  const timeoutMs = o.timeoutMs ?? 10_000;
  let lost: Error | null = null;
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(dirname(lockPath), {
      lockfilePath: lockPath,
      realpath: false,
      stale: Math.max(o.staleMs ?? 10_000, 2_000),
      retries: {
        retries: Math.ceil(timeoutMs / RETRY_MS),
        factor: 1,
        minTimeout: RETRY_MS,
        maxTimeout: RETRY_MS,
      },
      onCompromised: (e) => {
        lost = e;
      },
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ELOCKED') throw e;
    throw busy(e as Error, false);
  }
  return {
    assertHeld: () => {
      if (lost) throw busy(lost, true);
    },
    release: async () => {
      if (!lost) await release();
    },
  };
}

/**
 * Runs `fn` holding the cross-process lock `lockPath` (see {@link acquireFileLock}). `fn`
 * receives `assertHeld`, to call before each step that must not happen without the lock (a
 * rename into place): it throws when the lock was lost meanwhile.
 * @throws TriageError `TRIAGE_MODEL_REGISTRY_BUSY` when the lock is not obtained within
 *   `timeoutMs`, or when `assertHeld` finds it lost.
 */
export async function withFileLock<T>(
  lockPath: string,
  fn: (assertHeld: () => void) => Promise<T>,
  o: LockOptions = {},
): Promise<T> {
  const lock = await acquireFileLock(
    lockPath,
    (cause, lost) =>
      new TriageError(
        'TRIAGE_MODEL_REGISTRY_BUSY',
        lost
          ? `Registry lock ${lockPath} was lost: ${cause.message}`
          : `Registry lock ${lockPath} is held by another writer`,
        [],
        { cause },
      ),
    o,
  );
  try {
    return await fn(() => lock.assertHeld());
  } finally {
    await lock.release();
  }
}
