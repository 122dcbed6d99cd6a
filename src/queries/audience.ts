import { UserError } from '../domain/errors.ts';
import { handInteractionColumns } from '../engine/interaction-index.ts';
import { type AudienceSnapshot, type Store, StoreError } from '../store/store.ts';

/**
 * A question the engine answers on the whole audience, asked of a database too large to read into the app
 * (its snapshot is over SNAPSHOT_MAX_ROWS). A person's error, not an operator's: the reply says what would
 * work instead, in Slack too.
 */
export class AudienceTooLargeError extends UserError {
  override name = 'AudienceTooLargeError';
  readonly code = 'too_large';
}

/** What a caller says when the audience is too large for it: what needed it, and what to use instead. */
export interface TooLargeHint {
  /** "segments with these features", "an export of every person", … */
  needs?: string;
  /** What works on a database this size. */
  instead?: string;
}

/**
 * The audience as the engine's input, at one data version. When the store has the interactions as typed
 * columns at hand (the file backend right after a load), they go to the engine's interaction view, which then
 * builds without a per-event id lookup (see engine/interaction-index.ts). A database too large to read into the
 * app refuses (StoreError 'too_large'), and the refusal becomes a reply saying what to use instead (`hint`).
 */
export async function engineAudience(store: Store, hint: TooLargeHint = {}): Promise<AudienceSnapshot> {
  let snapshot: AudienceSnapshot;
  try {
    snapshot = await store.audience.snapshot();
  } catch (error) {
    if (error instanceof StoreError && error.code === 'too_large') throw tooLarge(error, hint);
    throw error;
  }
  const columns = await store.audience.interactionColumns();
  if (columns) handInteractionColumns(snapshot.interactions, columns);
  return snapshot;
}

function tooLarge(error: StoreError, hint: TooLargeHint): AudienceTooLargeError {
  const instead =
    hint.instead ??
    'ask what the database answers itself (stats, predict with built-in features, segments with the default features), or raise SNAPSHOT_MAX_ROWS where the app has the memory for it';
  return new AudienceTooLargeError(
    `${hint.needs ?? 'this'} needs the whole audience in the app's memory, and ${error.message}: ${instead}`,
    { cause: error },
  );
}
