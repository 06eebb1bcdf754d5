/**
 * A V8 CPU profile of a whole process the bench starts, such as `bin/worker.ts` (Node refuses
 * `--cpu-prof` in `NODE_OPTIONS`, the only flags the bench passes to its workers):
 * `--batch-worker-node-options '--import tsx --import ./bench/cpu-profile-preload.ts'`.
 * Profiling starts when the process imports this module and the profile is written on exit to
 * `/tmp/cpu-PID.cpuprofile` (open it in Chrome DevTools; the samples carry their times, so a
 * window such as the measured batch can be cut out of the whole run).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const session = new Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.setSamplingInterval', { interval: 500 });
session.post('Profiler.start');
process.once('exit', () => {
  // The in-process session answers synchronously, so the profile is written before the exit.
  session.post('Profiler.stop', (err, res) => {
    if (!err) writeFileSync(`/tmp/cpu-${process.pid}.cpuprofile`, JSON.stringify(res.profile));
  });
});
