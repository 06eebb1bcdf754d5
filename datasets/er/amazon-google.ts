/**
 * Loader for the Amazon–Google products entity-resolution benchmark, from the team's shared
 * copy (`<shared>/er/amazon_google/`, see its README).
 *
 * Provenance: the raw tables and perfect mapping are the Database Group Leipzig benchmark
 * (Köpcke, Thor, Rahm, PVLDB 2010), copied from GitHub `dchud/ddbench` at commit
 * `3bbedeaea67dc1b53bcd2e7d34c7da7e4edfdb66` and re-encoded to UTF-8; the train/valid/test pair
 * splits are the DeepMatcher "Structured / Amazon-Google" benchmark (Mudgal et al., SIGMOD
 * 2018) in Ditto's serialisation, copied from GitHub `megagonlabs/ditto` at commit
 * `52985564a93fb11308439516d3e17a033d43ec8f` and parsed back into columns (text already
 * lower-cased and tokenised by DeepMatcher). Research use; no product code reads these files.
 */
import { join } from 'node:path';
import { parseAmount } from '../../features/amount.js';
import { readCsvRecords } from './csv.js';

/** One product offer of the Leipzig tables. */
export interface ProductRecord {
  /** Amazon ASIN (`b000jz4hqo`) or Google Base URL. */
  id: string;
  /** Amazon `title` / Google `name`. */
  title: string;
  description: string;
  /** Often empty on the Google side. */
  manufacturer: string;
  /** Price in integer cents; null when the table gives 0, nothing, or text that is no amount. */
  priceCents: number | null;
  /** Currency named beside the price (a few Google prices carry `gbp`); null when none. */
  priceCurrency: string | null;
  /** The price cell as given. */
  priceText: string;
}

/** One side of a DeepMatcher pair (no record id: DeepMatcher published text only). */
export interface PairSideRecord {
  title: string;
  manufacturer: string;
  priceText: string;
}

/** A labelled candidate pair of the DeepMatcher splits (left = Amazon, right = Google). */
export interface DeepMatcherPair {
  /** `<split>-<n>`, the row id given by the shared folder's curators. */
  pairId: string;
  split: 'train' | 'valid' | 'test';
  left: PairSideRecord;
  right: PairSideRecord;
  /** 1 = same product. */
  label: 0 | 1;
}

/** The whole benchmark. */
export interface AmazonGoogle {
  /** 1,363 Amazon offers. */
  amazon: ProductRecord[];
  /** 3,226 Google offers. */
  google: ProductRecord[];
  /** 1,300 true matches (many-to-many possible). */
  perfectMapping: { amazonId: string; googleId: string }[];
  /** 6,874 / 2,293 / 2,293 labelled pairs (699 / 234 / 234 matches). */
  pairs: Record<DeepMatcherPair['split'], DeepMatcherPair[]>;
}

function price(text: string): Pick<ProductRecord, 'priceCents' | 'priceCurrency'> {
  try {
    const p = parseAmount(text, { decimalSeparator: '.' });
    return { priceCents: p.cents === 0 ? null : p.cents, priceCurrency: p.currency };
  } catch {
    return { priceCents: null, priceCurrency: null };
  }
}

function products(file: string, titleColumn: string): ProductRecord[] {
  return readCsvRecords(file, ['id', titleColumn, 'description', 'manufacturer', 'price']).map((r) => ({
    id: r.id!,
    title: r[titleColumn]!,
    description: r.description!,
    manufacturer: r.manufacturer!,
    priceText: r.price!,
    ...price(r.price!),
  }));
}

/**
 * Loads the Leipzig tables, the perfect mapping and the three DeepMatcher splits.
 * @param dir the `amazon_google` folder (e.g. `join(sharedErDir(), 'amazon_google')`).
 * @throws TriageError `TRIAGE_FILE_INVALID` when a file is missing or lacks a column.
 */
export function loadAmazonGoogle(dir: string): AmazonGoogle {
  const f = (name: string): string => join(dir, `amazon_google_${name}.csv`);
  const pairs = (split: DeepMatcherPair['split']): DeepMatcherPair[] =>
    readCsvRecords(f(`deepmatcher_${split}`), [
      'pair_id',
      'left_title',
      'left_manufacturer',
      'left_price',
      'right_title',
      'right_manufacturer',
      'right_price',
      'label',
    ]).map((r) => ({
      pairId: r.pair_id!,
      split,
      left: { title: r.left_title!, manufacturer: r.left_manufacturer!, priceText: r.left_price! },
      right: { title: r.right_title!, manufacturer: r.right_manufacturer!, priceText: r.right_price! },
      label: r.label === '1' ? 1 : 0,
    }));
  return {
    amazon: products(f('leipzig_amazon'), 'title'),
    google: products(f('leipzig_google'), 'name'),
    perfectMapping: readCsvRecords(f('leipzig_perfect_mapping'), ['idAmazon', 'idGoogleBase']).map((r) => ({
      amazonId: r.idAmazon!,
      googleId: r.idGoogleBase!,
    })),
    pairs: { train: pairs('train'), valid: pairs('valid'), test: pairs('test') },
  };
}

/**
 * Key that survives DeepMatcher's tokenisation: lower case, every character other than a letter
 * or digit removed (`"adobe dreamweaver cs3 [ mac ]"` and `"Adobe Dreamweaver CS3 [mac]"` agree).
 */
export function titleKey(title: string): string {
  return title
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '');
}

/**
 * Resolves DeepMatcher pair sides to Leipzig records by {@link titleKey}. A title can name
 * several records (the Google table repeats some titles); all are returned.
 * @returns per pair id, the Amazon and Google record indexes its sides resolve to (empty when none).
 */
export function resolvePairs(
  ag: AmazonGoogle,
  pairs: readonly DeepMatcherPair[],
): Map<string, { amazon: number[]; google: number[] }> {
  const index = (records: readonly ProductRecord[]): Map<string, number[]> => {
    const m = new Map<string, number[]>();
    records.forEach((r, i) => {
      const k = titleKey(r.title);
      m.set(k, [...(m.get(k) ?? []), i]);
    });
    return m;
  };
  const a = index(ag.amazon);
  const g = index(ag.google);
  return new Map(
    pairs.map((p) => [
      p.pairId,
      { amazon: a.get(titleKey(p.left.title)) ?? [], google: g.get(titleKey(p.right.title)) ?? [] },
    ]),
  );
}
