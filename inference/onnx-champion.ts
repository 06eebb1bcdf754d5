/**
 * The champion of a model name, loaded in ONNX Runtime, with hot reload: when the registry's
 * alias moves, the new version is loaded and checked first, then swapped in with one
 * assignment; requests already running finish on the version they started with, and the old
 * session is released after the last of them. A version that fails to load is not swapped in
 * (the previous one keeps serving and `onError` is told).
 */
import type { AliasName, ModelRegistry } from '../models/registry.js';
import type { ModelCard } from '../models/card.js';
import type { TrainedModelSpec } from '../models/spec.js';
import { ModelExplainer, type ExplainOptions, type FeatureGroup } from './explain-model.js';
import { OnnxModelSession, type FeatureSignature } from './onnx-session.js';

/** One loaded version: everything a request needs, immutable. */
export interface LoadedModel {
  name: string;
  version: string;
  /** `<name>@<version>`, recorded with every score. */
  label: string;
  session: OnnxModelSession;
  card: ModelCard;
  /** Null for external models (no weights to explain from). */
  spec: TrainedModelSpec | null;
  /** Null when the model has no spec or no grouping was given. */
  explainer: ModelExplainer | null;
  /** Extra files registered with the version (e.g. `line-context.json`), verified. */
  files: Readonly<Record<string, Uint8Array>>;
}

/** A feature grouping, or a function giving one for a model's feature names. */
export type GroupsOf =
  readonly FeatureGroup[] | ((featureNames: readonly string[]) => readonly FeatureGroup[]);

/** Options of {@link ChampionModel.load}. */
export interface ChampionOptions {
  /** The served feature schema; a version whose input differs is refused. */
  expected: FeatureSignature;
  /** Feature grouping for explanations (fixed, or derived from the model's feature names). */
  groups?: GroupsOf;
  explain?: ExplainOptions;
  /** Alias to follow; default `champion`. */
  alias?: AliasName;
  /** Poll interval of the alias file in ms (default 1000); `null` disables watching. */
  watchIntervalMs?: number | null;
  onSwap?: (from: string, to: string) => void;
  onError?: (e: unknown) => void;
  intraOpNumThreads?: number;
}

interface Slot {
  model: LoadedModel;
  inflight: number;
  retired: boolean;
}

/** A hot-reloading handle on the champion of one model name. */
export class ChampionModel {
  private slot: Slot;
  private reloading: Promise<boolean> = Promise.resolve(false);
  private watcher: { close(): void } | null = null;
  private closed = false;
  private readonly explainers = new Map<string, Promise<ModelExplainer | null>>();

  private constructor(
    private readonly registry: ModelRegistry,
    readonly name: string,
    private readonly opts: ChampionOptions,
    first: LoadedModel,
  ) {
    this.slot = { model: first, inflight: 0, retired: false };
  }

  /**
   * Loads the current champion (or `alias`) of `name` and, unless disabled, watches the alias.
   * @throws TriageError `TRIAGE_MODEL_NOT_FOUND` when the alias is unset,
   *   `TRIAGE_MODEL_SIGNATURE_MISMATCH` when the model's input differs from `expected`,
   *   `TRIAGE_MODEL_INVALID` for corrupt artefacts.
   */
  static async load(registry: ModelRegistry, name: string, opts: ChampionOptions): Promise<ChampionModel> {
    const first = await loadVersion(registry, name, opts.alias ?? 'champion', opts);
    const c = new ChampionModel(registry, name, opts, first);
    if (opts.watchIntervalMs !== null)
      c.watcher = registry.watchAlias(name, opts.alias ?? 'champion', () => void c.reload(), {
        intervalMs: opts.watchIntervalMs ?? 1000,
        initial: first.version,
        onError: (e) => opts.onError?.(e),
      });
    return c;
  }

  /** The version serving new requests. */
  get current(): LoadedModel {
    return this.slot.model;
  }

