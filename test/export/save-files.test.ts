import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { saveReplyFiles } from '../../src/export/save-files.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'save-files-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('saveReplyFiles', () => {
  it('writes export files readable by their owner only, as docs/PRIVACY.md says', async () => {
    const [saved] = await saveReplyFiles(
      [{ filename: 'segments.csv', content: Buffer.from('id,segment\nu1,1\n'), title: 'Segments' }],
      join(dir, 'segments.csv'),
    );
    expect((await stat(saved as string)).mode & 0o777).toBe(0o600);
  });
});
