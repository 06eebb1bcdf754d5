/**
 * Loader for the Febrl synthetic person-record deduplication and linkage sets, from the team's
 * shared copy (`<shared>/er/febrl/`, see its README).
 *
 * Provenance: Febrl 0.4.2 (Freely Extensible Biomedical Record Linkage, Peter Christen, ANU),
 * via GitHub `J535D165/FEBRL-fork-v0.4.2` at commit `38e0bf211a141723601750b114cda69578cf3f09`,
 * `data/dedup-dsgen/dataset_{A_1000,C_5000}.csv` and `data/link-dsgen/dataset_D_{org,dup}_1000.csv`,
 * copied byte for byte. Licence: ANU Open Source License 1.3. Ground truth: `rec_id // 10`.
 */
import { join } from 'node:path';
import { TriageError } from '../../core/errors.js';
import { readCsvRecords } from './csv.js';

/** The four Febrl files in the shared folder. */
export type FebrlDataset = 'A_1000' | 'C_5000' | 'D_org_1000' | 'D_dup_1000';

/** One synthetic person record. Text fields are as generated (typos included); empty when missing. */
export interface FebrlRecord {
  recId: number;
  /** True entity: `floor(recId / 10)`; the last digit is 0 for the original, 1-9 for duplicates. */
  entityId: number;
  givenName: string;
  surname: string;
  streetNumber: string;
  address1: string;
  address2: string;
  suburb: string;
  postcode: string;
  state: string;
  /** `YYYYMMDD` as generated, possibly corrupted (not validated). */
  dateOfBirth: string;
  age: string;
  phoneNumber: string;
  socSecId: string;
  blockingNumber: string;
}

const COLUMNS = [
  'rec_id',
  'given_name',
  'surname',
  'street_number',
  'address_1',
  'address_2',
  'suburb',
  'postcode',
  'state',
  'date_of_birth',
  'age',
  'phone_number',
  'soc_sec_id',
  'blocking_number',
] as const;

/**
 * Loads one Febrl file.
 * @param dir the `febrl` folder (e.g. `join(sharedErDir(), 'febrl')`).
 * @throws TriageError `TRIAGE_FILE_INVALID` when the file is missing, lacks a column or has a
 *   non-numeric `rec_id`.
 */
export function loadFebrl(dir: string, dataset: FebrlDataset): FebrlRecord[] {
  const file = join(dir, `febrl_dataset_${dataset}.csv`);
  return readCsvRecords(file, COLUMNS).map((r) => {
    const recId = Number(r.rec_id);
    if (!Number.isInteger(recId))
      throw new TriageError('TRIAGE_FILE_INVALID', `${file}: rec_id "${r.rec_id}" is not an integer`);
    return {
      recId,
      entityId: Math.floor(recId / 10),
      givenName: r.given_name!,
      surname: r.surname!,
      streetNumber: r.street_number!,
      address1: r.address_1!,
      address2: r.address_2!,
      suburb: r.suburb!,
      postcode: r.postcode!,
      state: r.state!,
      dateOfBirth: r.date_of_birth!,
      age: r.age!,
      phoneNumber: r.phone_number!,
      socSecId: r.soc_sec_id!,
      blockingNumber: r.blocking_number!,
    };
  });
}

/** True duplicate pairs of a record set (records sharing an entity id), as index pairs `i < j`. */
export function febrlTruePairs(records: readonly FebrlRecord[]): [number, number][] {
  const byEntity = new Map<number, number[]>();
  records.forEach((r, i) => byEntity.set(r.entityId, [...(byEntity.get(r.entityId) ?? []), i]));
  const out: [number, number][] = [];
  for (const idx of byEntity.values()) {
    for (let a = 0; a < idx.length; a++)
      for (let b = a + 1; b < idx.length; b++) out.push([idx[a]!, idx[b]!]);
  }
  return out;
}
