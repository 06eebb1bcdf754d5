/**
 * Long per-line work in slices, with a turn of the event loop between them: a 2,000-line
 * invoice must not hold the process for seconds, or the deadline's timer, `/healthz` and every
 * other request wait behind it (a timer fires only when the event loop is free). An abort
 * signal is checked after each turn, so the work stops within one slice of its deadline.
 */
import { setImmediate } from 'node:timers/promises';

/** Lines handled between two turns of the event loop (about 40 ms of line scoring on an idle core). */
export const LINE_SLICE = 100;

/**
 * Lets the event loop turn once (a macrotask: timers, I/O and other requests run first), then
 * stops when `signal` has aborted.
 * @throws the signal's reason when `signal` is aborted.
 */
export async function nextTurn(signal?: AbortSignal): Promise<void> {
  await setImmediate();
  signal?.throwIfAborted();
}

/** Options of {@link mapInSlices}. */
export interface SliceOptions {
  /** Items per slice; default {@link LINE_SLICE}. */
  size?: number;
  /** Checked after each turn between slices. */
  signal?: AbortSignal;
}

/**
 * `fn` over `items` a slice at a time, the results concatenated in order; a turn of the event
 * loop ({@link nextTurn}) between two slices, none before the first, so a list of one slice
 * runs as one call with no turn (and an empty list calls nothing). `fn` must map each item on
 * its own (the result is then the same whatever the slice size) and return one result per item
 * of its slice.
 * @param fn given a slice and the index of its first item in `items`.
 * @throws RangeError when `fn` returns another number of results than items it was given.
 * @throws the signal's reason when `signal` aborts between two slices.
 */
export async function mapInSlices<T, R>(
  items: readonly T[],
  fn: (slice: readonly T[], from: number) => readonly R[] | Promise<readonly R[]>,
  { size = LINE_SLICE, signal }: SliceOptions = {},
): Promise<R[]> {
  const out: R[] = [];
  for (let from = 0; from < items.length; from += size) {
    if (from > 0) await nextTurn(signal);
    const slice = items.length <= size ? items : items.slice(from, from + size);
    const done = await fn(slice, from);
    if (done.length !== slice.length)
      throw new RangeError(`a slice of ${slice.length} items gave ${done.length} results`);
    for (const r of done) out.push(r);
  }
  return out;
}
