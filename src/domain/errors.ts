/**
 * The errors a person is meant to read. Anything thrown that is not a UserError is a bug: the router and the
 * front doors (app, CLI, console) log it and apologise instead of showing it. Each error carries a stable
 * string `code` (as bolt-js's CodedError does) so callers and tests decide on the code, never on the wording
 * or the class name. Each subclass names its own code; the message is one line saying what was wrong and what
 * would work.
 */

/** A problem the person who asked can act on; subclasses give the stable `code`. */
export abstract class UserError extends Error {
  override name = 'UserError';
  /** Stable and machine-readable, e.g. `usage`, `filter`, `locked`; never shown instead of the message. */
  abstract readonly code: string;
}

/**
 * A problem only whoever runs the app can fix (configuration, the data file, keys). The CLI and the console
 * show it, since their user is that operator; in Slack the router logs it and apologises instead.
 */
export abstract class OperatorError extends UserError {
  override name = 'OperatorError';
}

/** Bad input from the user: the message is one line saying what was wrong; the router adds the usage. */
export class UsageError extends UserError {
  override name = 'UsageError';
  readonly code = 'usage';
}

/** Whether an error is meant to be read by whoever asked on `surface` (the rest are bugs, logged instead). */
export function isUserError(error: unknown, surface: 'slack' | 'console' | 'cli'): error is UserError {
  if (!(error instanceof UserError)) return false;
  return surface !== 'slack' || !(error instanceof OperatorError);
}

/**
 * A file-level import problem (missing file, unknown format, missing id column, unreadable CSV/JSON,
 * contradictory identifier options); nothing was imported. Defined here because the importer and the
 * identifier policy (privacy/pii.ts) both refuse with it.
 */
export class ImportError extends UserError {
  override name = 'ImportError';
  readonly code = 'import';
}