  /** `<name>@<version>` serving new requests. */
  get label(): string {
    return this.slot.model.label;
  }

  /**
   * The explainer of `version` of this model: the serving version's, else one built from that
   * version's spec in the registry (kept for later calls; the ONNX graph is not loaded).
   * @returns null when the version has no spec or no grouping, or cannot be read from the registry.
   */
  explainerOf(version: string): Promise<ModelExplainer | null> {
    if (version === this.slot.model.version) return Promise.resolve(this.slot.model.explainer);
    const known = this.explainers.get(version);
    if (known) return known;
    const loading = this.registry.resolve(this.name, version).then(
      (r) => explainerFor(r.spec, this.opts),
      () => {
        this.explainers.delete(version);
        return null;
      },
    );
    this.explainers.set(version, loading);
    return loading;
  }

  /**
   * Runs `fn` with the version current at the call; that version stays loaded until `fn`
   * settles, even if a reload swaps in another meanwhile.
   */
  async use<T>(fn: (m: LoadedModel) => Promise<T>): Promise<T> {
    const slot = this.slot;
    slot.inflight++;
    try {
      return await fn(slot.model);
    } finally {
      slot.inflight--;
      if (slot.retired && slot.inflight === 0) void this.release(slot);
    }
  }

  /**
   * Loads the alias's version if it differs from the current one and swaps it in.
   * Reloads are serialised. @returns true when a new version was swapped in.
   */
  reload(): Promise<boolean> {
    this.reloading = this.reloading.then(
      () => this.reloadNow(),
      () => this.reloadNow(),
    );
    return this.reloading;
  }

  private async reloadNow(): Promise<boolean> {
    if (this.closed) return false;
    const alias = this.opts.alias ?? 'champion';
    try {
      const target = (await this.registry.aliases(this.name))[alias];
      if (target === null || target === this.slot.model.version) return false;
      const next = await loadVersion(this.registry, this.name, target, this.opts);
      if (this.closed) {
        await next.session.release();
        return false;
      }
      const old = this.slot;
      this.slot = { model: next, inflight: 0, retired: false };
      old.retired = true;
      if (old.inflight === 0) await this.release(old);
      this.opts.onSwap?.(old.model.label, next.label);
      return true;
    } catch (e) {
      this.opts.onError?.(e);
      return false;
    }
  }

  private async release(slot: Slot): Promise<void> {
    try {
      await slot.model.session.release();
    } catch (e) {
      this.opts.onError?.(e);
    }
  }

  /** Stops watching and releases the session once idle. */
  async close(): Promise<void> {
    this.closed = true;
    this.watcher?.close();
    await this.reloading.catch(() => false);
    this.slot.retired = true;
    if (this.slot.inflight === 0) await this.release(this.slot);
  }
}

/** The explainer of a spec under the options' grouping; null without a spec or a grouping. */
function explainerFor(spec: TrainedModelSpec | null, opts: ChampionOptions): ModelExplainer | null {
  const groups = typeof opts.groups === 'function' && spec ? opts.groups(spec.featureNames) : opts.groups;
  return spec && groups && typeof groups !== 'function'
    ? new ModelExplainer(spec, groups as readonly FeatureGroup[], opts.explain)
    : null;
}

async function loadVersion(
  registry: ModelRegistry,
  name: string,
  aliasOrVersion: string,
  opts: ChampionOptions,
): Promise<LoadedModel> {
  const r = await registry.resolve(name, aliasOrVersion);
  const session = await OnnxModelSession.fromBuffer(r.onnx, {
    expected: opts.expected,
    label: r.label,
    ...(opts.intraOpNumThreads ? { intraOpNumThreads: opts.intraOpNumThreads } : {}),
  });
  const explainer = explainerFor(r.spec, opts);
  return {
    name,
    version: r.version,
    label: r.label,
    session,
    card: r.card,
    spec: r.spec,
    explainer,
    files: r.files,
  };
}
