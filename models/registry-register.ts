/**
 * Registering a version: a model trained here (graph, spec, card draft, extra files) or one
 * trained elsewhere (an external ONNX graph normalised to the served IO). The graph, spec and
 * card must agree (task, feature names and schema version, architecture, calibration, seed).
 *
 * A version directory is staged under a dot-name, fsynced, and renamed into place in one step
 * while the name's writers' lock is held (and checked still held), then `aliases.json` is
 * replaced atomically, so a crash never leaves a half-registered version or a torn alias file.
 *
 * The `model.registered` event (the audit entry, through the registry's and the call's event
 * hooks) is emitted after staging and before the rename, as a promotion's is before its alias
 * moves: a hook that throws abandons the registration (the staging directory is removed and no
 * version becomes visible), so no registered version lacks its audit entry. The event names the
 * version's content: `cardSha256`, the sha256 of its `card.json`, which holds the sha256 of every
 * artefact (`onnxSha256` is repeated in the event). The converse, an entry whose version never
 * appeared, is closed by a second entry and its number is never given again
 * (models/registry-ledger.ts): a rename that fails after the audit emits
 * `model.registration_failed`; a crash (or a failing hook) between the audit and the rename
 * leaves a `.registering-<version>.json` intent, which the next registration audits as
 * `model.registration_abandoned` (version, `cardSha256`) before taking the following number.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TriageError, isTriageError } from '../core/errors.js';
import { fsyncDir, writeDurable } from './atomic-fs.js';
import {
  FILE_NAME_PATTERN,
  evaluationFromTrainingCard,
  validateCard,
  validateEvaluation,
  validateExternalCardDraft,
  type Evaluation,
  type ExternalCardDraft,
  type ModelCard,
} from './card.js';
import { normaliseExternalOnnx, type ExternalAdaptation } from './external-onnx.js';
import {
  INPUT_NAME,
  LOGIT_OUTPUT,
  META,
  PROBABILITY_OUTPUT,
  readSignature,
  withMetadata,
} from './onnx-graph.js';
import {
  artefactSha256,
  type EventHook,
  type RegistryLayout,
  type ResolvedModel,
} from './registry-layout.js';
import { clearIntent, nextVersion, retireIntent, settleIntents, writeIntent } from './registry-ledger.js';
import { checkSignature, modelInputSignature } from './signature.js';
import { assertModelCardDraft, assertModelSpec, type ModelCardDraft, type TrainedModelSpec } from './spec.js';

/** A model trained here: the exported graph, its spec and the training run's card draft. */
export interface RegisterTrained {
  /** The served ONNX graph (`features` -> `logit`, `probability`), e.g. from `exportOnnx(spec)`. */
  onnx: Uint8Array;
  spec: TrainedModelSpec;
  card: ModelCardDraft;
  /** Headline evaluation; default {@link evaluationFromTrainingCard}. Give `baselines` here. */
  evaluation?: Evaluation;
  /** Default: the champion at registration. */
  parentVersion?: string | null;
  actor?: string;
  /**
   * Other files serving needs to reproduce the training features (e.g. the training run's
   * `line-context.json`: typical quantities, vendor profiles), stored beside the model and
   * hashed in the card. Names: lower-case `[a-z0-9._-]`, not model.onnx/spec.json/card.json.
   */
  files?: Record<string, string | Uint8Array>;
}

/** A model trained elsewhere, already normalised to the served IO (see {@link registerExternalOnnx}). */
export interface RegisterExternal {
  onnx: Uint8Array;
  card: ExternalCardDraft;
  parentVersion?: string | null;
  actor?: string;
}

/** What {@link registerVersion} takes. */
export type RegisterInput = RegisterTrained | RegisterExternal;

const isTrained = (i: RegisterInput): i is RegisterTrained => 'spec' in i && i.spec !== undefined;

/** The card fields derived from a draft. */
type CardSummary = Pick<
  ModelCard,
  | 'source'
  | 'task'
  | 'architecture'
  | 'featureSchemaVersion'
  | 'featureNames'
  | 'seed'
  | 'evaluation'
  | 'thresholds'
  | 'training'
  | 'external'
