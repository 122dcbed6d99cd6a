/**
 * A connector's batch turned into what the store takes, with the importer's own rules: every row through the
 * importer's validation (src/import/schema.ts `validateRow`), identifiers through the importer's PII guard
 * (src/privacy/pii.ts: handles, e-mails and names become keyed pseudonyms, or are dropped without a key), attribute
 * values through the importer's coercion. Ids are prefixed with the connector kind (`shopify:123`) so platforms
 * never collide with each other or with imported ids. A row that breaks a rule fails the whole batch as
 * `malformed` (nothing of it is written, the cursor stays): a connector that maps wrongly must be heard of.
 */
import type {
  AttributeKind,
  AttributeValue,
  ContentMetric,
  Interaction,
  ProductPatch,
  ProfilePatch,
} from '../domain/types.ts';
import { coerceAttribute } from '../import/infer.ts';
import { validateRow } from '../import/schema.ts';
import type { PiiGuard } from '../privacy/pii.ts';
import type { SourceInteraction, SourceProfile, SyncBatch } from './connector.ts';
import { ConnectorError } from './errors.ts';

/** A batch ready to commit. */
export interface PreparedBatch {
  profiles: ProfilePatch[];
  /** Kinds of attributes the store does not know yet. */
  newKinds: Record<string, AttributeKind>;
  products: ProductPatch[];
  /** Interactions with their dedupe keys, in batch order, repeated keys already dropped. */
  interactions: Array<{ key: string; interaction: Interaction }>;
  metrics: ContentMetric[];
  /** Interactions older than the retention window, left out (they would be purged at once). */
  expired: number;
  /** Currencies of purchase amounts seen in this batch. */
  currencies: Set<string>;
}

/** What preparing a batch needs besides the batch. */
export interface PrepareContext {
  kind: string;
  connectionId: string;
  guard: PiiGuard;
  /** Attribute kinds the store knows (a known attribute keeps its kind). */
  kinds: Readonly<Record<string, AttributeKind>>;
  /** Interactions before this instant are left out (RETENTION_DAYS); null: keep all. */
  retentionCutoff: number | null;
}

/** Identifier fields of a SourceProfile, stored as attributes of these names, like an import's columns. */
const IDENTIFIERS = ['handle', 'email', 'name'] as const;

/** The audience id of a platform's person or item id. */
export function audienceId(kind: string, sourceId: string): string {
  return `${kind}:${sourceId}`;
}

function malformed(ctx: PrepareContext, what: string): ConnectorError {
  return new ConnectorError(
    'malformed',
    `${ctx.kind} connection "${ctx.connectionId}": ${what}; nothing of this page was stored and the next sync starts from the same place`,
  );
}

/** Validates and maps one batch (see the module comment); throws ConnectorError 'malformed'. */
export function prepareBatch(batch: SyncBatch, ctx: PrepareContext): PreparedBatch {
  if (typeof batch.cursor !== 'string') throw malformed(ctx, 'the page has no cursor');
  const newKinds: Record<string, AttributeKind> = {};
  const profiles = batch.profiles.map((p, i) => prepareProfile(p, i, ctx, newKinds));
  const products = batch.products.map((p, i) => {
    const row = validateRow('products', { ...p, id: p.id });
    if (!row.ok) throw malformed(ctx, `product ${i + 1} (${p.id}): ${issues(row.issues)}`);
    return { ...p, id: audienceId(ctx.kind, row.row.id) };
  });
  const { interactions, expired, currencies } = prepareInteractions(batch.interactions, ctx);
  const metrics = (batch.metrics ?? []).map((m, i) => {
    if (typeof m.contentId !== 'string' || !Number.isFinite(m.value) || !Number.isFinite(m.at)) {
      throw malformed(ctx, `metric ${i + 1} needs a content id, a finite value and a time`);
    }
    return {
      connection_id: ctx.connectionId,
      content_id: audienceId(ctx.kind, m.contentId),
      name: String(m.name),
      value: m.value,
      at: m.at,
    };
  });
  return { profiles, newKinds, products, interactions, metrics, expired, currencies };
}

