/**
 * Direct identifiers in imported profile columns: which columns hold them (by name, overridable with
 * `--pii` / `--no-pii`), and what the importer stores instead: a keyed pseudonym, or nothing (`--pii-mode drop`).
 * Only custom profile attributes are affected; the platform user id (`id`) is kept as given.
 */

import { ImportError } from '../domain/errors.ts';
import { normalizeKey } from '../domain/names.ts';
import type { IdentifierKind, Pseudonymizer } from './pseudonym.ts';

/** What the importer does with identifier columns. */
export type PiiMode = 'pseudonymize' | 'drop';

/** Importer options for identifiers (ImportOptions.pii); the CLI fills them from --pii, --no-pii, --pii-mode. */
export interface PiiOptions {
  /** Default: pseudonymize when a pseudonymizer is given, else drop (raw identifiers are never stored). */
  mode?: PiiMode;
  /** Columns to treat as identifiers besides those detected by name (`--pii col1,col2`). */
  columns?: readonly string[];
  /** Detected columns to keep as they are (`--no-pii col`): for a column that only looks like one. */
  notColumns?: readonly string[];
  pseudonymizer?: Pseudonymizer | null;
}

/** One identifier column of an import and what was done with it. */
export interface PiiColumnReport {
  column: string;
  kind: IdentifierKind;
  action: PiiMode;
}

// Column names (compared as normalizeKey does: case, spaces, `_`, `-`, `.` ignored) that are direct identifiers.
const NAMES: Record<IdentifierKind, readonly string[]> = {
  handle: [
    'handle',
    'username',
    'user_name',
    'screen_name',
    'screenname',
    'login',
    'nickname',
    'nick',
    'account',
    'account_name',
    'profile_handle',
    'social_handle',
    'twitter',
    'twitter_handle',
    'instagram',
    'instagram_handle',
    'tiktok_handle',
  ],
  email: ['email', 'e_mail', 'email_address', 'mail', 'emailaddress', 'contact_email'],
  phone: ['phone', 'phone_number', 'mobile', 'mobile_number', 'cell', 'telephone', 'tel', 'msisdn'],
  name: [
    'name',
    'full_name',
    'fullname',
    'first_name',
    'last_name',
    'given_name',
    'family_name',
    'surname',
    'display_name',
    'real_name',
    'contact_name',
  ],
};

const DETECTED = new Map<string, IdentifierKind>();
for (const [kind, names] of Object.entries(NAMES) as Array<[IdentifierKind, readonly string[]]>) {
  for (const name of names) DETECTED.set(normalizeKey(name), kind);
}

/** The identifier kind a column name suggests, or null: `Screen Name` -> handle, `E-Mail` -> email. */
export function identifierKindOf(column: string): IdentifierKind | null {
  return DETECTED.get(normalizeKey(column)) ?? null;
}

/** Guesses the kind of a column named with --pii from its name, else from a value (an @ means e-mail). */
function kindForForced(column: string): IdentifierKind {
  return identifierKindOf(column) ?? 'name';
}

/**
 * Decides, per import, which custom profile columns are identifiers and turns their values into pseudonyms
 * (or drops them). Throws ImportError for contradictory options.
 */
export class PiiGuard {
  readonly mode: PiiMode;
  private readonly forced: Set<string>;
  private readonly kept: Set<string>;
  private readonly pseudonymizer: Pseudonymizer | null;
  private readonly seen = new Map<string, PiiColumnReport>();
  private readonly matchedOptions = new Set<string>();

  constructor(options: PiiOptions = {}) {
    this.pseudonymizer = options.pseudonymizer ?? null;
    this.mode = options.mode ?? (this.pseudonymizer ? 'pseudonymize' : 'drop');
    if (this.mode === 'pseudonymize' && !this.pseudonymizer) {
      throw new ImportError(
        '--pii-mode pseudonymize needs the pseudonym key (PSEUDONYM_KEY or the key file)',
      );
    }
    this.forced = new Set((options.columns ?? []).map(normalizeKey).filter((c) => c !== ''));
    this.kept = new Set((options.notColumns ?? []).map(normalizeKey).filter((c) => c !== ''));
    for (const c of this.forced) {
      if (this.kept.has(c)) {
        throw new ImportError(`column "${c}" is in both --pii and --no-pii; keep it in one of them`);
      }
    }
  }

  /** What to do with a custom attribute column named `source`: null keeps it as it is. */
  decide(source: string): PiiColumnReport | null {
    const known = this.seen.get(source);
    if (known) return known;
    const key = normalizeKey(source);
    let report: PiiColumnReport | null = null;
    if (this.forced.has(key)) {
      this.matchedOptions.add(key);
      report = { column: source, kind: kindForForced(source), action: this.mode };
    } else if (this.kept.has(key)) {
      this.matchedOptions.add(key);
    } else {
      const kind = identifierKindOf(source);
      if (kind) report = { column: source, kind, action: this.mode };
    }
    if (report) this.seen.set(source, report);
    return report;
  }

  /** The stored form of one identifier value: a pseudonym per text (lists element by element), or null. */
  protect(value: unknown, decision: PiiColumnReport): unknown {
    if (decision.action === 'drop' || this.pseudonymizer === null) return undefined;
    const one = (v: unknown): string | null => {
      if (typeof v === 'number' && Number.isFinite(v)) v = String(v);
      if (typeof v !== 'string' || v.trim() === '') return null;
      return (this.pseudonymizer as Pseudonymizer).pseudonym(v, decision.kind);
    };
    if (value === null || value === undefined) return value;
    if (Array.isArray(value)) return value.map(one).filter((v) => v !== null);
    return one(value);
  }

  /** The identifier columns met so far, in the order they were first seen. */
  columns(): PiiColumnReport[] {
    return [...this.seen.values()];
  }

  /** `--pii` / `--no-pii` names that matched no column of the file (probably a typo). */
  unmatchedOptions(): string[] {
    return [...this.forced, ...this.kept].filter((c) => !this.matchedOptions.has(c));
  }
}
