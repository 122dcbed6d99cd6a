/**
 * The data file format ("audience-insights-store", format 1): UTF-8 text, one JSON value per line, so neither
 * writing nor reading ever builds one giant string (V8 caps a string at ~512 MB, which one JSON document of
 * the data hits at ~1.2M profiles). The first line is a magic word plus header, the last a trailer:
 *
 *   #audience-insights-store/1 {"schemaVersion":1,"counts":{"profiles":P,"interactions":I},"chunkRows":50000}
 *   {"t":"meta","meta":{…},"attributes":{…}}
 *   {"t":"rows","c":"products"|"schedules"|"deliveries"|"audit"|"segmentRuns","rows":[…]}
 *   {"t":"extra","k":key,"v":…}     (a top-level key this codec does not know, kept verbatim)
 *   {"t":"profiles","n":…,"id":[…],"platform":{"d":[dict],"c":[codes]},"country":{…},"created_at":[…],
 *     "last_active_at":[…],"followers":[…],"interests":{"d":[dict],"len":[…]|k,"c":[…]},"attrs":[column…]}
 *   {"t":"interactions","n":…,"u":[…],"ux":[…],"item":{"d","c"},"type":{"d","c"},"value":[…],"ts":[…],"tsDelta":b}
 *   {"t":"model","k":key,"v":…}
 *   {"t":"end","lines":L,"bytes":B,"counts":{…},"sha256":"<hex of every byte before this line>"}
 *
 * Profiles and interactions are columnar, `chunkRows` rows per line, and all profile lines come before the
 * interaction lines; other lines may come in any order. Dictionary columns store each distinct value once
 * per chunk plus a code per row (-1 = null); list lengths are one number when every row has the same.
 * Interaction users are indices into the profile array (so the strings are shared in memory) or -(k+1) into
 * `ux` for users without a profile; timestamps are delta-encoded when all are safe integers. Each custom
 * attribute is a column typed by its values: "n" numbers, "s" dictionary strings, "l" dictionary string
 * lists (length -1 = null), "j" anything else as raw JSON; "a" lists the rows where the key is absent.
 * The trailer's checksum and counts detect truncation and edits. A file whose first byte is `{` is read as
 * a plain lowdb JSON document (legacy or hand-written); writing always uses this format. With a data key the
 * same lines are wrapped in the authenticated container of encryption.ts, which decode.ts reads too.
 *
 * This module holds what both sides share: encode.ts writes the lines, decode.ts reads them.
 */

/** The magic word at the start of every data file. */
export const FORMAT_NAME = 'audience-insights-store';
/** The layout version of the lines (independent of the data schema version). */
export const FORMAT_VERSION = 1;
/** Rows per profiles/interactions line: big enough to amortise JSON.parse, small enough to stay a few MB. */
export const DEFAULT_CHUNK_ROWS = 50_000;

/** Rows per line of the small collections (products, schedules…). */
export const SMALL_CHUNK_ROWS = 10_000;
/** The line separator, as bytes. */
export const NEWLINE = Buffer.from('\n');
/** The top-level keys of AudienceData this format knows; others are kept verbatim as "extra" lines. */
export const KNOWN_KEYS = new Set([
  'schemaVersion',
  'meta',
  'attributes',
  'profiles',
  'products',
  'interactions',
  'schedules',
  'deliveries',
  'segmentRuns',
  'models',
  'audit',
]);
/** Collections stored as plain row lines. */
export const ROW_COLLECTIONS = ['products', 'schedules', 'deliveries', 'segmentRuns', 'audit'] as const;
/** One of ROW_COLLECTIONS. */
export type RowCollection = (typeof ROW_COLLECTIONS)[number];

/** A content problem in a data file (as opposed to an I/O error, which is thrown as is). */
export class CodecError extends Error {
  override name = 'CodecError';
  constructor(
    readonly kind: 'corrupt' | 'truncated' | 'newer_format',
    message: string,
  ) {
    super(message);
  }
}
