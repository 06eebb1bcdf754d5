/**
 * Per-statement PostgreSQL CPU of a whole process (bench/pg-statements.ts), for processes the
 * bench starts, such as `bin/worker.ts`:
 * `--batch-worker-node-options '--import tsx --import ./bench/pg-statements-preload.ts'`.
 * Recording starts when the process imports this module (before any pool connects) and the
 * totals are written on exit to `/tmp/pg-statements-PID.json` (statement, calls, CPU ms, largest
 * first). The totals are cleared the first time a statement has a parameter equal to
 * `PG_STATEMENTS_RESET_ON` (default the bench's measured tenant `bench-batch`; empty: never), so that
 * start-up and the warm-up batch are left out.
 */
import { writeFileSync } from 'node:fs';
import { recordStatementCpu } from './pg-statements.js';

const resetOn = process.env.PG_STATEMENTS_RESET_ON ?? 'bench-batch';
const recorder = recordStatementCpu(90, resetOn ? (values) => values.some((v) => v === resetOn) : undefined);
process.once('exit', () => {
  writeFileSync(`/tmp/pg-statements-${process.pid}.json`, JSON.stringify(recorder.snapshot(), null, 1));
});
