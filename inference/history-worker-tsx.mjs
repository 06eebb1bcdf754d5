// Worker entry of a history import when running from TypeScript sources (tsx, vitest): registers
// tsx in the worker thread, then exports inference/history-worker.ts's task. A build starts the
// compiled history-worker.js directly.
import { register } from 'tsx/esm/api';

register();
const task = await import('./history-worker.ts');
export default task.default;
