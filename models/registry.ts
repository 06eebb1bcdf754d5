/**
 * The model registry: versioned artefacts on disk, champion/challenger aliases, promotion.
 * {@link ModelRegistry} is the one object callers hold; its jobs live beside it:
 *
 * - `registry-layout.ts`: the files on disk and the read side (versions, aliases, cards,
 *   verified loading, listing), atomic alias and card writes, the writers' lock;
 * - `registry-register.ts`: registering trained and external models (staged, audited, then renamed);
 * - `registry-promotion.ts`: the promotion rule and promotion (audited before it is written);
 * - `registry-watch.ts`: following an alias.
 *
 * Writers of one name (registration, promotion), in this process or another, are serialised by
 * a proper-lockfile lock that the holder refreshes, so a slow registration keeps it; a crashed
 * writer's lock goes stale after `lock.staleMs`.
 */
import type { ExternalAdaptation } from './external-onnx.js';
import type { ExternalCardDraft } from './card.js';
import { RegistryLayout, type AliasName, type EventHook, type ResolvedModel } from './registry-layout.js';
import { promoteVersion, type PromoteOptions, type PromotionResult } from './registry-promotion.js';
import { registerExternalOnnx, registerVersion, type RegisterInput } from './registry-register.js';
import { watchAlias, type WatchOptions } from './registry-watch.js';

export * from './registry-layout.js';
export { promotionRefusal, type PromoteOptions, type PromotionResult } from './registry-promotion.js';
export type { RegisterExternal, RegisterInput, RegisterTrained } from './registry-register.js';
export type { WatchOptions } from './registry-watch.js';

/** Versioned model artefacts with champion/challenger aliases. */
export class ModelRegistry extends RegistryLayout {
  /**
   * Registers a new version of `name` and points `challenger` at it. Refuses a model whose
   * graph, spec and card disagree (task, feature names and schema version, architecture,
   * calibration, seed).
   * @returns the registered version, loaded back from disk.
   * @throws TriageError `TRIAGE_MODEL_INVALID` (bad card, spec or graph, or a task other than
   *   the name's; `TRIAGE_MODEL_UPLOAD_INVALID` for external models),
   *   `TRIAGE_MODEL_SIGNATURE_MISMATCH` (graph features != card features),
   *   `TRIAGE_MODEL_REGISTRY_BUSY` (lock not obtained, or lost before the commit).
   */
  register(name: string, input: RegisterInput, o: { onEvent?: EventHook } = {}): Promise<ResolvedModel> {
    return registerVersion(this, name, input, o);
  }

  /**
   * Registers a model trained elsewhere, normalised to the served IO (see `registerExternalOnnx`
   * in registry-register.ts for the checks and errors).
   * @returns the registered version (as a challenger) and how the graph was adapted.
   */
  registerExternalOnnx(
    name: string,
    buffer: Uint8Array,
    cardDraft: ExternalCardDraft,
    o: { actor?: string; parentVersion?: string | null; onEvent?: EventHook } = {},
  ): Promise<ResolvedModel & { adaptation: ExternalAdaptation }> {
    return registerExternalOnnx(this, name, buffer, cardDraft, o);
  }

  /**
   * Makes `version` the champion of `name` (rule and errors: `promoteVersion` in
   * registry-promotion.ts); `TRIAGE_MODEL_PROMOTION_REFUSED` (409) when the rule refuses and
   * `force` (with a reason) is not set.
   */
  promote(name: string, version: string, o: PromoteOptions): Promise<PromotionResult> {
    return promoteVersion(this, name, version, o);
  }

  /**
   * Calls `onChange` with the new version (or null) whenever the alias changes (polling; see
   * `watchAlias` in registry-watch.ts). @returns `close()` stops watching.
   */
  watchAlias(
    name: string,
    alias: AliasName,
    onChange: (version: string | null) => void | Promise<void>,
    o: WatchOptions = {},
  ): { close(): void } {
    return watchAlias(this, name, alias, onChange, o);
  }
}
