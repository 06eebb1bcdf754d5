/**
 * The model registry: versioned artefacts on disk, aliases, promotion.
 *
 * ```
 * <root>/<name>/aliases.json                    {"champion": "2", "challenger": "3", "history": [...]}
 * <root>/<name>/<version>/model.onnx            served graph, metadata stamped `<name>@<version>`
 * <root>/<name>/<version>/spec.json             TrainedModelSpec (trained models only)
 * <root>/<name>/<version>/card.json             ModelCard (TypeBox-validated)
 * ```
 *
 * Versions are integers counted from 1 per name. A version directory is staged under a
 * dot-name and renamed into place in one step, and `aliases.json` is replaced atomically, so
 * a crash never leaves a half-registered version or a torn alias file; writers of one name
 * are serialised by a lock directory. `aliases.json` is the source of truth for aliases.
 *
 * Promotion rule (see {@link promotionRefusal}): a version may become champion when there is
 * no champion, or when its headline evaluation is not lower than the champion's on the same
 * evaluation set with the same metric: either both cards' `evaluation` share `metric` and
 * `datasetHash`, or the candidate's `evaluation.baselines` holds the champion's score on the
 * candidate's set. Otherwise it is refused (`TRIAGE_MODEL_PROMOTION_REFUSED`, 409) unless
 * forced with a reason; forced promotions are recorded in both cards' history and in the
 * alias history.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TriageError, isTriageError } from '../core/errors.js';
import { fsyncDir, withDirLock, writeDurable, writeFileAtomic, type LockOptions } from './atomic-fs.js';
import {
  FILE_NAME_PATTERN,
  evaluationFromTrainingCard,
  validateCard,
  validateEvaluation,
  validateExternalCardDraft,
  type CardHistoryEntry,
  type Evaluation,
  type ExternalCardDraft,
  type ModelCard,
} from './card.js';
import {
  INPUT_NAME,
  LOGIT_OUTPUT,
  META,
  PROBABILITY_OUTPUT,
  readSignature,
  withMetadata,
} from './onnx-graph.js';
import { normaliseExternalOnnx, type ExternalAdaptation } from './external-onnx.js';
import { checkSignature, modelInputSignature, type FeatureSignature } from './signature.js';
import {
  assertModelCardDraft,
  assertModelSpec,
  type ModelCardDraft,
  type ModelTask,
  type TrainedModelSpec,
} from './spec.js';

/** Alias names. */
export type AliasName = 'champion' | 'challenger';

/** One change of an alias. */
export interface AliasChange {
  at: string;
  alias: AliasName;
  from: string | null;
  to: string | null;
  actor: string;
  reason?: string;
  forced?: boolean;
}

/** Content of `aliases.json`. */
export interface Aliases {
  champion: string | null;
  challenger: string | null;
  history: AliasChange[];
}

/** Events the registry emits (e.g. for the service's audit log). */
export type RegistryEvent =
  | {
      type: 'model.registered';
      at: string;
      name: string;
      version: string;
      actor: string;
      source: ModelCard['source'];
      parentVersion: string | null;
      onnxSha256: string;
    }
  | {
      type: 'model.promoted';
      at: string;
      name: string;
      version: string;
      previousChampion: string | null;
      actor: string;
      reason: string | null;
      forced: boolean;
      /** Why the rule refused, when forced. */
      overriddenRefusal: string | null;
    }
  | {
      type: 'model.promotion_refused';
      at: string;
      name: string;
      version: string;
      champion: string | null;
      actor: string;
      refusal: string;
    }
  | {
      /** The promotion was audited (`model.promoted`) but writing it failed; nothing changed. */
      type: 'model.promotion_failed';
      at: string;
      name: string;
      version: string;
      actor: string;
      error: string;
    };

/** A hook receiving registry events; awaited, and may throw (see {@link RegistryOptions.onEvent}). */
export type EventHook = (e: RegistryEvent) => void | Promise<void>;

