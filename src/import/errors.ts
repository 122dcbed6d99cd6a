/** A file-level import problem (missing file, unknown format, missing id column, unreadable CSV/JSON); nothing was imported. */
export class ImportError extends Error {
  override name = 'ImportError';
}
