/**
 * Reference histograms of a training run (monitoring/reference.ts): the model's input rows of
 * the benchmark's `valid` split (the rows calibration and the Learn-then-Test thresholds were
 * certified on, served as the service serves them: the train split withholds the vendor context
 * of some rows on purpose, context dropout, so it is not what a model sees in production) and
 * the model's calibrated probability of each, binned at their deciles.
 */
import { inputProjection } from '../models/signature.js';
import { predictProbability, type TrainedModelSpec } from '../models/spec.js';
import { buildReference, type ReferenceHistograms } from '../monitoring/reference.js';
import type { AssembledData } from './assemble.js';

/**
 * Builds the run's reference histograms; `source` names the data (e.g. the benchmark directory).
 * The histograms are of the model's own inputs: rows assembled on a later vector edition than the
 * model's (features added since) are restricted to the model's features by name, as serving does.
 * @throws RangeError when a model input is not among the assembled features.
 */
export function runReference(a: AssembledData, spec: TrainedModelSpec, source: string): ReferenceHistograms {
  const d = a.data;
  const idx: number[] = [];
  for (let i = 0; i < d.X.length; i++)
    if (d.meta[i]!.split === 'valid' && d.meta[i]!.source === 'benchmark') idx.push(i);
  const projection = inputProjection(spec.featureNames, d.featureNames);
  const rows = idx.map((i) => (projection ? Array.from(projection, (j) => d.X[i]![j]!) : d.X[i]!));
  return buildReference({
    model: a.task,
    unit: a.task === 'duplicate' ? 'pair' : 'line',
    source: `${source}, split valid (${rows.length} ${a.task === 'duplicate' ? 'pairs' : 'lines'}), data ${a.featureSchemaVersion}`,
    featureNames: projection ? spec.featureNames : d.featureNames,
    rows,
    scores: rows.map((x) => predictProbability(spec, x)),
  });
}
