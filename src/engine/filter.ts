import { UserError } from '../domain/errors.ts';
import { own } from '../domain/names.ts';
import type { AttributeKind, Profile } from '../domain/types.ts';

/** Bad `where=` input; the message says what was wrong and what would work. */
export class FilterError extends UserError {
  override name = 'FilterError';
  readonly code = 'filter';
}

type Op = ':' | '>' | '<' | '>=' | '<=' | '!=';
interface Clause {
  field: string;
  op: Op;
  values: string[];
}

/** A parsed `where=` expression: clauses joined by AND, `|` inside a value meaning OR. */
export interface Filter {
  clauses: Clause[];
  text: string;
}

const COMMON_FIELDS = [
  'id',
  'platform',
  'country',
  'followers',
  'interests',
  'interest',
  'created_at',
  'last_active_at',
];

/**
 * Parses `country:DE`, `country:DE|FR,platform:tiktok`, `followers>=1000`, `interest:fitness`,
 * `age<30` (any custom attribute); `followers:>=1000` is the same as `followers>=1000`. Field names are checked
 * against the known fields and attributes.
 */
export function parseWhere(text: string, attributes: Record<string, AttributeKind>): Filter {
  const clauses: Clause[] = [];
  for (const part of text.split(',')) {
    const trimmed = part.trim();
    if (trimmed === '') continue;
    const match = /^([A-Za-z_][\w-]*)\s*(>=|<=|!=|:|>|<)\s*(.+)$/.exec(trimmed);
    if (!match) {
      throw new FilterError(`cannot read the filter "${trimmed}": write field:value, e.g. where=country:DE`);
    }
    const field = (match[1] ?? '').toLowerCase();
    const [op, value] = colonComparison(match[2] as Op, match[3] ?? '');
    if (!COMMON_FIELDS.includes(field) && !Object.hasOwn(attributes, field)) {
      const known = [...COMMON_FIELDS.filter((f) => f !== 'interest'), ...Object.keys(attributes)];
      throw new FilterError(`unknown filter field "${field}"; filter on one of: ${known.join(', ')}`);
    }
    const values = value.split('|').map((v) => v.trim());
    if (op !== ':' && op !== '!=') {
      for (const v of values) {
        if (!Number.isFinite(Number(v)) && Number.isNaN(Date.parse(v))) {
          throw new FilterError(`"${field}${op}${v}" needs a number or a date after ${op}`);
        }
      }
    }
    clauses.push({ field, op, values });
  }
  if (clauses.length === 0) throw new FilterError('where= is empty: write e.g. where=country:DE');
  return { clauses, text };
}

// `followers:>=1000` reads as `followers>=1000`, as people write it after seeing `country:DE`; `country:<x>`
// stays a value unless a number or a date follows the comparison.
function colonComparison(op: Op, value: string): [Op, string] {
  const inner = op === ':' ? /^(>=|<=|!=|>|<)\s*(.+)$/.exec(value) : null;
  if (!inner) return [op, value];
  const [, compare, rest] = inner as unknown as [string, Op, string];
  const comparable = rest.split('|').every((v) => Number.isFinite(Number(v)) || !Number.isNaN(Date.parse(v)));
  return compare === '!=' || comparable ? [compare, rest] : [op, value];
}

/** Keeps the profiles that match every clause. */
export function applyFilter(profiles: readonly Profile[], filter: Filter | null): Profile[] {
  if (!filter) return profiles as Profile[];
  const tests = filter.clauses.map(compile);
  return profiles.filter((p) => tests.every((t) => t(p)));
}

function fieldValue(profile: Profile, field: string): unknown {
  switch (field) {
    case 'id':
    case 'platform':
    case 'country':
    case 'followers':
    case 'created_at':
    case 'last_active_at':
      return profile[field];
    case 'interest':
    case 'interests':
      return profile.interests;
    default:
      return own(profile.attrs, field);
  }
}

function compile(clause: Clause): (p: Profile) => boolean {
  const wanted = clause.values.map((v) => v.toLowerCase());
  const numbers = clause.values.map((v) => (Number.isFinite(Number(v)) ? Number(v) : Date.parse(v)));
  const equals = (value: unknown): boolean => {
    if (value === null || value === undefined) return false;
    if (Array.isArray(value)) return value.some((item) => wanted.includes(String(item).toLowerCase()));
    return wanted.includes(String(value).toLowerCase());
  };
  return (profile) => {
    const value = fieldValue(profile, clause.field);
    switch (clause.op) {
      case ':':
        return equals(value);
      case '!=':
        return !equals(value);
      default: {
        if (typeof value !== 'number') return false;
        const bound = numbers[0] ?? Number.NaN;
        if (clause.op === '>') return value > bound;
        if (clause.op === '<') return value < bound;
        if (clause.op === '>=') return value >= bound;
        return value <= bound;
      }
    }
  };
}
