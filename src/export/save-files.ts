import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { ReplyFile } from '../domain/reply.ts';

/** Where the console and the CLI put a reply's files: charts beside charts, exports beside exports. */
export function defaultPathFor(file: ReplyFile, root = '.'): string {
  const folder = file.filename.endsWith('.png') ? 'charts' : 'exports';
  return resolve(root, folder, basename(file.filename));
}

/** Writes a reply's files (temp file, then rename, so a reader never sees half a file); returns their paths. */
export async function saveReplyFiles(files: readonly ReplyFile[], target?: string): Promise<string[]> {
  const paths: string[] = [];
  for (const file of files) {
    // An explicit target names the file when there is one, or a folder when there are several.
    const path = target
      ? files.length === 1
        ? resolve(target)
        : join(resolve(target), basename(file.filename))
      : defaultPathFor(file);
    await mkdir(dirname(path), { recursive: true });
    const temp = `${path}.${process.pid}.tmp`;
    // Exports hold personal data: readable by the owner only, as docs/PRIVACY.md says.
    await writeFile(temp, file.content, { mode: 0o600 });
    await chmod(temp, 0o600);
    await rename(temp, path);
    paths.push(path);
  }
  return paths;
}
