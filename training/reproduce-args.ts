/**
 * The `npm run train` options that reproduce a trained card: what a training run records about
 * its own options (the card's seed, architecture candidates, vector edition, the hard-negative
 * weight in `data.rowsFrom`, the threshold grid in the thresholds' `method`), read back from the
 * texts `assemble.ts` and `pipeline.ts` write. `scripts/reproduce-champions.sh` and
 * `npm run card:complete` use it, so a champion trained with non-default options is reproduced
 * with them; retrain jobs and `npm run train` without recipe options train with the served
 * champion's recipe ({@link championRecipe}).
 */
import { editionOfNames } from '../features/schema.js';
import type { ModelRegistry } from '../models/registry.js';
import type { ModelCardDraft, ModelTask } from '../models/spec.js';
import { TASK_VECTOR } from '../models/served-schemas.js';

/** Options of a training run as recorded in its card; absent fields were the defaults. */
export interface RecordedTrainOptions {
  /** Training seed (`--seed`); also the feature provider's seed. */
  seed: number;
  /** `--vector-edition`: the edition of the task's vector its feature names spell. */
  vectorEdition: number;
  /** `--architectures`: the candidates of the run's architecture comparison, in order. */
  architectures: string[];
  /** `--hard-negative-weight` (duplicate): weight of train pairs of a hard-negative kind. */
  hardNegativeWeight?: number;
  /** `--approve-grid-points`: most candidates of the auto-approve threshold grid. */
  approveGridPoints?: number;
  /** `--grid-logit-step`: largest logit gap between Learn-then-Test candidates. */
  gridLogitStep?: number;
}

const numberAfter = (text: string, re: RegExp): number | undefined => {
  const m = re.exec(text);
  return m ? Number(m[1]) : undefined;
};

/**
 * The options a card's training run was given, read from the card.
 * @param d the card's training draft (`card.training`).
 * @throws RangeError when the card's feature names are no edition of the task's vector
 *   (`editionOfNames`).
 */
export function recordedTrainOptions(d: ModelCardDraft): RecordedTrainOptions {
  const vectorEdition = editionOfNames(TASK_VECTOR[d.task], d.featureNames);
  if (vectorEdition === null)
    throw new RangeError(`the card's feature names are no edition of the ${TASK_VECTOR[d.task]} vector`);
  const o: RecordedTrainOptions = {
    seed: d.seed,
    vectorEdition,
    architectures: d.architectureComparison.map((a) => a.id),
  };
  const weight = numberAfter(d.data.rowsFrom, /hard-negative kind weigh ([0-9.]+)/);
  if (weight !== undefined) o.hardNegativeWeight = weight;
  const points = numberAfter(d.thresholds.autoApprove.method, /\(at most (\d+) points\)/);
  if (points !== undefined) o.approveGridPoints = points;
  const step = numberAfter(d.thresholds.autoApprove.method, /candidates at most ([0-9.]+) apart in logit/);
  if (step !== undefined) o.gridLogitStep = step;
  return o;
}

/** {@link RecordedTrainOptions} as `npm run train` arguments. */
export function trainArgs(o: RecordedTrainOptions): string[] {
  const args = [
    '--seed',
    String(o.seed),
    '--vector-edition',
    String(o.vectorEdition),
    '--architectures',
    o.architectures.join(','),
  ];
  if (o.hardNegativeWeight !== undefined) args.push('--hard-negative-weight', String(o.hardNegativeWeight));
  if (o.approveGridPoints !== undefined) args.push('--approve-grid-points', String(o.approveGridPoints));
  if (o.gridLogitStep !== undefined) args.push('--grid-logit-step', String(o.gridLogitStep));
  return args;
}

/** A champion's recipe: the options its card records, but the seed (each run has its own). */
export type TrainRecipe = Omit<RecordedTrainOptions, 'seed'>;

/** The `npm run train` options a {@link TrainRecipe} sets (the others are the run's own). */
export const RECIPE_OPTIONS = [
  'vectorEdition',
  'architectures',
  'hardNegativeWeight',
  'approveGridPoints',
  'gridLogitStep',
] as const satisfies readonly (keyof TrainRecipe)[];

/** `npm run train` options of a recipe (absent fields stay the defaults). */
export function recipeTrainOptions(r: TrainRecipe) {
  return {
    vectorEdition: r.vectorEdition,
    architectures: r.architectures,
    ...(r.hardNegativeWeight !== undefined ? { hardNegativeWeight: r.hardNegativeWeight } : {}),
    ...(r.approveGridPoints !== undefined ? { approveGridPoints: r.approveGridPoints } : {}),
    ...(r.gridLogitStep !== undefined ? { gridLogitStep: r.gridLogitStep } : {}),
  };
}

/**
 * The served champion's training recipe (its card's recorded options but the seed), or null when
 * the task has no champion or it is not a trained model (an external ONNX, a heuristic).
 * @throws RangeError (from {@link recordedTrainOptions}) when the champion's features are no edition of its vector.
 */
export async function championRecipe(registry: ModelRegistry, task: ModelTask): Promise<TrainRecipe | null> {
  if ((await registry.aliases(task)).champion === null) return null;
  const card = await registry.card(task, 'champion');
  if (!card.training) return null;
  const { seed: _seed, ...recipe } = recordedTrainOptions(card.training);
  return recipe;
}
