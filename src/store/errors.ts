import { OperatorError } from '../domain/errors.ts';

/**
 * What went wrong with the store; callers switch on this, people read the message. `too_large`: the audience is
 * more than the app may read into memory at once (a database's snapshot above SNAPSHOT_MAX_ROWS).
 */
export type StoreErrorCode =
  | 'corrupt'
  | 'unreadable'
  | 'newer_schema'
  | 'migration_failed'
  | 'locked'
  | 'conflict'
  | 'unwritable'
  | 'closed'
  | 'key_missing'
  | 'wrong_key'
  | 'not_encrypted'
  | 'too_large';

/** A store failure whose message names the file, what is wrong and how to fix it. */
export class StoreError extends OperatorError {
  override name = 'StoreError';
  readonly code: StoreErrorCode;
  readonly file: string;

  constructor(code: StoreErrorCode, file: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.file = file;
  }
}
