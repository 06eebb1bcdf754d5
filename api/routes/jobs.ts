/**
 * Retrain jobs: `GET /v1/jobs/:id` (data-scientist, admin) reports the state, progress, result
 * or error of a retrain job of the caller's tenant (another tenant's job is a 404). Jobs are
 * enqueued by `POST /v1/models/:name/train` (api/routes/models.ts).
 */
import Type from 'typebox';
import { TriageError } from '../../core/errors.js';
import type { JobQueue, JobState, RetrainData, RetrainResult, RetrainTask } from '../../jobs/types.js';
import { principalOf } from '../auth.js';
import { problemResponses, PROTECTED, type RoutePlugin } from './common.js';

/** A retrain job as `GET /v1/jobs/:id` reports it. */
export interface RetrainJobStatus {
  id: string;
  state: JobState;
  /** Percent, 0-100. */
  progress: number;
  attemptsMade: number;
  /** Tenant that asked for it (null when the queue no longer knows). */
  tenantId: string | null;
  task: RetrainTask | null;
  result?: RetrainResult;
  failedReason?: string;
}

/** Enqueuing and reading retrain jobs. */
export interface RetrainJobs {
  /** Enqueues retraining; absent -> 503 problem "training not configured". */
  enqueueRetrain?(data: RetrainData): Promise<{ jobId: string }>;
  /** Reads a job's state/progress/result (for GET /v1/jobs/:id). */
  getJob?(id: string): Promise<RetrainJobStatus | null>;
}

/** {@link RetrainJobs} over a job queue (BullMQ or in-process). */
export function retrainJobsOn(queue: JobQueue): Required<RetrainJobs> {
  return {
    async enqueueRetrain(data) {
      return { jobId: await queue.add('retrain', data) };
    },
    async getJob(id) {
      const j = await queue.getJob('retrain', id);
      if (!j) return null;
      return {
        id: j.id,
        state: j.state,
        progress: j.progress,
        attemptsMade: j.attemptsMade,
        tenantId: j.data?.tenantId ?? null,
        task: j.data?.task ?? null,
        ...(j.result ? { result: j.result } : {}),
        ...(j.failedReason ? { failedReason: j.failedReason } : {}),
      };
    },
  };
}

/** Links of a job. */
export const JobLinks = Type.Object({ self: Type.String() });

/** The path of a job. */
export const jobPath = (id: string): string => `/v1/jobs/${encodeURIComponent(id)}`;

/** Answer of `GET /v1/jobs/:id`. */
export const JobStatusResponse = Type.Object({
  job_id: Type.String(),
  name: Type.Literal('retrain'),
  state: Type.String({ description: 'waiting, active, delayed, prioritized, completed or failed.' }),
  progress: Type.Number({ minimum: 0, maximum: 100, description: 'Percent.' }),
  attempts_made: Type.Integer(),
  task: Type.Union([Type.String(), Type.Null()]),
  result: Type.Optional(
    Type.Object({
      task: Type.String(),
      version: Type.String({ description: 'Registered challenger, e.g. coding-mismatch@3.' }),
      metrics: Type.Record(Type.String(), Type.Number()),
    }),
  ),
  error: Type.Optional(Type.Object({ message: Type.String() })),
  links: JobLinks,
});

/** `TRIAGE_TRAINING_NOT_CONFIGURED`: the service runs without a retraining queue. */
export const trainingNotConfigured = (): TriageError =>
  new TriageError('TRIAGE_TRAINING_NOT_CONFIGURED', 'training not configured on this service');

/** What the job routes use. */
export interface JobRoutesOptions {
  jobs: Pick<RetrainJobs, 'getJob'>;
}

/** Registers `GET /v1/jobs/:id`. */
export const jobRoutes: RoutePlugin<JobRoutesOptions> = async (app, { jobs }) => {
  app.get(
    '/v1/jobs/:id',
    {
      config: { roles: ['data-scientist', 'admin'] },
      schema: {
        operationId: 'getJob',
        summary: 'State, progress and result (or error) of a retrain job of the caller’s tenant',
        params: Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9._:-]{1,128}$' }) }),
        response: { 200: JobStatusResponse, ...problemResponses(PROTECTED, 404) },
      },
    },
    async (req) => {
      if (!jobs.getJob) throw trainingNotConfigured();
      const j = await jobs.getJob(req.params.id);
      // Another tenant's job is reported as absent.
      if (!j || j.tenantId !== principalOf(req).tenantId)
        throw new TriageError('TRIAGE_JOB_NOT_FOUND', `no job ${req.params.id}`);
      return {
        job_id: j.id,
        name: 'retrain' as const,
        state: j.state,
        progress: j.progress,
        attempts_made: j.attemptsMade,
        task: j.task,
        ...(j.result ? { result: j.result } : {}),
        ...(j.failedReason !== undefined && j.state === 'failed'
          ? { error: { message: j.failedReason } }
          : {}),
        links: { self: jobPath(j.id) },
      };
    },
  );
};