>;

/**
 * The card summary of a registration input (validating the draft).
 * @throws TriageError `TRIAGE_MODEL_INVALID` (trained) / `TRIAGE_MODEL_UPLOAD_INVALID` (external).
 */
function summarise(input: RegisterInput): CardSummary {
  if (isTrained(input)) {
    const d = assertModelCardDraft(input.card);
    if (d.thresholds.autoApprove.threshold > d.thresholds.hold.threshold)
      throw new TriageError('TRIAGE_MODEL_INVALID', 'model card thresholds: autoApprove is above hold');
    return {
      source: 'trained',
      task: d.task,
      architecture: d.architecture,
      featureSchemaVersion: d.featureSchemaVersion,
      featureNames: d.featureNames,
      seed: d.seed,
      evaluation: validateEvaluation(input.evaluation ?? evaluationFromTrainingCard(d)),
      thresholds: { autoApprove: d.thresholds.autoApprove.threshold, hold: d.thresholds.hold.threshold },
      training: d,
      external: null,
    };
  }
  const d = validateExternalCardDraft(input.card);
  return {
    source: 'external',
    task: d.task,
    architecture: d.architecture,
    featureSchemaVersion: d.featureSchemaVersion,
    featureNames: d.featureNames,
    seed: d.seed,
    evaluation: d.evaluation,
    thresholds: d.thresholds,
    training: null,
    external: d,
  };
}

/**
 * Refuses a graph without the served IO or whose features differ from the card's, and a trained
 * model whose spec and card disagree.
 * @throws TriageError `TRIAGE_MODEL_INVALID` / `TRIAGE_MODEL_UPLOAD_INVALID`,
 *   `TRIAGE_MODEL_SIGNATURE_MISMATCH`.
 */
function checkArtefacts(input: RegisterInput, card: CardSummary, label: string): void {
  const code = card.source === 'external' ? 'TRIAGE_MODEL_UPLOAD_INVALID' : 'TRIAGE_MODEL_INVALID';
  let sig;
  try {
    sig = readSignature(input.onnx);
  } catch (e) {
    throw new TriageError(code, `${label}: model.onnx is not an ONNX model`, [], { cause: e });
  }
  const outs = sig.outputs.map((o) => o.name);
  const [only] = sig.inputs;
  if (
    sig.inputs.length !== 1 ||
    only?.name !== INPUT_NAME ||
    only.type !== 'float' ||
    !outs.includes(LOGIT_OUTPUT) ||
    !outs.includes(PROBABILITY_OUTPUT)
  )
    throw new TriageError(
      code,
      `${label}: model.onnx lacks the served IO (input '${INPUT_NAME}' float [N, F]; outputs '${LOGIT_OUTPUT}', ` +
        `'${PROBABILITY_OUTPUT}'); use registerExternalOnnx for models trained elsewhere`,
    );
  checkSignature(
    modelInputSignature(sig),
    { names: card.featureNames, version: card.featureSchemaVersion },
    label,
  );
  if (sig.metadata[META.task] && sig.metadata[META.task] !== card.task)
    throw new TriageError(
      code,
      `${label}: model.onnx is a ${sig.metadata[META.task]} model, card says ${card.task}`,
    );
  if (!isTrained(input)) return;
  const spec = assertModelSpec(input.spec);
  const d = input.card;
  const same = (a: readonly string[], b: readonly string[]): boolean =>
    a.length === b.length && a.every((x, i) => x === b[i]);
  const problems = [
    spec.task !== d.task && `spec task ${spec.task} != card task ${d.task}`,
    !same(spec.featureNames, d.featureNames) && 'spec featureNames != card featureNames',
    spec.featureSchemaVersion !== d.featureSchemaVersion &&
      `spec featureSchemaVersion ${spec.featureSchemaVersion} != card ${d.featureSchemaVersion}`,
    spec.architecture !== d.architecture &&
      `spec architecture ${spec.architecture} != card ${d.architecture}`,
    spec.calibration.kind !== d.calibration.chosen &&
      `spec calibration ${spec.calibration.kind} != card ${d.calibration.chosen}`,
    spec.seed !== d.seed && `spec seed ${spec.seed} != card seed ${d.seed}`,
  ].filter((p): p is string => typeof p === 'string');
  if (problems.length > 0) throw new TriageError('TRIAGE_MODEL_INVALID', `${label}: ${problems.join('; ')}`);
}

