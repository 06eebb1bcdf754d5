/**
 * Reference histograms of a training run (monitoring/reference.ts): the model's input rows of
 * the benchmark's `train` split (the rows the network was fitted on, reviewer rows excluded)
 * and the model's calibrated probability of each, binned at their deciles.
 */
import { predictProbability, type TrainedModelSpec } from '../models/spec.js';
import { buildReference, type ReferenceHistograms } from '../monitoring/reference.js';
import type { AssembledData } from './assemble.js';

/** Builds the run's reference histograms; `source` names the data (e.g. the benchmark directory). */
export function runReference(a: AssembledData, spec: TrainedModelSpec, source: string): ReferenceHistograms {
  const d = a.data;
  const idx: number[] = [];
  for (let i = 0; i < d.X.length; i++)
    if (d.meta[i]!.split === 'train' && d.meta[i]!.source === 'benchmark') idx.push(i);
  const rows = idx.map((i) => d.X[i]!);
  return buildReference({
    model: a.task,
    unit: a.task === 'duplicate' ? 'pair' : 'line',
    source: `${source}, split train (${rows.length} ${a.task === 'duplicate' ? 'pairs' : 'lines'}), data ${a.featureSchemaVersion}`,
    featureNames: d.featureNames,
    rows,
    scores: rows.map((x) => predictProbability(spec, x)),
  });
}
