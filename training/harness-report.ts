/**
 * The evaluation harness's report (`training/eval`: per-kind metrics, PR curves, reliability
 * diagrams, confusion examples, HTML with vega-lite plots) for a trained model, side by side
 * with baseline detectors (the current scoring path, SAP- and Oracle-style rules), on the
 * benchmark's test split.
 */
import type { ModelTask } from '../models/spec.js';
import type { Detector, InvoiceOutput } from './eval/detector.js';
import { evaluate, type EvalReport } from './eval/harness.js';
import { writeReport } from './eval/report.js';
import type { PipelineResult } from './pipeline.js';

/**
 * A detector that replays a trained model's test outputs in submission order. It is flagged
 * where routing would stop auto-approval: score above the certified auto-approve threshold
 * (0.5 when none could be certified).
 */
export function trainedDetector(task: ModelTask, r: PipelineResult): Detector {
  const byId = new Map(r.testOutputs.map((o) => [o.invoiceId, o]));
  const t = r.card.thresholds.autoApprove;
  const flagAt = t.feasible ? t.threshold + 1e-12 : 0.5;
  return {
    name: `trained-${task}`,
    version: `${r.card.architecture}/${r.card.calibration.chosen}/seed${r.card.seed}`,
    tasks: { duplicate: task === 'duplicate', coding: task === 'coding-mismatch' },
    thresholds: {
      duplicate: task === 'duplicate' ? flagAt : 1,
      coding: task === 'coding-mismatch' ? flagAt : 1,
    },
    async *run(invoices) {
      for await (const inv of invoices) {
        const out: InvoiceOutput = byId.get(inv.invoice_id) ?? {
          invoiceId: inv.invoice_id,
          duplicateScore: 0,
          duplicateOf: null,
          lines: [],
        };
        yield out;
      }
    },
  };
}

/**
 * Evaluates the trained model (and `baselines`) on the test split of `dataDir` and writes
 * `report.json` + `report.html` into `outDir`.
 * @returns the report and the paths written.
 */
export async function writeHarnessReport(
  task: ModelTask,
  dataDir: string,
  outDir: string,
  r: PipelineResult,
  baselines: readonly Detector[] = [],
  onProgress?: (detector: string, done: number, total: number) => void,
): Promise<{ report: EvalReport; json: string; html: string }> {
  const report = await evaluate(dataDir, [trainedDetector(task, r), ...baselines], {
    split: 'test',
    onProgress,
  });
  const paths = await writeReport(
    report,
    outDir,
    `invoice-triage: trained ${task} model vs baselines (test split)`,
  );
  return { report, ...paths };
}
