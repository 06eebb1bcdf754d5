/**
 * The one way the champion of a shared model is changed by the service and by its operators:
 * `POST /v1/models/:name/promote` (api/routes/models.ts) and `npm run models -- promote`
 * (bin/models.ts) both call {@link governedPromotion}. It asks for a reason, runs the
 * pre-promotion check (e.g. the shadow record a policy requires) unless forced, and promotes
 * with the `audit` hook, which writes the audit entries (`model.promoted`,
 * `model.promotion_refused`, `model.promotion_failed`) and the `model.promoted` event to every
 * tenant before the alias moves (bin/models-governance.ts `modelAudit`). A rollback is a
 * promotion of the previous champion and takes the same path.
 */
import { TriageError, isTriageError, type FieldError } from '../core/errors.js';
import { displayTextErrors } from '../core/validate.js';
import type { ModelCard } from './card.js';
import type { RegistryEvent } from './registry-layout.js';
import type { ModelRegistry, PromoteOptions, PromotionResult } from './registry.js';

/** What a governed promotion writes through and checks with. */
export interface PromotionGovernance {
  registry: ModelRegistry;
  /**
   * Appends a registry event to the audit log of `tenantId` (the operator tenant that acted) and,
   * for `model.promoted`, tells every tenant. Throwing aborts the promotion. Absent: not audited
   * (only tests and tools without a store leave it out).
   */
  audit?(event: RegistryEvent, actorKeyId: string | null, tenantId: string): Promise<void>;
  /**
   * Checked before an unforced promotion (e.g. the shadow record a policy requires,
   * monitoring/service.ts `checkPromotion`); throwing refuses it.
   */
  beforePromote?(tenantId: string, name: string, version: string): Promise<void>;
}

/** One promotion request, from the API or the command line. */
export interface GovernedPromotionRequest {
  /** The operator tenant acting: its audit chain gets the entry. */
  tenantId: string;
  /** The API key that acts (`actor_key_id` of the audit entry); null from the command line. */
  actorKeyId: string | null;
  /** Who promotes, recorded in the cards, the alias history and the event (key id or `--actor`). */
  actor: string;
  name: string;
  /** Version number, `3` or `v3`. */
  version: string;
  /** Why the champion changes; required (the champion serves every tenant). */
  reason?: string | undefined;
  /** Promote although the rule refuses (recorded). */
  force?: boolean | undefined;
  /** Both cards re-measured on one test split (`models promote --data`). */
  sameSplit?: PromoteOptions['sameSplit'];
  /**
   * How the caller names its fields in errors: `/reason` and `/version` (the API body, default)
   * or the command line's `--reason` and `<version>`.
   */
  fields?: { reason: string; version: string };
}

const BODY_FIELDS = { reason: '/reason', version: '/version' };

/**
 * Makes `version` the champion of `name` with the audit and checks above (rule: the registry's
 * `promote`).
 * @returns the registry's result (`changed` false when it already was the champion).
 * @throws TriageError `TRIAGE_MODEL_REGISTRY_READ_ONLY` (409) first when the registry takes no
 *   writes; `TRIAGE_INPUT_INVALID` naming the reason field when the reason is missing
 *   or blank; what `beforePromote` throws (e.g. `TRIAGE_SHADOW_RECORD_INSUFFICIENT`);
 *   `TRIAGE_MODEL_PROMOTION_REFUSED` naming the candidate's and the champion's evaluation under
 *   the version field; the registry's other errors; what `audit` throws (nothing changed).
 */
export async function governedPromotion(
  g: PromotionGovernance,
  r: GovernedPromotionRequest,
): Promise<PromotionResult> {
  // A registry that takes no writes says so before any other check can refuse for another reason.
  g.registry.assertWritable();
  const fields = r.fields ?? BODY_FIELDS;
  const invalid = (detail: string, errors: FieldError[]) =>
    new TriageError('TRIAGE_INPUT_INVALID', detail, errors);
  const blank = displayTextErrors(fields.reason, r.reason);
  if (blank.length > 0) throw invalid('the promotion reason is blank or would be shown reordered', blank);
  if (r.force === true && r.reason === undefined)
    throw invalid('a forced promotion needs a reason', [
      { path: fields.reason, message: 'is required when force is true' },
    ]);
  // The champion serves every tenant: say why it changes (it goes to the audit entry).
  if (r.reason === undefined)
    throw invalid('a promotion needs a reason: the champion serves every tenant', [
      { path: fields.reason, message: 'is required (why the champion changes)' },
    ]);
  // `force` with a reason overrides the pre-promotion check as it does the metric rule.
  if (r.force !== true) await g.beforePromote?.(r.tenantId, r.name, r.version.replace(/^v/, ''));
  const audit = g.audit;
  try {
    return await g.registry.promote(r.name, r.version, {
      actor: r.actor,
      reason: r.reason,
      ...(r.force ? { force: true } : {}),
      ...(r.sameSplit ? { sameSplit: r.sameSplit } : {}),
      ...(audit ? { onEvent: (e: RegistryEvent) => audit(e, r.actorKeyId, r.tenantId) } : {}),
    });
  } catch (e) {
    if (!isTriageError(e, 'TRIAGE_MODEL_PROMOTION_REFUSED')) throw e;
    throw await refusalNamingBoth(g.registry, r.name, r.version, fields.version, e);
  }
}

/** A refused promotion's error, naming the candidate's and the champion's evaluation under `field`. */
async function refusalNamingBoth(
  registry: ModelRegistry,
  name: string,
  version: string,
  field: string,
  e: TriageError,
): Promise<TriageError> {
  const fmt = (c: ModelCard): string =>
    `${c.name}@${c.version}: ${c.evaluation.metric} ${c.evaluation.value.toFixed(4)} on ${c.evaluation.split}/` +
    `${c.evaluation.unit} ${c.evaluation.datasetHash.slice(0, 12)} (n=${c.evaluation.size})`;
  const candidate = await registry.card(name, version).catch(() => null);
  const champion = await registry.card(name, 'champion').catch(() => null);
  const errors: FieldError[] = [
    {
      path: field,
      message:
        `candidate ${candidate ? fmt(candidate) : `${name}@${version}`}; ` +
        `champion ${champion ? fmt(champion) : 'none'}`,
    },
  ];
  return new TriageError(e.code, e.message, errors, { cause: e });
}
