/**
 * Refits the IDF artefact of the text embeddings on the shipped HCPCS reference descriptions
 * and makes it the shipped one: writes `features/artifacts/idf-<hash>.json`, removes the other
 * `idf-*.json` files and points `SHIPPED_IDF_ID` in `features/idf.ts` at the new id.
 *
 * Run: `npm run idf:fit` (deterministic: the same reference files and tokeniser give the same id).
 * The feature schema version changes with the id; models trained on the old one will be refused.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../core/paths.js';
import { loadReferenceData } from '../../datasets/reference.js';
import { featureArtifactsDir, fitHcpcsIdf, idfArtifactId, serialiseIdf } from '../../features/idf.js';
import { descriptionTokens } from '../../features/text.js';

/** Fits the HCPCS IDF artefact from the shipped reference data. */
export function fitShippedIdf(): { id: string; text: string; documents: number; terms: number } {
  const ref = loadReferenceData();
  const artifact = fitHcpcsIdf(ref.hcpcs.values(), descriptionTokens);
  return {
    id: idfArtifactId(artifact),
    text: serialiseIdf(artifact),
    documents: artifact.documents,
    terms: Object.keys(artifact.df).length,
  };
}

function main(): void {
  const { id, text, documents, terms } = fitShippedIdf();
  const dir = featureArtifactsDir();
  for (const f of readdirSync(dir))
    if (/^idf-[0-9a-f]{12}\.json$/.test(f) && f !== `${id}.json`) rmSync(join(dir, f));
  writeFileSync(join(dir, `${id}.json`), text);
  const src = join(packageRoot(), 'features', 'idf.ts');
  const code = readFileSync(src, 'utf8');
  writeFileSync(src, code.replace(/SHIPPED_IDF_ID = 'idf-[0-9a-f]{12}'/, `SHIPPED_IDF_ID = '${id}'`));
  console.log(`${id}: ${documents} documents, ${terms} terms -> features/artifacts/${id}.json`);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
