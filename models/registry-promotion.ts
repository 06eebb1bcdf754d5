/**
 * Promotion: making a version the champion of its name.
 *
 * Rule (see {@link promotionRefusal}): a version may become champion when there is no
 * champion, or when its headline evaluation is not lower than the champion's on the same
 * evaluation set with the same metric (either both cards' `evaluation` share `metric` and
 * `datasetHash`, or the candidate's `evaluation.baselines` holds the champion's score on the
 * candidate's set) and it is not worse on any exception kind, hard-negative kind or on clean
 * invoices on the same test split (`promotion-gate.ts`). Otherwise it is refused (`TRIAGE_MODEL_PROMOTION_REFUSED`, 409) unless
 * forced with a reason; forced promotions are recorded in both cards' history and in the alias
 * history. A rollback (the version that was champion immediately before the current one, put
 * back with a reason) is not refused: undoing a promotion must not need `force`; it is recorded
 * as a rollback in both cards, the alias history and the event. Cards measured on different benchmark files are not comparable; a caller may give both
 * re-measured on one test split instead (`PromoteOptions.sameSplit`). The `model.promoted` event is emitted (and may veto) before anything is written.
 */
import { TriageError, isTriageError } from '../core/errors.js';
import { isBlankText } from '../core/validate.js';
import type { CardHistoryEntry, ModelCard } from './card.js';
import { perKindRefusal } from './promotion-gate.js';
import type { AliasChange, EventHook, RegistryLayout } from './registry-layout.js';
import { checkSignature } from './signature.js';

/** Outcome of a promotion. */
export interface PromotionResult {
  name: string;
  version: string;
  previousChampion: string | null;
  forced: boolean;
  /** False when the version already was the champion (nothing written). */
  changed: boolean;
}

/** Options of a promotion. */
export interface PromoteOptions {
  /** Who promotes (recorded). */
  actor: string;
  /** Why; required when forcing, and for a rollback to pass without the rule. */
  reason?: string;
  /** Promote even when the rule refuses. */
  force?: boolean;
  /** This call's own event hook, called after the registry's (throwing on `model.promoted` abandons it). */
  onEvent?: EventHook;
  /**
   * The candidate's and the champion's cards re-measured on one test split
   * (training/same-split-gate.ts, `models promote --data`): the rule then compares these instead
   * of the stored cards, whose figures may come from different benchmark files. The stored
   * cards are not changed by them.
   */
  sameSplit?: { candidate: ModelCard; champion: ModelCard };
}

/**
 * Whether `candidate` may replace `champion`: allowed when there is no champion, or when both
 * - `candidate.evaluation.value >= v`, `v` being the champion's score on the same set with the
 *   same metric: `champion.evaluation.value` when metric and `datasetHash` match, else the
 *   candidate's `evaluation.baselines` entry for the champion's version; and
 * - the per-kind gate passes ({@link perKindRefusal}, rule {@link PROMOTION_GATE}): no exception
 *   kind's recall, hard-negative kind's or clean invoices' flag rate worse on the same test split.
 * @returns `null` when allowed, else the reasons for refusal (`; `-separated).
 */
export function promotionRefusal(candidate: ModelCard, champion: ModelCard | null): string | null {
  const refusals = [headlineRefusal(candidate, champion), perKindRefusal(candidate, champion)];
  const r = refusals.filter((x): x is string => x !== null);
  return r.length === 0 ? null : r.join('; ');
}