/** Options of {@link ModelRegistry}. */
export interface RegistryOptions {
  /** Directory holding one folder per model name, e.g. `models/artifacts`. */
  root: string;
  /**
   * Called for every event, awaited. For `model.promoted` it is called before the alias
   * changes: if it throws, the promotion is abandoned (so no promotion escapes the audit log).
   */
  onEvent?: (e: RegistryEvent) => void | Promise<void>;
  clock?: () => Date;
  lock?: LockOptions;
  /**
   * The feature schema each task is served with. Needed by {@link ModelRegistry.registerExternalOnnx};
   * when given, promotion also refuses a model whose features differ from it (it could not serve).
   */
  featureSchemas?: Partial<Record<ModelTask, FeatureSignature>>;
  /**
   * Runs a model before it is registered (e.g. `verifyServedModel` from inference/, which loads
   * it in ONNX Runtime and scores probe rows). Throwing refuses the registration.
   */
  verifyOnnx?: (onnx: Uint8Array, label: string) => Promise<void>;
  /** Crash drills only: called at each step of a registration. */
  onStage?: (stage: 'staged' | 'committed' | 'aliased') => void | Promise<void>;
}

/** A registered version, loaded and verified. */
export interface ResolvedModel {
  name: string;
  version: string;
  /** `<name>@<version>`, as stamped in the ONNX metadata and recorded in decisions. */
  label: string;
  dir: string;
  card: ModelCard;
  /** Null for external (bring-your-own) models. */
  spec: TrainedModelSpec | null;
  /** The served graph; its sha256 matched the card's. */
  onnx: Uint8Array;
  /** Extra files registered with the version (e.g. `line-context.json`), verified. */
  files: Record<string, Uint8Array>;
}

/** A version in a listing. */
export interface VersionSummary {
  version: string;
  label: string;
  task: ModelCard['task'];
  architecture: string;
  source: ModelCard['source'];
  createdAt: string;
  parentVersion: string | null;
  evaluation: ModelCard['evaluation'];
  /** Serving thresholds of the card (probability). */
  thresholds: ModelCard['thresholds'];
  aliases: AliasName[];
}

/** One model name in a listing. */
export interface ModelListing {
  name: string;
  champion: string | null;
  challenger: string | null;
  versions: VersionSummary[];
}

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

/** A model trained elsewhere, already normalised to the served IO (see `registerExternalOnnx`). */
export interface RegisterExternal {
  onnx: Uint8Array;
  card: ExternalCardDraft;
  parentVersion?: string | null;
  actor?: string;
}

/** What {@link ModelRegistry.register} takes. */
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

/** Outcome of a promotion. */
export interface PromotionResult {
  name: string;
  version: string;
  previousChampion: string | null;
  forced: boolean;
  /** False when the version already was the champion (nothing written). */
  changed: boolean;
}

const NAME_RE = /^[a-z0-9][a-z0-9-]{0,63}$/;
const VERSION_RE = /^[1-9][0-9]{0,8}$/;

const sha256 = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

function notFound(detail: string): TriageError {
  return new TriageError('TRIAGE_MODEL_NOT_FOUND', detail);
}

/**
 * Whether `candidate` may replace `champion`: allowed when there is no champion, or when
 * `candidate.evaluation.value >= v`, `v` being the champion's score on the same set with the
 * same metric: `champion.evaluation.value` when metric and `datasetHash` match, else the
 * candidate's `evaluation.baselines` entry for the champion's version.
 * @returns `null` when allowed, else the reason for refusal.
 */
export function promotionRefusal(candidate: ModelCard, champion: ModelCard | null): string | null {
  if (champion === null) return null;
  const c = candidate.evaluation;
  const h = champion.evaluation;
  if (candidate.task !== champion.task)
    return `task ${candidate.task} differs from the champion's ${champion.task}`;
  let championValue: number;
  if (c.metric === h.metric && c.datasetHash === h.datasetHash) championValue = h.value;
  else {
    const b = c.baselines.find((x) => x.version === champion.version);
    if (!b)
      return (
        `evaluated by ${c.metric} on ${c.split} ${c.datasetHash.slice(0, 12)} (n=${c.size}), the champion ` +
        `${champion.version} by ${h.metric} on ${h.split} ${h.datasetHash.slice(0, 12)} (n=${h.size}), and the ` +
        `card has no baseline score of the champion on the same set: not comparable`
      );
    championValue = b.value;
  }
  if (c.value < championValue)
    return `${c.metric} ${c.value.toFixed(4)} is worse than the champion's ${championValue.toFixed(4)} on the same evaluation set`;
  return null;
}

