/**
 * README.md stays true to the shipped champions: the routing thresholds it quotes, the headline
 * figures of `GET /v1/models`, the version the OIP example answers with, and the version the
 * shadow example puts in shadow (never the champion, which the service refuses with a 409).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../core/paths.js';

const root = packageRoot();
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** The parts of a shipped model card these checks read. */
interface CardFigures {
  thresholds: { autoApprove: number; hold: number };
  evaluation: { metric: string; value: number };
}

/** The champion version of a shipped model and its card. */
function champion(name: string): { version: string; card: CardFigures } {
  const dir = join(root, 'models', 'artifacts', name);
  const aliases = JSON.parse(readFileSync(join(dir, 'aliases.json'), 'utf8')) as { champion: string };
  const card = JSON.parse(readFileSync(join(dir, aliases.champion, 'card.json'), 'utf8')) as CardFigures;
  return { version: aliases.champion, card };
}

const coding = champion('coding-mismatch');
const duplicate = champion('duplicate');

describe('README figures of the shipped champions', () => {
  it('quotes the champions cards thresholds in the routing paragraph', () => {
    const text = readme.replace(/\s+/g, ' ');
    expect(text).toContain(
      `\`ap.hold_at\` (certified and card: ${duplicate.card.thresholds.hold.toFixed(3)}; hand-set 0.9)`,
    );
    expect(text).toContain(
      `the duplicate card's auto-approve threshold: ${duplicate.card.thresholds.autoApprove.toFixed(3)}; hand-set 0.6)`,
    );
    expect(text).toContain(`card: ${coding.card.thresholds.hold.toFixed(3)}; hand-set: none)`);
    expect(text).toContain(
      `the coding card's: ${coding.card.thresholds.autoApprove.toFixed(3)}; hand-set 0.5)`,
    );
  });

  it('gives the champions headline evaluation under GET /v1/models', () => {
    const text = readme.replace(/\s+/g, ' ');
    expect(coding.card.evaluation.metric).toBe('pr_auc');
    expect(duplicate.card.evaluation.metric).toBe('pr_auc');
    expect(text).toContain(
      `test split: ${coding.card.evaluation.value.toFixed(3)} and ` +
        `${duplicate.card.evaluation.value.toFixed(3)} for the champions ` +
        `(\`coding-mismatch@${coding.version}\`, \`duplicate@${duplicate.version}\`)`,
    );
  });

  it('shows the OIP answer of the serving champion', () => {
    expect(readme).toContain(`"model_name": "coding-mismatch", "model_version": "${coding.version}"`);
  });

  it('puts a version that is not the champion in shadow', () => {
    const put = /\/v1\/models\/coding-mismatch\/shadow -d '\{"version": "(\d+)"\}'/.exec(readme);
    expect(put, 'README has the shadow example').not.toBeNull();
    expect(put?.[1]).not.toBe(coding.version);
  });
});