/** The headline part of {@link promotionRefusal}: the evaluation metric on the same set. */
function headlineRefusal(candidate: ModelCard, champion: ModelCard | null): string | null {
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

/**
 * Makes `version` the champion of `name` (see the rule in the module doc).
 * @throws TriageError `TRIAGE_MODEL_PROMOTION_REFUSED` (409) when the rule refuses and
 *   `force` is not set, or `force` is set without a reason; `TRIAGE_MODEL_NOT_FOUND`;
 *   `TRIAGE_MODEL_SIGNATURE_MISMATCH` when `featureSchemas` is configured and the version's
 *   features differ from the served ones (forcing cannot make such a model serve);
 *   `TRIAGE_MODEL_REGISTRY_BUSY` when the writers' lock is not obtained;
 *   `TRIAGE_MODEL_REGISTRY_READ_ONLY` (409) when the registry takes no writes.
 */
export async function promoteVersion(
  reg: RegistryLayout,
  name: string,
  version: string,
  o: PromoteOptions,
): Promise<PromotionResult> {
  reg.assertWritable();
  const v = version.replace(/^v(?=\d)/, '');
  await reg.readCard(name, v); // NOT_FOUND before taking the lock
  return reg.withLock(name, async (assertHeld) => {
    const candidate = await reg.readCard(name, v);
    const aliases = await reg.aliases(name);
    const previous = aliases.champion;
    if (previous === v)
      return { name, version: v, previousChampion: previous, forced: false, changed: false };
    const champion = previous === null ? null : await reg.readCard(name, previous);
    const served = reg.opts.featureSchemas?.[candidate.task];
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
    const same = o.sameSplit;
    if (same && (same.candidate.version !== v || same.champion.version !== previous))
      throw new TriageError(
        'TRIAGE_MODEL_PROMOTION_REFUSED',
        `The same-split figures compare ${name}@${same.candidate.version} with ${name}@${same.champion.version}, ` +
          `but the promotion is of ${name}@${v} over champion ${name}@${previous ?? 'none'}`,
      );
    const refusal = same
      ? promotionRefusal(same.candidate, same.champion)
      : promotionRefusal(candidate, champion);
    const force = o.force === true;
    if ((force && o.reason === undefined) || (o.reason !== undefined && isBlankText(o.reason)))
      throw new TriageError(
        'TRIAGE_MODEL_PROMOTION_REFUSED',
        `Forcing ${name}@${v} to champion needs a reason, and a reason must not be blank`,
      );
    // Undoing the last promotion: `v` served immediately before the current champion.
    const lastChange = aliases.history.findLast((c) => c.alias === 'champion');
    const rollback =
      o.reason !== undefined && previous !== null && lastChange?.from === v && lastChange.to === previous;
    const at = reg.now();
    if (refusal !== null && !force && !rollback) {
      await reg.emit(
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
    const forced = refusal !== null && !rollback;
    const overridden = forced ? refusal : null;
    const why = {
      ...(o.reason ? { reason: o.reason } : {}),
      ...(forced ? { forced: true as const } : {}),
      ...(rollback ? { rollback: true as const } : {}),
    };
    await reg.emit(
      {
        type: 'model.promoted',
        at,
        name,
        version: v,
        previousChampion: previous,
        actor: o.actor,
        reason: o.reason ?? null,
        forced,
        overriddenRefusal: overridden,
        rollback,
      },
      o.onEvent,
    );
    try {
      assertHeld();
      const entry: CardHistoryEntry = {
        at,
        action: 'promoted',
        actor: o.actor,
        ...why,
        ...(overridden !== null ? { overriddenRefusal: overridden } : {}),
        otherVersion: previous,
      };
      await reg.writeCard({ ...candidate, history: [...candidate.history, entry] });
      if (champion !== null)
        await reg.writeCard({
          ...champion,
          history: [
            ...champion.history,
            {
              at,
              action: 'demoted',
              actor: o.actor,
              ...why,
              ...(overridden !== null ? { overriddenRefusal: overridden } : {}),
              otherVersion: v,
            },
          ],
        });
      const history: AliasChange[] = [
        ...aliases.history,
        { at, alias: 'champion', from: previous, to: v, actor: o.actor, ...why },
      ];
      if (aliases.challenger === v)
        history.push({ at, alias: 'challenger', from: v, to: null, actor: o.actor });
      await reg.writeAliases(name, {
        champion: v,
        challenger: aliases.challenger === v ? null : aliases.challenger,
        history,
      });
    } catch (e) {
      await reg.emit(
        {
          type: 'model.promotion_failed',
          at: reg.now(),
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
