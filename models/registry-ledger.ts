/**
 * Which version numbers a registration may take, so that every audited number names one
 * content. Two kinds of marker files sit beside the versions of a name (dot-names: never read
 * as versions):
 *
 * - `.registering-<version>.json` ({@link RegistrationIntent}): written durably before the
 *   `model.registered` entry is emitted and removed once the version directory is in place. One
 *   left behind belongs to a registration that crashed (or whose audit hook failed) between the
 *   two: its entry may exist while its version never appeared.
 * - `.retired-<version>.json` ({@link RetiredVersion}): a number whose registration was audited
 *   and never committed, with the entry that closed it (`model.registration_failed`, or the
 *   `model.registration_abandoned` written by the next registration). It is never given again.
 *
 * The next registration (under the name's writers' lock) settles every intent first
 * ({@link settleIntents}): one whose version directory exists committed (the marker is only
 * removed); one whose directory is absent is audited `model.registration_abandoned`, naming its
 * version and `cardSha256`, and retired. The number is skipped rather than reused: each number
 * then has at most one `model.registered` entry and one content, so `name@version` in the
 * audit log, a decision or a card's `parentVersion` means one model, without comparing
 * `cardSha256` values. An abandoned entry may have no `model.registered` entry before it (the
 * crash or the failing hook came before the entry was written): it then accounts for nothing
 * and retires a number no entry names.
 */
import { readFile, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { replaceFile, fsyncDir } from './atomic-fs.js';
import type { EventHook, RegistryLayout } from './registry-layout.js';

/** Content of `.registering-<version>.json`: the registration about to be audited. */
export interface RegistrationIntent {
  version: string;
  /** sha256 of the version's `card.json`, as in its `model.registered` entry. */
  cardSha256: string;
  /** When the registration was audited (its entry's `at`), ISO 8601. */
  at: string;
  actor: string;
}

/** Content of `.retired-<version>.json`: a number never given again, and why. */
export interface RetiredVersion extends RegistrationIntent {
  /** The audit entry that closed the registration. */
  closedBy: 'model.registration_failed' | 'model.registration_abandoned';
  /** When it was retired, ISO 8601. */
  retiredAt: string;
}

const INTENT_RE = /^\.registering-([1-9][0-9]{0,8})\.json$/;
const RETIRED_RE = /^\.retired-([1-9][0-9]{0,8})\.json$/;

const intentPath = (dir: string, version: string): string => join(dir, `.registering-${version}.json`);

/** The version numbers of `dir`'s entries whose names match `re` (its first group). */
async function numbered(dir: string, re: RegExp): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.flatMap((n) => re.exec(n)?.[1] ?? []);
}

/** Records durably that `intent` is about to be audited (before its `model.registered` entry). */
export async function writeIntent(dir: string, intent: RegistrationIntent): Promise<void> {
  await replaceFile(intentPath(dir, intent.version), JSON.stringify(intent, null, 2) + '\n');
}

/** Removes the intent of a version now in place (committed). */
export async function clearIntent(dir: string, version: string): Promise<void> {
  await rm(intentPath(dir, version), { force: true });
}

/**
 * Retires `intent`'s number (durably), then removes the intent: a crash in between leaves both,
 * and the next {@link settleIntents} finds the number already retired.
 */
export async function retireIntent(
  dir: string,
  intent: RegistrationIntent,
  closedBy: RetiredVersion['closedBy'],
  retiredAt: string,
): Promise<void> {
  const retired: RetiredVersion = { ...intent, closedBy, retiredAt };
  await replaceFile(join(dir, `.retired-${intent.version}.json`), JSON.stringify(retired, null, 2) + '\n');
  await clearIntent(dir, intent.version);
  await fsyncDir(dir);
}

/** The numbers of `name` never to be given again (retired), ascending. */
export async function retiredVersions(reg: RegistryLayout, name: string): Promise<string[]> {
  return (await numbered(reg.nameDir(name), RETIRED_RE)).sort((a, b) => Number(a) - Number(b));
}

/**
 * Settles the intents crashed registrations of `name` left (call holding its writers' lock): an
 * intent whose version is in place is removed; one whose version never appeared is audited
 * `model.registration_abandoned` (through the registry's and `onEvent` hooks) and retired,
 * unless it already was.
 * @returns the version numbers retired by this call.
 * @throws what a hook throws (the intent stays, to be settled by the next registration).
 */
export async function settleIntents(
  reg: RegistryLayout,
  name: string,
  actor: string,
  onEvent?: EventHook,
): Promise<string[]> {
  const dir = reg.nameDir(name);
  const retired = new Set(await numbered(dir, RETIRED_RE));
  const abandoned: string[] = [];
  for (const version of await numbered(dir, INTENT_RE)) {
    const inPlace = await stat(join(dir, version)).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (inPlace || retired.has(version)) {
      await clearIntent(dir, version);
      continue;
    }
    const intent = JSON.parse(await readFile(intentPath(dir, version), 'utf8')) as RegistrationIntent;
    const at = reg.now();
    await reg.emit(
      {
        type: 'model.registration_abandoned',
        at,
        name,
        version,
        actor,
        cardSha256: intent.cardSha256,
        registeredAt: intent.at,
      },
      onEvent,
    );
    await retireIntent(dir, intent, 'model.registration_abandoned', at);
    abandoned.push(version);
  }
  return abandoned;
}

/**
 * The number the next registration of `name` takes: one more than the highest version, retired
 * number or pending intent (call after {@link settleIntents}, holding the lock).
 */
export async function nextVersion(reg: RegistryLayout, name: string): Promise<string> {
  const dir = reg.nameDir(name);
  const taken = [
    ...(await reg.versions(name)),
    ...(await numbered(dir, RETIRED_RE)),
    ...(await numbered(dir, INTENT_RE)),
  ].map(Number);
  return String(Math.max(0, ...taken) + 1);
}
