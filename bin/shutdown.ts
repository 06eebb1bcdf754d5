/**
 * The stop on SIGTERM/SIGINT shared by the server (`bin/server.ts`) and the worker
 * (`bin/worker.ts`): run the process's close steps and exit 0; past `SHUTDOWN_TIMEOUT_MS`
 * (bin/config.ts `shutdownTimeoutMs`) log what is still running and exit 1 whatever remains.
 */
import type { Logger } from 'pino';

/** What {@link onShutdownSignals} runs. */
export interface ShutdownPlan {
  logger: Logger;
  /** Time the stop may take, ms (`Config.shutdownTimeoutMs`). */
  timeoutMs: number;
  /** Writes buffered log lines out; called before every exit. */
  flushLogs(): void;
  /**
   * Stops the process's work and closes its connections, in order; the process exits 0 when it
   * resolves (or 1 when it rejects).
   */
  close(signal: string): Promise<void>;
  /**
   * At the deadline, before exiting 1: hands unfinished work back (e.g. jobs to their queue) and
   * says what was still running, as log fields (job names and ids, never invoice contents).
   * Bounded by the grace of {@link DEADLINE_GRACE_MS}.
   */
  atDeadline?(): Promise<Record<string, unknown>>;
  /** A second signal while stopping: `exit` exits 1 at once; default `ignore`. */
  secondSignal?: 'exit' | 'ignore';
  /** The last log line of a clean stop, e.g. `worker stopped`. */
  stoppedMessage: string;
}

/** Time {@link ShutdownPlan.atDeadline} may take before the process exits anyway, ms. */
export const DEADLINE_GRACE_MS = 2000;

/**
 * Installs the SIGTERM and SIGINT handlers of {@link ShutdownPlan}. The deadline timer starts
 * with the first signal and does not keep the process alive.
 */
export function onShutdownSignals(plan: ShutdownPlan): void {
  const { logger } = plan;
  let closing = false;
  const exit = (code: number): never => {
    plan.flushLogs();
    process.exit(code);
  };
  async function shutdown(signal: string): Promise<void> {
    if (closing) {
      if (plan.secondSignal !== 'exit') return;
      logger.warn({ signal }, 'second signal: exiting now');
      exit(1);
    }
    closing = true;
    setTimeout(() => void deadline(signal), plan.timeoutMs).unref();
    try {
      await plan.close(signal);
    } catch (e) {
      logger.error({ signal, err: { code: (e as { code?: string }).code ?? null } }, 'shutdown failed');
      exit(1);
    }
    logger.info({ signal }, plan.stoppedMessage);
    exit(0);
  }
  async function deadline(signal: string): Promise<void> {
    // Exit after the grace even when the hand-back hangs (Redis unreachable).
    setTimeout(() => exit(1), DEADLINE_GRACE_MS).unref();
    const still = plan.atDeadline ? await plan.atDeadline().catch(() => ({ hand_back: 'failed' })) : {};
    logger.error(
      { signal, shutdown_timeout_ms: plan.timeoutMs, ...still },
      'shutdown deadline exceeded: exiting with work still running',
    );
    exit(1);
  }
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}
