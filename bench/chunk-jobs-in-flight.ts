/**
 * How a batch's `score-batch` chunk jobs filled the workers' slots, for the `batch-workers`
 * bench (bench/batch-workers.ts): each job's start and end as BullMQ wrote them into Redis, and
 * the mean number running and the time a slot stayed empty.
 */
import { redisClient } from '../jobs/bullmq.js';

/** How a batch's `score-batch` jobs filled the workers' slots (`workers x WORKER_CONCURRENCY`). */
export interface ChunkJobsInFlight {
  /** Jobs running, mean over the time from the enqueue to the last job's end. */
  mean: number;
  /** Seconds from the enqueue until the first job ended (every job that could start had started). */
  firstEndSeconds: number;
  /** Seconds from the enqueue until the last job ended. */
  lastEndSeconds: number;
  /** Seconds with fewer jobs running than there are slots (with jobs of the batch still to end). */
  belowSlotsSeconds: number;
}

/**
 * {@link ChunkJobsInFlight} from each job's start and end (BullMQ's `processedOn` and
 * `finishedOn`, ms since the epoch) and the time of the enqueue `t0Ms`.
 */
export function chunkJobsInFlight(
  spans: readonly { start: number; end: number }[],
  t0Ms: number,
  slots: number,
): ChunkJobsInFlight {
  const events = spans
    .flatMap((s) => [
      { at: s.start, d: 1 },
      { at: s.end, d: -1 },
    ])
    .sort((a, b) => a.at - b.at || a.d - b.d);
  let running = 0;
  let last = t0Ms;
  let area = 0;
  let below = 0;
  for (const e of events) {
    area += running * (e.at - last);
    if (running < slots) below += e.at - last;
    running += e.d;
    last = e.at;
  }
  const lastEnd = Math.max(t0Ms, ...spans.map((s) => s.end));
  const firstEnd = Math.min(...spans.map((s) => s.end));
  return {
    mean: area / Math.max(lastEnd - t0Ms, 1),
    firstEndSeconds: (firstEnd - t0Ms) / 1000,
    lastEndSeconds: (lastEnd - t0Ms) / 1000,
    belowSlotsSeconds: below / 1000,
  };
}

/** The start and end of each job `ids` of the `score-batch` queue under `prefix` (BullMQ's job hashes). */
export async function chunkJobSpans(
  redisUrl: string,
  prefix: string,
  ids: readonly string[],
): Promise<{ start: number; end: number }[]> {
  const redis = redisClient(redisUrl);
  const read = () =>
    Promise.all(
      ids.map(async (id) => {
        const [start, end] = await redis.hmget(`${prefix}:score-batch:${id}`, 'processedOn', 'finishedOn');
        return { start: Number(start), end: Number(end) };
      }),
    );
  try {
    // The batch is complete at the last chunk's commit; its job's end is written just after.
    for (let tries = 0; ; tries++) {
      const spans = await read();
      if (tries >= 50 || spans.every((s) => s.end > 0)) return spans;
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    redis.disconnect();
  }
}
