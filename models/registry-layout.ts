/**
 * The registry's layout on disk and its read side: names, versions, aliases, cards, verified
 * loading, the listing, and the primitives the writers share (atomic alias and card writes,
 * the per-name lock).
 *
 * ```
 * <root>/<name>/aliases.json                    {"champion": "2", "challenger": "3", "history": [...]}
 * <root>/<name>/<version>/model.onnx            served graph, metadata stamped `<name>@<version>`
 * <root>/<name>/<version>/spec.json             TrainedModelSpec (trained models only)
 * <root>/<name>/<version>/card.json             ModelCard (TypeBox-validated)
 * <root>/<name>/<version>/<file>                extra files registered with the version
 * <root>/<name>/.lock                           writers' lock (proper-lockfile)
 * <root>/<name>/.staging-<uuid>/                a registration in progress (or crashed)
 * <root>/<name>/.registering-<version>.json     a registration audited, not yet in place
 * <root>/<name>/.retired-<version>.json         a number audited and never committed (registry-ledger.ts)
 * ```
 *
 * Versions are integers counted from 1 per name. `aliases.json` is the source of truth for
 * aliases.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TriageError } from '../core/errors.js';
import { replaceFile, withFileLock, type LockOptions } from './atomic-fs.js';
import { validateCard, type ModelCard } from './card.js';
import type { FeatureSignature } from './signature.js';
import { assertModelSpec, type ModelTask, type TrainedModelSpec } from './spec.js';

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
  /** The champion went back to the version that served immediately before (no rule applied). */
  rollback?: boolean;
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
      /**
       * sha256 of the version's `card.json`, which holds the sha256 of every artefact: the
       * content the entry vouches for (emitted before the version is visible).
       */
      cardSha256: string;
    }
  | {
      /** The registration was audited (`model.registered`) but not committed; nothing is visible. */
      type: 'model.registration_failed';
      at: string;
      name: string;
      version: string;
      actor: string;
      cardSha256: string;
      error: string;
    }
  | {
      /**
       * A registration audited `model.registered` (or about to be) whose version never became
       * visible (the process crashed, or a hook failed, between the entry and the rename), found
       * by the next registration of the name: its number is retired, never given again
       * (models/registry-ledger.ts). `actor` is the registration that found it.
       */
      type: 'model.registration_abandoned';
      at: string;
      name: string;
      version: string;
      actor: string;
      /** As in the abandoned registration's `model.registered` entry. */
      cardSha256: string;
      /** The abandoned registration's `at`. */
      registeredAt: string;
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
      /**
       * A rollback: the version served immediately before the champion it replaces, put back
       * with a reason; the promotion rule is not applied.
       */
      rollback: boolean;
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

/** Options of the registry. */
export interface RegistryOptions {
  /** Directory holding one folder per model name, e.g. `models/artifacts`. */
  root: string;
  /**
   * Called for every event, awaited. For `model.promoted` it is called before the alias
   * changes, for `model.registered` before the version directory is renamed into place: if it
   * throws, the promotion or registration is abandoned (so neither escapes the audit log).
   */
  onEvent?: EventHook;
  clock?: () => Date;
  /** The writers' lock: wait and staleness (see `withFileLock`). */
  lock?: LockOptions;
  /**
   * The feature schema each task is served with. Needed to register external models; when
   * given, promotion also refuses a model whose features differ from it (it could not serve).
   */
  featureSchemas?: Partial<Record<ModelTask, FeatureSignature>>;
  /**
   * Runs a model before it is registered (e.g. `verifyServedModel` from inference/, which loads
   * it in ONNX Runtime and scores probe rows). Throwing refuses the registration.
   */
  verifyOnnx?: (onnx: Uint8Array, label: string) => Promise<void>;
  /**
   * Set: the registry refuses every write (registration, promotion) with
   * `TRIAGE_MODEL_REGISTRY_READ_ONLY` and this text as the detail (e.g. why: `MODELS_DIR=none`
   * reads the shipped registry, which must not change). Reads are unaffected.
   */
  readOnly?: string;
  /** Crash drills only: called at each step of a registration. */
  onStage?: (stage: 'staged' | 'audited' | 'committed' | 'aliased') => void | Promise<void>;
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

const NAME_RE = /^[a-z0-9][a-z0-9-]{0,63}$/;
/** A version directory's name. */
export const VERSION_RE = /^[1-9][0-9]{0,8}$/;

/** Hex sha256 of artefact bytes or text (UTF-8). */
export const artefactSha256 = (b: Uint8Array | string): string =>
  createHash('sha256').update(b).digest('hex');

/** `TRIAGE_MODEL_NOT_FOUND` with `detail`. */
export function notFound(detail: string): TriageError {
  return new TriageError('TRIAGE_MODEL_NOT_FOUND', detail);
}

/** Age after which a crashed registration's staging directory is removed, ms. */
const STAGING_MAX_AGE_MS = 3_600_000;

/** The registry's read side and the write primitives its writers share. */
export class RegistryLayout {
  readonly root: string;
  protected readonly clock: () => Date;

  constructor(readonly opts: RegistryOptions) {
    this.root = opts.root;
    this.clock = opts.clock ?? (() => new Date());
  }

  /** The folder of `name`. @throws `TRIAGE_MODEL_NOT_FOUND` for a name that is not `[a-z0-9-]`. */
  nameDir(name: string): string {
    if (!NAME_RE.test(name)) throw notFound(`No model named ${JSON.stringify(name)} (names are [a-z0-9-])`);
    return join(this.root, name);
  }

  /**
   * Refuses a write to a read-only registry ({@link RegistryOptions.readOnly}).
   * @throws TriageError `TRIAGE_MODEL_REGISTRY_READ_ONLY` (409) with the option's text.
   */
  assertWritable(): void {
    if (this.opts.readOnly !== undefined)
      throw new TriageError('TRIAGE_MODEL_REGISTRY_READ_ONLY', this.opts.readOnly);
  }

  /** The registry clock's time, ISO 8601. */
  now(): string {
    return this.clock().toISOString();
  }

  /** Calls the registry's `onEvent`, then the call's own (both awaited; either may throw). */
  async emit(e: RegistryEvent, onEvent?: EventHook): Promise<void> {
    await this.opts.onEvent?.(e);
    await onEvent?.(e);
  }

  /** Runs `fn` holding the writers' lock of `name` (see `withFileLock`). */
  withLock<T>(name: string, fn: (assertHeld: () => void) => Promise<T>): Promise<T> {
    return withFileLock(join(this.nameDir(name), '.lock'), fn, this.opts.lock);
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

  /** The aliases of `name` (both null when none were set). @throws `TRIAGE_MODEL_INVALID` on a torn file. */
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
  async versionOf(name: string, aliasOrVersion: string): Promise<string> {
    if (aliasOrVersion === 'champion' || aliasOrVersion === 'challenger') {
      const v = (await this.aliases(name))[aliasOrVersion];
      if (v === null) {
        const names = await this.names();
        if (!names.includes(name))
          throw notFound(`No model named ${name} (registered: ${names.join(', ') || 'none'})`);
        throw notFound(`Model ${name} has no ${aliasOrVersion}`);
      }
      return v;
    }
    const version = aliasOrVersion.replace(/^v(?=\d)/, '');
    if (!VERSION_RE.test(version)) throw notFound(`Model ${name}: no alias or version ${aliasOrVersion}`);
    return version;
  }

  /** The validated card of `name@version`. @throws `TRIAGE_MODEL_NOT_FOUND`, `TRIAGE_MODEL_INVALID`. */
  async readCard(name: string, version: string): Promise<ModelCard> {
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
    const altered = (file: string): TriageError =>
      new TriageError('TRIAGE_MODEL_INVALID', `${name}@${version}/${file} does not match its card's sha256`);
    const onnx = new Uint8Array(await readFile(join(vdir, 'model.onnx')));
    if (artefactSha256(onnx) !== card.artefacts.onnxSha256) throw altered('model.onnx');
    let spec: TrainedModelSpec | null = null;
    if (card.artefacts.specSha256 !== null) {
      const raw = await readFile(join(vdir, 'spec.json'), 'utf8');
      if (artefactSha256(raw) !== card.artefacts.specSha256) throw altered('spec.json');
      spec = assertModelSpec(JSON.parse(raw));
    }
    const files: Record<string, Uint8Array> = {};
    for (const [file, hash] of Object.entries(card.artefacts.files ?? {})) {
      const bytes = new Uint8Array(await readFile(join(vdir, file)));
      if (artefactSha256(bytes) !== hash) throw altered(file);
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

  /** Replaces `aliases.json` of `name` atomically. */
  async writeAliases(name: string, a: Aliases): Promise<void> {
    await replaceFile(join(this.nameDir(name), 'aliases.json'), JSON.stringify(a, null, 2) + '\n');
  }

  /** Replaces a version's `card.json` atomically (validated first). */
  async writeCard(card: ModelCard): Promise<void> {
    await replaceFile(
      join(this.nameDir(card.name), card.version, 'card.json'),
      JSON.stringify(validateCard(card), null, 2) + '\n',
    );
  }

  /** Removes staging directories left by crashed registrations (older than an hour). */
  async cleanStaging(name: string): Promise<void> {
    const dir = this.nameDir(name);
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (!e.isDirectory() || !e.name.startsWith('.staging-')) continue;
      const s = await stat(join(dir, e.name)).catch(() => null);
      if (s && Date.now() - s.mtimeMs > STAGING_MAX_AGE_MS)
        await rm(join(dir, e.name), { recursive: true, force: true });
    }
  }
}
