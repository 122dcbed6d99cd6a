import { UserError } from '../domain/errors.ts';
/** A file-level import problem (missing file, unknown format, missing id column, unreadable CSV/JSON); nothing was imported. */
export class ImportError extends UserError {
  override name = 'ImportError';
  readonly code = 'import';
}