/** The extra files of a trained input, as bytes. @throws `TRIAGE_MODEL_INVALID` for a forbidden name. */
function extraFiles(name: string, input: RegisterInput): (readonly [string, Uint8Array])[] {
  const pattern = new RegExp(FILE_NAME_PATTERN);
  return Object.entries((isTrained(input) && input.files) || {}).map(([file, data]) => {
    if (!pattern.test(file))
      throw new TriageError(
        'TRIAGE_MODEL_INVALID',
        `${name}: extra file name ${JSON.stringify(file)} is not allowed`,
      );
    return [file, typeof data === 'string' ? new TextEncoder().encode(data) : data] as const;
  });
}

/**
 * Registers a new version of `name` and points `challenger` at it.
 * @returns the registered version, loaded back from disk.
 * @throws TriageError `TRIAGE_MODEL_INVALID` (bad card, spec or graph, or a task other than
 *   the name's; `TRIAGE_MODEL_UPLOAD_INVALID` for external models),
 *   `TRIAGE_MODEL_SIGNATURE_MISMATCH` (graph features != card features),
 *   `TRIAGE_MODEL_REGISTRY_BUSY` (lock not obtained in time, or lost before the commit),
 *   `TRIAGE_MODEL_REGISTRY_READ_ONLY` (the registry takes no writes); whatever an event hook throws on `model.registration_abandoned` or `model.registered` (nothing registered, see the module doc).
 */
export async function registerVersion(
  reg: RegistryLayout,
  name: string,
  input: RegisterInput,
  o: { onEvent?: EventHook } = {},
): Promise<ResolvedModel> {
  reg.assertWritable();
  const dir = reg.nameDir(name);
  const summary = summarise(input);
  checkArtefacts(input, summary, name);
  await reg.opts.verifyOnnx?.(input.onnx, `${name} (new version)`);
  const actor = input.actor ?? 'system';
  await mkdir(dir, { recursive: true });
  const version = await reg.withLock(name, async (assertHeld) => {
    const versions = await reg.versions(name);
    const last = versions.at(-1);
    if (last !== undefined) {
      const lastCard = await reg.readCard(name, last);
      if (lastCard.task !== summary.task)
        throw new TriageError(
          'TRIAGE_MODEL_INVALID',
          `${name} holds ${lastCard.task} models, not ${summary.task}`,
        );
    }
    await settleIntents(reg, name, actor, o.onEvent);
    const version = await nextVersion(reg, name);
    const aliases = await reg.aliases(name);
    const at = reg.now();
    const onnx = withMetadata(input.onnx, {
      [META.modelVersion]: `${name}@${version}`,
      [META.source]: summary.source === 'trained' ? 'invoice-triage' : 'external',
    });
    const specJson = isTrained(input) ? JSON.stringify(input.spec, null, 2) + '\n' : null;
    const extra = extraFiles(name, input);
    const card: ModelCard = validateCard({
      cardSchema: 1,
      name,
      version,
      createdAt: at,
      parentVersion: input.parentVersion === undefined ? aliases.champion : input.parentVersion,
      ...summary,
      artefacts: {
        onnxSha256: artefactSha256(onnx),
        specSha256: specJson === null ? null : artefactSha256(specJson),
        ...(extra.length > 0
          ? { files: Object.fromEntries(extra.map(([f, d]) => [f, artefactSha256(d)])) }
          : {}),
      },
      history: [{ at, action: 'registered', actor }],
    });
    const cardJson = JSON.stringify(card, null, 2) + '\n';
    const intent = { version, cardSha256: artefactSha256(cardJson), at, actor };
    const staging = join(dir, `.staging-${randomUUID()}`);
    await mkdir(staging);
    try {
      await writeDurable(join(staging, 'model.onnx'), onnx);
      if (specJson !== null) await writeDurable(join(staging, 'spec.json'), specJson);
      for (const [file, data] of extra) await writeDurable(join(staging, file), data);
      await writeDurable(join(staging, 'card.json'), cardJson);
      await fsyncDir(staging);
      await reg.opts.onStage?.('staged');
      // The intent outlives a crash from here until the version is in place (registry-ledger.ts).
      await writeIntent(dir, intent);
      // Audited before it becomes visible: a hook that throws leaves nothing registered.
      await reg.emit(
        {
          type: 'model.registered',
          at,
          name,
          version,
          actor,
          source: summary.source,
          parentVersion: card.parentVersion,
          onnxSha256: card.artefacts.onnxSha256,
          cardSha256: intent.cardSha256,
        },
        o.onEvent,
      );
      await reg.opts.onStage?.('audited');
      try {
        assertHeld();
        await rename(staging, join(dir, version));
      } catch (e) {
        await reg.emit(
          {
            type: 'model.registration_failed',
            at: reg.now(),
            name,
            version,
            actor,
            cardSha256: intent.cardSha256,
            error: isTriageError(e) ? e.code : 'write failed',
          },
          o.onEvent,
        );
        await retireIntent(dir, intent, 'model.registration_failed', reg.now());
        throw e;
      }
    } catch (e) {
      await rm(staging, { recursive: true, force: true });
      throw e;
    }
    await fsyncDir(dir);
    await clearIntent(dir, version);
    await reg.opts.onStage?.('committed');
    await reg.writeAliases(name, {
      ...aliases,
      challenger: version,
      history: [
        ...aliases.history,
        { at, alias: 'challenger', from: aliases.challenger, to: version, actor },
      ],
    });
    await reg.opts.onStage?.('aliased');
    await reg.cleanStaging(name);
    return version;
  });
  return reg.resolve(name, version);
}

