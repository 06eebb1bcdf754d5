/**
 * The routing policy a service serves as version 1 of every tenant, and where it comes from.
 *
 * With no `POLICY_FILE`, the served default is the shipped whole-decision policy
 * ({@link CERTIFIED_POLICY_FILE}), bound to the champions recorded in its certification record
 * (`certified-policy.certification.json`, field `champions`): each task whose served model is
 * one of them routes by the policy's thresholds, any other model by its own card
 * (inference/stages/thresholds.ts). An operator's `POLICY_FILE` is served as it is.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../core/paths.js';
import { TriageError, isTriageError } from '../core/errors.js';
import { parsePolicyDocument, policyDefinition, type PolicyDefinition } from '../inference/index.js';

/**
 * The shipped policy certified for the whole decision, the served default: the one place its
 * location is declared (`datasets/policies/certified-policy.json`, written by
 * `npm run certify:policy`; provenance in `datasets/policies/README.md`).
 */
export const CERTIFIED_POLICY_FILE = join(packageRoot(), 'datasets', 'policies', 'certified-policy.json');

/** The certification record beside a policy file: `<name>.json` -> `<name>.certification.json`. */
export function certificationRecordOf(policyFile: string): string {
  return policyFile.replace(/\.json$/, '') + '.certification.json';
}

/** Reads a JSON file. @throws TriageError `TRIAGE_CONFIG_INVALID` naming `field` when unreadable. */
function readJson(path: string, field: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new TriageError('TRIAGE_CONFIG_INVALID', `${field} ${path}: ${(e as Error).message}`, [
      { path: field, message: 'is not a readable JSON file' },
    ]);
  }
}

/**
 * Reads and validates a policy file (served as it is: not bound to any model).
 * @throws TriageError `TRIAGE_CONFIG_INVALID` naming the file and each bad field.
 */
export function loadPolicyFile(path: string, field = 'POLICY_FILE'): PolicyDefinition {
  const json = readJson(path, field);
  try {
    return policyDefinition(parsePolicyDocument(json), 1);
  } catch (e) {
    if (!isTriageError(e)) throw e;
    throw new TriageError(
      'TRIAGE_CONFIG_INVALID',
      `${field} ${path}: ${e.message}`,
      e.errors.map((x) => ({ path: `${field}${x.path}`, message: x.message })),
    );
  }
}

/**
 * The certified policy as the served default: the document of `path` (default
 * {@link CERTIFIED_POLICY_FILE}) bound to the `champions` of its certification record.
 * @throws TriageError `TRIAGE_CONFIG_INVALID` when either file is unreadable or invalid, or the
 * record names no champion.
 */
export function loadCertifiedPolicy(path = CERTIFIED_POLICY_FILE): PolicyDefinition {
  const def = loadPolicyFile(path, 'certified policy');
  const recordFile = certificationRecordOf(path);
  const record = readJson(recordFile, 'certification record') as { champions?: unknown };
  const champions = record.champions;
  if (
    !Array.isArray(champions) ||
    champions.length === 0 ||
    !champions.every((c): c is string => typeof c === 'string' && /^[a-z0-9-]+@\d+$/.test(c))
  )
    throw new TriageError('TRIAGE_CONFIG_INVALID', `certification record ${recordFile}: no champions`, [
      {
        path: 'certification record/champions',
        message: 'must list model versions such as coding-mismatch@3',
      },
    ]);
  return { ...def, certifiedFor: champions };
}