function issues(list: Array<{ field: string | undefined; message: string }>): string {
  return list.map((i) => (i.field ? `${i.field}: ${i.message}` : i.message)).join('; ');
}

function prepareProfile(
  p: SourceProfile,
  index: number,
  ctx: PrepareContext,
  newKinds: Record<string, AttributeKind>,
): ProfilePatch {
  const row = validateRow('profiles', {
    id: p.sourceId,
    platform: p.platform,
    country: p.country,
    created_at: p.created_at,
    last_active_at: p.last_active_at,
    followers: p.followers,
    interests: p.interests,
  });
  if (!row.ok) throw malformed(ctx, `profile ${index + 1}: ${issues(row.issues)}`);
  const attrs: Record<string, AttributeValue> = {};
  // Identifiers are replaced before anything else sees them, exactly as the importer does with such columns.
  const raw: Record<string, unknown> = { ...(p.attrs ?? {}) };
  for (const field of IDENTIFIERS) if (p[field] !== undefined) raw[field] = p[field];
  for (const [name, value] of Object.entries(raw)) {
    let stored: unknown = value;
    const pii = ctx.guard.decide(name);
    if (pii) {
      if (pii.action === 'drop') continue;
      stored = ctx.guard.protect(value, pii);
    }
    if (stored === undefined || stored === null) continue;
    const kind = ctx.kinds[name] ?? newKinds[name] ?? kindOfValue(stored);
    const coerced = coerceAttribute(kind, stored);
    if (!coerced.ok) throw malformed(ctx, `profile ${index + 1}, attribute ${name}: ${coerced.message}`);
    if (ctx.kinds[name] === undefined) newKinds[name] = kind;
    attrs[name] = coerced.value;
  }
  const { id, ...fields } = row.row;
  return { ...fields, id: audienceId(ctx.kind, id), attrs };
}

/** The attribute kind of a typed value (connectors hand typed JSON, not text to infer from). */
function kindOfValue(value: unknown): AttributeKind {
  if (typeof value === 'number') return 'number';
  if (typeof value === 'boolean') return 'boolean';
  if (Array.isArray(value)) return 'list';
  return 'category';
}

function prepareInteractions(
  list: readonly SourceInteraction[],
  ctx: PrepareContext,
): Pick<PreparedBatch, 'interactions' | 'expired' | 'currencies'> {
  const seen = new Set<string>();
  const out: PreparedBatch['interactions'] = [];
  const currencies = new Set<string>();
  let expired = 0;
  list.forEach((s, i) => {
    if (typeof s.sourceId !== 'string' || s.sourceId === '') {
      throw malformed(ctx, `interaction ${i + 1} has no source id`);
    }
    const row = validateRow('interactions', {
      user_id: s.userSourceId,
      item_id: s.item_id,
      type: s.type,
      timestamp: s.timestamp,
      value: s.value,
    });
    if (!row.ok) throw malformed(ctx, `interaction ${i + 1} (${s.sourceId}): ${issues(row.issues)}`);
    if (seen.has(s.sourceId)) return;
    seen.add(s.sourceId);
    if (ctx.retentionCutoff !== null && row.row.timestamp < ctx.retentionCutoff) {
      expired++;
      return;
    }
    if (s.currency) currencies.add(s.currency);
    const r = row.row;
    out.push({
      key: s.sourceId,
      interaction: {
        user_id: audienceId(ctx.kind, r.user_id),
        item_id: r.item_id ? audienceId(ctx.kind, r.item_id) : null,
        type: r.type,
        value: r.value ?? null,
        timestamp: r.timestamp,
      },
    });
  });
  return { interactions: out, expired, currencies };
}