/**
 * Registers a model trained elsewhere (e.g. scikit-learn exported by skl2onnx) after
 * rewriting it to the served IO (see `normaliseExternalOnnx`) and checking that its input
 * matches the task's served feature schema: the draft's `featureNames` must equal the
 * schema's names in order and the graph's input width their count. `o.onEvent` receives the
 * `model.registered` event after the registry's own hook, before the version is visible (as
 * {@link registerVersion}: throwing abandons the registration).
 * @returns the registered version (as a challenger) and how the graph was adapted.
 * @throws TriageError `TRIAGE_MODEL_SIGNATURE_MISMATCH` (both signatures in the message),
 *   `TRIAGE_MODEL_UPLOAD_INVALID` (not a usable binary classifier, or an invalid draft),
 *   `TRIAGE_MODEL_INVALID` when no feature schema is configured for the task.
 */
export async function registerExternalOnnx(
  reg: RegistryLayout,
  name: string,
  buffer: Uint8Array,
  cardDraft: ExternalCardDraft,
  o: { actor?: string; parentVersion?: string | null; onEvent?: EventHook } = {},
): Promise<ResolvedModel & { adaptation: ExternalAdaptation }> {
  const draft = validateExternalCardDraft(cardDraft);
  const expected = reg.opts.featureSchemas?.[draft.task];
  if (!expected)
    throw new TriageError('TRIAGE_MODEL_INVALID', `No served feature schema is configured for ${draft.task}`);
  const { onnx, adaptation } = normaliseExternalOnnx(buffer, { ...draft, expected });
  const note =
    `Adapted to the served IO: input '${adaptation.originalInput.name}' -> 'features'; probability = column ` +
    `${adaptation.positiveColumn} of '${adaptation.probabilityTensor}'` +
    (adaptation.classLabels ? ` (class labels ${JSON.stringify(adaptation.classLabels)})` : '') +
    (adaptation.droppedZipMap ? '; ZipMap dropped' : '') +
    `; ${adaptation.prunedNodes} node(s) not needed for it pruned; logit = ln(p / (1 - p)), p clamped to [1e-7, 1 - 1e-7].`;
  const card = { ...draft, notes: [...draft.notes, note] };
  const { onEvent, ...who } = o;
  const resolved = await registerVersion(reg, name, { onnx, card, ...who }, onEvent ? { onEvent } : {});
  return { ...resolved, adaptation };
}
