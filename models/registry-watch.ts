/** Watching an alias of the registry (the serving side follows champion changes with it). */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { AliasName, RegistryLayout } from './registry-layout.js';

/** Options of {@link watchAlias}. */
export interface WatchOptions {
  /** Poll interval, ms; default 1000. */
  intervalMs?: number;
  /** The version the caller already holds, so that a change between loading and watching is not missed. */
  initial?: string | null;
  /** Called when a poll fails (the next poll retries). */
  onError?: (e: unknown) => void;
}

/**
 * Watches an alias of `name` and calls `onChange` with the new version (or null) whenever it
 * changes, by polling the mtime, size and inode of `aliases.json` every `intervalMs` (cheap: one
 * `stat`). The timer does not keep the process alive.
 * @returns `close()` stops watching.
 */
export function watchAlias(
  reg: RegistryLayout,
  name: string,
  alias: AliasName,
  onChange: (version: string | null) => void | Promise<void>,
  o: WatchOptions = {},
): { close(): void } {
  const path = join(reg.nameDir(name), 'aliases.json');
  let lastStat = '';
  let current: string | null | undefined = o.initial;
  let busy = false;
  const tick = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      const s = await stat(path).catch(() => null);
      const key = s ? `${s.mtimeMs}:${s.size}:${s.ino}` : 'absent';
      if (key === lastStat) return;
      lastStat = key;
      const v = (await reg.aliases(name))[alias];
      if (current === undefined) current = v;
      else if (v !== current) {
        current = v;
        await onChange(v);
      }
    } catch (e) {
      lastStat = '';
      o.onError?.(e);
    } finally {
      busy = false;
    }
  };
  void tick();
  const timer = setInterval(() => void tick(), o.intervalMs ?? 1000);
  timer.unref();
  return { close: () => clearInterval(timer) };
}
