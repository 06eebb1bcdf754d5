/**
 * PostgreSQL CPU per statement of this process's `pg` connections, from the server's own
 * resource usage (`log_statement_stats`: getrusage around every protocol message, microseconds,
 * sent to the client as a LOG notice with `client_min_messages = log`). Superuser only; for
 * profiling (`npm run bench -- --only batch --batch-statements`), not for production.
 *
 * Install before the pool opens its connections: every new `pg.Client` then turns the
 * statistics on as its first statement and attributes each notice to the statement in flight
 * (parse, bind = planning of an unnamed statement, execute, or a simple query), read from the
 * client's in-flight query (`_activeQuery`, node-postgres 8 internals).
 */
import pg from 'pg';

/** CPU of one statement shape: the message kind and the first words of its text. */
export interface StatementCpu {
  statement: string;
  /** Protocol messages counted. */
  calls: number;
  /** User + system CPU of the backend, ms. */
  cpuMs: number;
}

/** A running recording of {@link recordStatementCpu}. */
export interface StatementRecorder {
  /** The totals so far (copies), largest first; recording goes on. */
  snapshot(): StatementCpu[];
  /** Stops recording new connections and returns the totals, largest first. */
  stop(): StatementCpu[];
}

const USAGE = /([\d.]+) s user, ([\d.]+) s system/;
const KIND = /^(PARSE|BIND|EXECUTE|QUERY) /;

/** Statement text shortened to a stable label (whitespace folded, first `width` characters). */
function label(text: string, width: number): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, width);
}

/**
 * Patches `pg.Client` so that connections opened from now on report per-statement CPU.
 * @param width characters of statement text a label keeps (statements sharing them add up).
 * @param resetWhen told each statement's parameters before its CPU is counted; the first time
 *   it answers true the totals so far are cleared (to leave out a warm-up), and it is not asked again.
 */
export function recordStatementCpu(
  width = 70,
  resetWhen?: (values: readonly unknown[]) => boolean,
): StatementRecorder {
  const totals = new Map<string, StatementCpu>();
  let resetPending = resetWhen !== undefined;
  const proto = pg.Client.prototype as unknown as {
    connect: (...a: unknown[]) => unknown;
  };
  const original = proto.connect;
  let on = true;
  proto.connect = function (
    this: pg.Client & { _activeQuery?: { text?: string; values?: unknown[] } | null },
    ...a: unknown[]
  ) {
    if (on) {
      this.on('notice', (n: { message?: string; detail?: string }) => {
        const kind = KIND.exec(n.message ?? '')?.[1];
        const usage = USAGE.exec(n.detail ?? '');
        if (!kind || !usage) return;
        if (resetPending && resetWhen!(this._activeQuery?.values ?? [])) {
          resetPending = false;
          totals.clear();
        }
        const text = this._activeQuery?.text ?? '(none)';
        const key = `${kind.padEnd(7)} ${label(text, width)}`;
        const t = totals.get(key) ?? { statement: key, calls: 0, cpuMs: 0 };
        t.calls++;
        t.cpuMs += (Number(usage[1]) + Number(usage[2])) * 1000;
        totals.set(key, t);
      });
      const cb = a[0] as ((err?: Error) => void) | undefined;
      const start = (): Promise<unknown> =>
        this.query('SET client_min_messages = log; SET log_statement_stats = on');
      if (typeof cb === 'function')
        return original.call(this, (err?: Error) => {
          if (err) cb(err);
          else start().then(() => cb(), cb);
        });
      return (original.call(this) as Promise<unknown>).then(start).then(() => this);
    }
    return original.apply(this, a);
  };
  return {
    snapshot() {
      return [...totals.values()].map((t) => ({ ...t })).sort((x, y) => y.cpuMs - x.cpuMs);
    },
    stop() {
      on = false;
      proto.connect = original;
      return [...totals.values()].sort((x, y) => y.cpuMs - x.cpuMs);
    },
  };
}