/** Versioned model artefacts with champion/challenger aliases. */
export class ModelRegistry {
  readonly root: string;
  private readonly clock: () => Date;

  constructor(private readonly opts: RegistryOptions) {
    this.root = opts.root;
    this.clock = opts.clock ?? (() => new Date());
  }

  private nameDir(name: string): string {
    if (!NAME_RE.test(name)) throw notFound(`No model named ${JSON.stringify(name)} (names are [a-z0-9-])`);
    return join(this.root, name);
  }

  private now(): string {
    return this.clock().toISOString();
  }

  /** Calls the registry's `onEvent`, then the call's own (both awaited; either may throw). */
  private async emit(e: RegistryEvent, onEvent?: EventHook): Promise<void> {
    await this.opts.onEvent?.(e);
    await onEvent?.(e);
  }

  private lock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return withDirLock(join(this.nameDir(name), '.lock'), fn, this.opts.lock);
  }

  /** Names with at least one version or an alias file. */
  async names(): Promise<string[]> {
    const entries = await readdir(this.root, { withFileTypes: true }).catch(() => []);
    return entries
      .filter((e) => e.isDirectory() && NAME_RE.test(e.name))
      .map((e) => e.name)
      .sort();
  }

  /** Registered versions of `name`, ascending. */
  async versions(name: string): Promise<string[]> {
    const entries = await readdir(this.nameDir(name), { withFileTypes: true }).catch(() => []);
    return entries
      .filter((e) => e.isDirectory() && VERSION_RE.test(e.name))
      .map((e) => e.name)
      .sort((a, b) => Number(a) - Number(b));
  }

  /** The aliases of `name` (both null when none were set). */
  async aliases(name: string): Promise<Aliases> {
    const path = join(this.nameDir(name), 'aliases.json');
    let raw: string;
    try {
      raw = await readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT')
        return { champion: null, challenger: null, history: [] };
      throw e;
    }
    try {
      const a = JSON.parse(raw) as Aliases;
      return { champion: a.champion ?? null, challenger: a.challenger ?? null, history: a.history ?? [] };
    } catch (e) {
      throw new TriageError('TRIAGE_MODEL_INVALID', `${path} is not valid JSON`, [], { cause: e });
    }
  }

  /**
   * The card of a version, by alias (`champion`, `challenger`) or number, without loading the
   * model (cheap; the artefacts are verified by {@link resolve}).
   * @throws TriageError `TRIAGE_MODEL_NOT_FOUND` for an unknown name, version or unset alias.
   */
  async card(name: string, aliasOrVersion: string): Promise<ModelCard> {
    return this.readCard(name, await this.versionOf(name, aliasOrVersion));
  }

  /** The version number an alias or version (`3`, `v3`) names. @throws `TRIAGE_MODEL_NOT_FOUND`. */
  private async versionOf(name: string, aliasOrVersion: string): Promise<string> {
    if (aliasOrVersion === 'champion' || aliasOrVersion === 'challenger') {
      const v = (await this.aliases(name))[aliasOrVersion];
      if (v === null) throw notFound(`Model ${name} has no ${aliasOrVersion}`);
      return v;
    }
    const version = aliasOrVersion.replace(/^v(?=\d)/, '');
    if (!VERSION_RE.test(version)) throw notFound(`Model ${name}: no alias or version ${aliasOrVersion}`);
    return version;
  }

  private async readCard(name: string, version: string): Promise<ModelCard> {
    const path = join(this.nameDir(name), version, 'card.json');
    let raw: string;
    try {
      raw = await readFile(path, 'utf8');
    } catch {
      throw notFound(`Model ${name}@${version} not found`);
    }
    return validateCard(JSON.parse(raw));
  }

  /**
   * Loads a version by alias (`champion`, `challenger`) or number, verifying the ONNX bytes
   * against the card's sha256.
   * @throws TriageError `TRIAGE_MODEL_NOT_FOUND` for an unknown name, version or unset alias;
   *   `TRIAGE_MODEL_INVALID` when an artefact is corrupt or was altered.
   */
  async resolve(name: string, aliasOrVersion: string = 'champion'): Promise<ResolvedModel> {
    const dir = this.nameDir(name);
    const version = await this.versionOf(name, aliasOrVersion);
    const card = await this.readCard(name, version);
    const vdir = join(dir, version);
    const onnx = new Uint8Array(await readFile(join(vdir, 'model.onnx')));
    if (sha256(onnx) !== card.artefacts.onnxSha256)
      throw new TriageError(
        'TRIAGE_MODEL_INVALID',
        `${name}@${version}/model.onnx does not match its card's sha256`,
      );
    let spec: TrainedModelSpec | null = null;
    if (card.artefacts.specSha256 !== null) {
      const raw = await readFile(join(vdir, 'spec.json'), 'utf8');
      if (sha256(raw) !== card.artefacts.specSha256)
        throw new TriageError(
          'TRIAGE_MODEL_INVALID',
          `${name}@${version}/spec.json does not match its card's sha256`,
        );
      spec = assertModelSpec(JSON.parse(raw));
    }
    const files: Record<string, Uint8Array> = {};
    for (const [file, hash] of Object.entries(card.artefacts.files ?? {})) {
      const bytes = new Uint8Array(await readFile(join(vdir, file)));
      if (sha256(bytes) !== hash)
        throw new TriageError(
          'TRIAGE_MODEL_INVALID',
          `${name}@${version}/${file} does not match its card's sha256`,
        );
      files[file] = bytes;
    }
    return { name, version, label: `${name}@${version}`, dir: vdir, card, spec, onnx, files };
  }

  /** Every model name with its aliases and versions (from the cards). */
  async list(): Promise<ModelListing[]> {
    const out: ModelListing[] = [];
    for (const name of await this.names()) {
      const aliases = await this.aliases(name);
      const versions: VersionSummary[] = [];
      for (const v of await this.versions(name)) {
        const card = await this.readCard(name, v);
        versions.push({
          version: v,
          label: `${name}@${v}`,
          task: card.task,
          architecture: card.architecture,
          source: card.source,
          createdAt: card.createdAt,
          parentVersion: card.parentVersion,
          evaluation: card.evaluation,
          thresholds: card.thresholds,
          aliases: (['champion', 'challenger'] as const).filter((a) => aliases[a] === v),
        });
      }
      if (versions.length > 0)
        out.push({ name, champion: aliases.champion, challenger: aliases.challenger, versions });
    }
    return out;
  }

  private checkArtefacts(input: RegisterInput, card: CardSummary, label: string): void {
    const code = card.source === 'external' ? 'TRIAGE_MODEL_UPLOAD_INVALID' : 'TRIAGE_MODEL_INVALID';
    let sig;
    try {
      sig = readSignature(input.onnx);
    } catch (e) {
      throw new TriageError(code, `${label}: model.onnx is not an ONNX model`, [], { cause: e });
    }
    const outs = sig.outputs.map((o) => o.name);
    if (
      sig.inputs.length !== 1 ||
      sig.inputs[0]!.name !== INPUT_NAME ||
      sig.inputs[0]!.type !== 'float' ||
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
    if (problems.length > 0)
      throw new TriageError('TRIAGE_MODEL_INVALID', `${label}: ${problems.join('; ')}`);
  }

  /**
   * Registers a new version of `name` and points `challenger` at it. Refuses a model whose
   * graph, spec and card disagree (task, feature names and schema version, architecture,
   * calibration, seed).
   * @returns the registered version, loaded back from disk.
   * @throws TriageError `TRIAGE_MODEL_INVALID` (bad card, spec or graph, or a task other than
   *   the name's; `TRIAGE_MODEL_UPLOAD_INVALID` for external models),
   *   `TRIAGE_MODEL_SIGNATURE_MISMATCH` (graph features != card features),
   *   `TRIAGE_MODEL_REGISTRY_BUSY` (lock timeout).
   */
  async register(
    name: string,
    input: RegisterInput,
    o: { onEvent?: EventHook } = {},
  ): Promise<ResolvedModel> {
    const dir = this.nameDir(name);
    const summary = summarise(input);
    const source = summary.source;
    this.checkArtefacts(input, summary, name);
    await this.opts.verifyOnnx?.(input.onnx, `${name} (new version)`);
    const actor = input.actor ?? 'system';
    await mkdir(dir, { recursive: true });
    const version = await this.lock(name, async () => {
      const versions = await this.versions(name);
      if (versions.length > 0) {
        const last = await this.readCard(name, versions[versions.length - 1]!);
        if (last.task !== summary.task)
          throw new TriageError(
            'TRIAGE_MODEL_INVALID',
            `${name} holds ${last.task} models, not ${summary.task}`,
          );
      }
      const version = String(versions.length === 0 ? 1 : Number(versions[versions.length - 1]) + 1);
      const aliases = await this.aliases(name);
      const at = this.now();
      const onnx = withMetadata(input.onnx, {
        [META.modelVersion]: `${name}@${version}`,
        [META.source]: source === 'trained' ? 'invoice-triage' : 'external',
      });
      const specJson = isTrained(input) ? JSON.stringify(input.spec, null, 2) + '\n' : null;
      const extra = Object.entries((isTrained(input) && input.files) || {})
        .map(([file, data]) => {
          if (!new RegExp(FILE_NAME_PATTERN).test(file))
            throw new TriageError(
              'TRIAGE_MODEL_INVALID',
              `${name}: extra file name ${JSON.stringify(file)} is not allowed`,
            );
          return [file, data] as const;
        })
        .map(
          ([file, data]) => [file, typeof data === 'string' ? new TextEncoder().encode(data) : data] as const,
        );
      const card: ModelCard = validateCard({
        cardSchema: 1,
        name,
        version,
        createdAt: at,
        parentVersion: input.parentVersion === undefined ? aliases.champion : input.parentVersion,
        ...summary,
        artefacts: {
          onnxSha256: sha256(onnx),
          specSha256: specJson === null ? null : sha256(specJson),
          ...(extra.length > 0 ? { files: Object.fromEntries(extra.map(([f, d]) => [f, sha256(d)])) } : {}),
        },
        history: [{ at, action: 'registered', actor }],
      });
      const staging = join(dir, `.staging-${randomUUID()}`);
      await mkdir(staging);
      try {
        await writeDurable(join(staging, 'model.onnx'), onnx);
        if (specJson !== null) await writeDurable(join(staging, 'spec.json'), specJson);
        for (const [file, data] of extra) await writeDurable(join(staging, file), data);
        await writeDurable(join(staging, 'card.json'), JSON.stringify(card, null, 2) + '\n');
        await fsyncDir(staging);
        await this.opts.onStage?.('staged');
        await rename(staging, join(dir, version));
      } catch (e) {
        await rm(staging, { recursive: true, force: true });
        throw e;
      }
      await fsyncDir(dir);
      await this.opts.onStage?.('committed');
      await this.writeAliases(name, {
        ...aliases,
        challenger: version,
        history: [
          ...aliases.history,
          { at, alias: 'challenger', from: aliases.challenger, to: version, actor },
        ],
      });
      await this.opts.onStage?.('aliased');
      await this.cleanStaging(name);
      return version;
    });
    const resolved = await this.resolve(name, version);
    await this.emit(
      {
        type: 'model.registered',
        at: resolved.card.createdAt,
        name,
        version,
        actor,
        source,
        parentVersion: resolved.card.parentVersion,
        onnxSha256: resolved.card.artefacts.onnxSha256,
      },
      o.onEvent,
    );
    return resolved;
  }

  private async writeAliases(name: string, a: Aliases): Promise<void> {
    await writeFileAtomic(join(this.nameDir(name), 'aliases.json'), JSON.stringify(a, null, 2) + '\n');
  }

  private async writeCard(card: ModelCard): Promise<void> {
    await writeFileAtomic(
      join(this.nameDir(card.name), card.version, 'card.json'),
      JSON.stringify(validateCard(card), null, 2) + '\n',
    );
  }

  /** Removes staging directories left by crashed registrations (older than an hour). */
  private async cleanStaging(name: string): Promise<void> {
    const dir = this.nameDir(name);
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (!e.isDirectory() || !e.name.startsWith('.staging-')) continue;
      const s = await stat(join(dir, e.name)).catch(() => null);
      if (s && Date.now() - s.mtimeMs > 3_600_000)
        await rm(join(dir, e.name), { recursive: true, force: true });
    }
  }

  /**
   * Registers a model trained elsewhere (e.g. scikit-learn exported by skl2onnx) after
   * rewriting it to the served IO (see `normaliseExternalOnnx`) and checking that its input
   * matches the task's served feature schema: the draft's `featureNames` must equal the
   * schema's names in order and the graph's input width their count.
   * @returns the registered version (as a challenger) and how the graph was adapted.
   * @throws TriageError `TRIAGE_MODEL_SIGNATURE_MISMATCH` (both signatures in the message),
   *   `TRIAGE_MODEL_UPLOAD_INVALID` (not a usable binary classifier, or an invalid draft),
   *   `TRIAGE_MODEL_INVALID` when no feature schema is configured for the task.
   */
  async registerExternalOnnx(
    name: string,
    buffer: Uint8Array,
    cardDraft: ExternalCardDraft,
    o: { actor?: string; parentVersion?: string | null } = {},
  ): Promise<ResolvedModel & { adaptation: ExternalAdaptation }> {
    const draft = validateExternalCardDraft(cardDraft);
    const expected = this.opts.featureSchemas?.[draft.task];
    if (!expected)
      throw new TriageError(
        'TRIAGE_MODEL_INVALID',
        `No served feature schema is configured for ${draft.task}`,
      );
    const { onnx, adaptation } = normaliseExternalOnnx(buffer, { ...draft, expected });
    const note =
      `Adapted to the served IO: input '${adaptation.originalInput.name}' -> 'features'; probability = column ` +
      `${adaptation.positiveColumn} of '${adaptation.probabilityTensor}'` +
      (adaptation.classLabels ? ` (class labels ${JSON.stringify(adaptation.classLabels)})` : '') +
      (adaptation.droppedZipMap ? '; ZipMap dropped' : '') +
      `; ${adaptation.prunedNodes} node(s) not needed for it pruned; logit = ln(p / (1 - p)), p clamped to [1e-7, 1 - 1e-7].`;
    const card = { ...draft, notes: [...draft.notes, note] };
    const resolved = await this.register(name, { onnx, card, ...o });
    return { ...resolved, adaptation };
  }

  /**
   * Makes `version` the champion of `name` (see the promotion rule in the module doc).
   * @param o.actor who promotes (recorded); o.reason why (required when forcing);
   *   o.force promote even when the rule refuses; o.onEvent this call's own event hook, called
   *   after the registry's with the same contract (throwing on `model.promoted` abandons it).
   * @throws TriageError `TRIAGE_MODEL_PROMOTION_REFUSED` (409) when the rule refuses and
   *   `force` is not set, or `force` is set without a reason; `TRIAGE_MODEL_NOT_FOUND`;
   *   `TRIAGE_MODEL_SIGNATURE_MISMATCH` when `featureSchemas` is configured and the version's
   *   features differ from the served ones (forcing cannot make such a model serve).
   */
  async promote(
    name: string,
    version: string,
    o: { actor: string; reason?: string; force?: boolean; onEvent?: EventHook },
  ): Promise<PromotionResult> {
    const v = version.replace(/^v(?=\d)/, '');
    await this.readCard(name, v); // NOT_FOUND before taking the lock
    return this.lock(name, async () => {
      const candidate = await this.readCard(name, v);
      const aliases = await this.aliases(name);
      const previous = aliases.champion;
      if (previous === v)
        return { name, version: v, previousChampion: previous, forced: false, changed: false };
      const champion = previous === null ? null : await this.readCard(name, previous);
      const served = this.opts.featureSchemas?.[candidate.task];
      if (served)
        checkSignature(
          {
            names: candidate.featureNames,
            count: candidate.featureNames.length,
            version: candidate.featureSchemaVersion,
          },
          served,
          `${name}@${v}`,
        );
      const refusal = promotionRefusal(candidate, champion);
      const force = o.force === true;
      if (force && !o.reason?.trim())
        throw new TriageError(
          'TRIAGE_MODEL_PROMOTION_REFUSED',
          `Forcing ${name}@${v} to champion needs a reason`,
        );
      const at = this.now();
      if (refusal !== null && !force) {
        await this.emit(
          {
            type: 'model.promotion_refused',
            at,
            name,
            version: v,
            champion: previous,
            actor: o.actor,
            refusal,
          },
          o.onEvent,
        );
        throw new TriageError(
          'TRIAGE_MODEL_PROMOTION_REFUSED',
          `Promotion of ${name}@${v} over champion ${name}@${previous} refused: ${refusal}`,
        );
      }
      const forced = refusal !== null;
      await this.emit(
        {
          type: 'model.promoted',
          at,
          name,
          version: v,
          previousChampion: previous,
          actor: o.actor,
          reason: o.reason ?? null,
          forced,
          overriddenRefusal: refusal,
        },
        o.onEvent,
      );
      try {
        const entry: CardHistoryEntry = {
          at,
          action: 'promoted',
          actor: o.actor,
          ...(o.reason ? { reason: o.reason } : {}),
          ...(forced ? { forced: true, overriddenRefusal: refusal! } : {}),
          otherVersion: previous,
        };
        await this.writeCard({ ...candidate, history: [...candidate.history, entry] });
        if (champion !== null)
          await this.writeCard({
            ...champion,
            history: [...champion.history, { at, action: 'demoted', actor: o.actor, otherVersion: v }],
          });
        const history: AliasChange[] = [
          ...aliases.history,
          {
            at,
            alias: 'champion',
            from: previous,
            to: v,
            actor: o.actor,
            ...(o.reason ? { reason: o.reason } : {}),
            ...(forced ? { forced } : {}),
          },
        ];
        if (aliases.challenger === v)
          history.push({ at, alias: 'challenger', from: v, to: null, actor: o.actor });
        await this.writeAliases(name, {
          champion: v,
          challenger: aliases.challenger === v ? null : aliases.challenger,
          history,
        });
      } catch (e) {
        await this.emit(
          {
            type: 'model.promotion_failed',
            at: this.now(),
            name,
            version: v,
            actor: o.actor,
            error: isTriageError(e) ? e.code : 'write failed',
          },
          o.onEvent,
        );
        throw e;
      }
      return { name, version: v, previousChampion: previous, forced, changed: true };
    });
  }

  /**
   * Watches an alias of `name` and calls `onChange` with the new version (or null) whenever it
   * changes, by polling the mtime, size and inode of `aliases.json` every `intervalMs`
   * (default 1000; cheap: one `stat`). Pass `initial`, the version the caller already holds, so
   * that a change between loading and watching is not missed. The timer does not keep the
   * process alive.
   * @returns `close()` stops watching.
   */
  watchAlias(
    name: string,
    alias: AliasName,
    onChange: (version: string | null) => void | Promise<void>,
    o: { intervalMs?: number; initial?: string | null; onError?: (e: unknown) => void } = {},
  ): { close(): void } {
    const path = join(this.nameDir(name), 'aliases.json');
    let lastStat = '';
    let current: string | null | undefined = o.initial;
    let busy = false;
    const tick = async (): Promise<void> => {
      if (busy) return;
      busy = true;
      try {
        const s = await stat(path).catch(() => null);
        const key = s ? `${s.mtimeMs}:${s.size}:${s.ino}` : 'absent';
        if (key === lastStat) return;
        lastStat = key;
        const v = (await this.aliases(name))[alias];
        if (current === undefined) current = v;
        else if (v !== current) {
          current = v;
          await onChange(v);
        }
      } catch (e) {
        lastStat = '';
        o.onError?.(e);
      } finally {
        busy = false;
      }
    };
    void tick();
    const timer = setInterval(() => void tick(), o.intervalMs ?? 1000);
    timer.unref();
    return { close: () => clearInterval(timer) };
  }
}
