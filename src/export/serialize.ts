import { stringify } from 'csv-stringify/sync';
import type { ExportTable } from './rows.ts';

/** RFC 4180 CSV with a header row; a maintained writer, so quoting of commas and quotes in names is right. */
export function toCsv(table: ExportTable): Buffer {
  // A cell from imported data starting with = + - @ would run as a formula in a spreadsheet: quoted with '.
  return Buffer.from(stringify(table.rows, { header: true, columns: table.columns, escape_formulas: true }));
}

/** A JSON array of objects keyed by column name. */
export function toJson(table: ExportTable): Buffer {
  const objects = table.rows.map((row) =>
    Object.fromEntries(table.columns.map((c, i) => [c, row[i] ?? null])),
  );
  return Buffer.from(`${JSON.stringify(objects, null, 1)}\n`);
}
