/**
 * Collects mapped rows until a batch is big enough to commit, then hands them over with the cursor that resumes
 * right after them. Profiles are merged by source id inside a batch (one row per person, latest activity kept), so
 * a commenter with 40 comments on a page is one profile patch, not 40.
 */

import type { ProductPatch } from '../../domain/types.ts';
import type { SourceInteraction, SourceMetric, SourceProfile, SyncBatch } from '../connector.ts';

/** The rows of one batch in the making. */
export class BatchBuilder {
  private profiles = new Map<string, SourceProfile>();
  private products = new Map<string, ProductPatch>();
  private interactions: SourceInteraction[] = [];
  private metrics: SourceMetric[] = [];

  /** Adds a person; a later sighting of the same source id keeps the newest activity time. */
  profile(profile: SourceProfile): void {
    const seen = this.profiles.get(profile.sourceId);
    if (seen === undefined) {
      this.profiles.set(profile.sourceId, profile);
      return;
    }
    const last = Math.max(seen.last_active_at ?? 0, profile.last_active_at ?? 0);
    this.profiles.set(profile.sourceId, { ...seen, ...profile, last_active_at: last === 0 ? null : last });
  }

  /** Adds or replaces a product / content item. */
  product(product: ProductPatch): void {
    this.products.set(product.id, product);
  }

  /** Adds one event. */
  interaction(interaction: SourceInteraction): void {
    this.interactions.push(interaction);
  }

  /** Adds per-content figures. */
  metric(...metrics: SourceMetric[]): void {
    this.metrics.push(...metrics);
  }

  /** How many rows are waiting (the unit the batch size is counted in). */
  get size(): number {
    return this.profiles.size + this.products.size + this.interactions.length + this.metrics.length;
  }

  /** Whether nothing is waiting. */
  get empty(): boolean {
    return this.size === 0;
  }

  /** Hands the rows over as one batch ending at `cursor`, and starts a new one. */
  take(cursor: string, done: boolean): SyncBatch {
    const batch: SyncBatch = {
      profiles: [...this.profiles.values()],
      products: [...this.products.values()],
      interactions: this.interactions,
      cursor,
      done,
    };
    if (this.metrics.length > 0) batch.metrics = this.metrics;
    this.profiles = new Map();
    this.products = new Map();
    this.interactions = [];
    this.metrics = [];
    return batch;
  }
}
