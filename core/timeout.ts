/** The one time limit on a promise, and how work is given up when a signal aborts. */

/**
 * A signal that aborts with `onTimeout()` as its reason `ms` milliseconds from now (the one timer
 * of a deadline); `clear()` stops the timer once the work is settled.
 * @param ms time limit, milliseconds.
 * @param onTimeout the abort reason (e.g. a `TriageError` with a 503 code).
 */
export function timeoutSignal(ms: number, onTimeout: () => Error): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(onTimeout()), ms);
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}

/**
 * Settles like `work`, or rejects with `signal.reason` as soon as `signal` aborts (at once when
 * it already has). Whether `work` stops is up to the work (it may read the same signal); its late
 * outcome is dropped (a late rejection is never reported as unhandled).
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  work.catch(() => undefined);
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([work, aborted]).finally(() => signal.removeEventListener('abort', onAbort!));
}

/**
 * Settles like `work`, or rejects with `onTimeout()` when `work` has not settled after `ms`
 * milliseconds. The work is not cancelled; its late outcome is dropped (a late rejection is
 * never reported as unhandled). The timer is cleared as soon as either side settles.
 * @param ms time limit, milliseconds.
 * @param onTimeout the error to reject with (e.g. a `TriageError` with a 503 code).
 */
export function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  const limit = timeoutSignal(ms, onTimeout);
  return untilAborted(work, limit.signal).finally(limit.clear);
}
