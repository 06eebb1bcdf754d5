/**
 * The process logger of the server and the worker: pino, JSON lines on stdout, written through
 * an asynchronous destination (sonic-boom buffering up to 4 KiB and writing off the request's
 * path) rather than one synchronous write per line. A quiet process's lines are not held back
 * waiting for the buffer to fill: what is buffered is written at least every
 * {@link LOG_FLUSH_MS} ms, so an operator (or a supervisor waiting for the "ready" line) sees
 * it at once. What is still buffered is written when the process exits (`process.exit`
 * included) and by `flush()` on shutdown, so no line is lost.
 */
import { pino, type Logger, type LoggerOptions } from 'pino';

/** Longest time a logged line waits in the buffer, milliseconds. */
export const LOG_FLUSH_MS = 250;

/** A logger and the call that writes out what it has buffered. */
export interface ProcessLogger {
  logger: Logger;
  /** Writes every buffered line now (synchronously). */
  flush(): void;
}

/** Creates the process logger at `level` with pino `options` (redaction, bindings). */
export function processLogger(level: string, options: Omit<LoggerOptions, 'level'> = {}): ProcessLogger {
  const destination = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  const logger = pino({ ...options, level }, destination);
  const flush = (): void => {
    try {
      destination.flushSync();
    } catch {
      // Nothing to flush yet, or stdout is gone: nothing more can be written.
    }
  };
  process.on('exit', flush);
  // Unref'd: the timer never keeps the process alive.
  setInterval(() => {
    try {
      destination.flush();
    } catch {
      // Nothing buffered.
    }
  }, LOG_FLUSH_MS).unref();
  return { logger, flush };
}
