/**
 * A generated sample with the gaps the SQL paths must treat as the engine does: unknown follower counts and
 * sign-up dates (filled with medians), purchases without an amount (counted at the product's list price), and a
 * purchase by a stranger without a profile (counted for nobody).
 */
import { generateSample, type SampleData } from '../../src/sample/generate.ts';

const DAY = 86_400_000;

/** What to blank: the first `noFollowers` profiles' followers, profiles [from, to)'s sign-ups, the last amounts. */
export interface Gaps {
  profiles: number;
  seed: number;
  end: Date;
  noFollowers: number;
  noSignup: [number, number];
  noAmount: number;
}

/** The sample with its gaps and the stranger's purchase two days before the end. */
export function sampleWithGaps(g: Gaps): SampleData {
  const sample = generateSample({ profiles: g.profiles, seed: g.seed, end: g.end });
  for (const p of sample.profiles.slice(0, g.noFollowers)) p.followers = null;
  for (const p of sample.profiles.slice(...g.noSignup)) p.created_at = null;
  const bought = sample.interactions.filter((i) => i.type === 'purchase');
  for (const i of bought.slice(-g.noAmount)) i.value = null;
  sample.interactions.push({
    user_id: 'stranger',
    item_id: null,
    type: 'purchase',
    value: 99,
    timestamp: g.end.getTime() - 2 * DAY,
  });
  return sample;
}
