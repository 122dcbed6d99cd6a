/** The outcome of an import as data, and as the summary the CLI prints. */
import type { AttributeKind } from '../domain/types.ts';
import type { PiiColumnReport } from '../privacy/pii.ts';
import type { ImportKind } from './columns.ts';
import type { ImportFormat } from './readers.ts';
import type { ImportRowError } from './staging.ts';

/**
 * The outcome of an import. Counts describe the valid rows, whether or not they were written:
 * `applied` says if the store was changed (false for dry runs and for rejected files).
 */
export interface ImportReport {
  kind: ImportKind;
  file: string;
  format: ImportFormat;
  /** Data rows read, valid or not. */
  rows: number;
  valid: number;
  /** New profiles/products, or new interactions. */
  inserted: number;
  /** Existing profiles/products the file touched. */
  updated: number;
  /** Valid rows with nothing new: a repeated id (merged into its earlier row) or an interaction already stored. */
  duplicates: number;
  /** Invalid rows left out because of `skipInvalid`. */
  skipped: number;
  /** The first `maxErrors` errors in row order. */
  errors: ImportRowError[];
  errorCount: number;
  /** Custom attributes this import adds to the store, with their inferred kinds. */
  newAttributes: Record<string, AttributeKind>;
  /** Columns that feed nothing, and why. */
  ignoredColumns: Array<{ column: string; reason: string }>;
  /** Identifier columns and what was stored for them (a pseudonym, or nothing). */
  piiColumns: PiiColumnReport[];
  applied: boolean;
  dryRun: boolean;
}

const fmt = (n: number) => n.toLocaleString('en-US');
const plural = (n: number, one: string, many = `${one}s`) => `${fmt(n)} ${n === 1 ? one : many}`;

function where(report: ImportReport, e: ImportRowError): string {
  let text: string;
  if (report.format === 'csv') text = e.line !== undefined ? `row ${e.row} (line ${e.line})` : `row ${e.row}`;
  else if (report.format === 'ndjson') text = `line ${e.row}`;
  else text = `record ${e.row}`;
  const column = e.column ?? e.field;
  return column === undefined ? text : `${text}, ${report.format === 'csv' ? 'column' : 'field'} "${column}"`;
}

/** What the valid rows do (or would do): "2 new, 1 updated" or "5 new". */
function effect(report: ImportReport): string {
  const parts = [`${fmt(report.inserted)} new`];
  if (report.kind !== 'interactions') parts.push(`${fmt(report.updated)} updated`);
  if (report.duplicates > 0) {
    parts.push(
      report.kind === 'interactions'
        ? `${fmt(report.duplicates)} already stored or repeated`
        : `${plural(report.duplicates, 'repeated id')} merged`,
    );
  }
  return parts.join(', ');
}

/** A multi-line, human-readable summary of an import for the terminal. */
export function formatImportReport(report: ImportReport): string {
  const noun = report.kind;
  const lines = [
    `${report.dryRun ? 'Dry run: ' : ''}${noun} from ${report.file} (${report.format}): ${plural(report.rows, 'row')} read`,
    `  ${fmt(report.valid)} valid (${effect(report)})`,
  ];
  const attrs = Object.entries(report.newAttributes);
  if (attrs.length > 0) lines.push(`  new attributes: ${attrs.map(([n, k]) => `${n} (${k})`).join(', ')}`);
  const pseudonymized = report.piiColumns.filter((c) => c.action === 'pseudonymize').map((c) => c.column);
  if (pseudonymized.length > 0) {
    lines.push(
      `  personal identifiers stored as pseudonyms: ${pseudonymized.map((c) => `"${c}"`).join(', ')}`,
    );
  }
  for (const c of report.ignoredColumns) lines.push(`  ignored column "${c.column}": ${c.reason}`);
  if (report.errorCount > 0) {
    const more =
      report.errorCount > report.errors.length ? ` (showing the first ${report.errors.length})` : '';
    lines.push(`  ${plural(report.errorCount, 'error')}${more}:`);
    for (const e of report.errors) lines.push(`    ${where(report, e)}: ${e.message}`);
  }
  const invalid = report.rows - report.valid;
  const change =
    noun === 'interactions'
      ? plural(report.inserted, 'new interaction')
      : `${fmt(report.inserted)} new and ${fmt(report.updated)} updated ${noun}`;
  const skipped = report.skipped > 0 ? `, skipping ${plural(report.skipped, 'invalid row')}` : '';
  if (report.applied) {
    lines.push(`Imported ${change}${skipped}.`);
  } else if (invalid > 0 && report.skipped === 0) {
    lines.push(
      `Nothing was imported: ${fmt(invalid)} of ${plural(report.rows, 'row')} ${invalid === 1 ? 'is' : 'are'} invalid. ` +
        `Fix ${invalid === 1 ? 'it' : 'them'}, or pass --skip-invalid to import the ${plural(report.valid, 'valid row')}.`,
    );
  } else if (report.valid === 0) {
    lines.push('Nothing was imported: no row is valid.');
  } else if (report.dryRun) {
    lines.push(`Dry run, nothing was written. Without --dry-run this would import ${change}${skipped}.`);
  } else {
    lines.push('Nothing to import: every valid row is already in the store.');
  }
  return lines.join('\n');
}
