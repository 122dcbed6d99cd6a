/**
 * `npm run examples`: regenerates docs/EXAMPLES.md by running every command named in its `## \`/audience …\``
 * headings through the CLI's sources (so no build is needed and the file always shows the code as it is), in order, on a fresh store holding the bundled sample (seed 42) at a pinned time.
 * `npm run examples -- --check` changes nothing and exits 1 if the file is not what the program prints now, so
 * a reply that changes by accident is noticed and one that changes on purpose is regenerated in one step.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXED_NOW = '2026-06-01T09:30:00Z';
const root = fileURLToPath(new URL('..', import.meta.url));
const docPath = path.join(root, 'docs', 'EXAMPLES.md');
const HEADING = /^## `\/audience (.+)`$/;

/** The document as the program prints it now: the same headings and prose, each reply block rerun. */
export function regenerate(current: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'audience-examples-'));
  try {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      FIXED_NOW,
      DATA_FILE: path.join(dir, 'audience.db'),
      LOG_LEVEL: 'error',
    };
    for (const name of [
      'SLACK_BOT_TOKEN',
      'SLACK_APP_TOKEN',
      'SLACK_SIGNING_SECRET',
      'DATA_ENCRYPTION_KEY',
    ]) {
      delete env[name];
    }
    return rewriteBlocks(current, (command) => runCommand(command, env));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Replaces the fenced block after each command heading with `run(command)`; everything else is kept. */
function rewriteBlocks(doc: string, run: (command: string) => string): string {
  const lines = doc.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    out.push(line);
    const command = HEADING.exec(line)?.[1];
    if (command === undefined) continue;
    const open = lines.findIndex((l, j) => j > i && l.startsWith('```'));
    const close = lines.findIndex((l, j) => j > open && l === '```');
    if (open < 0 || close < 0) throw new Error(`docs/EXAMPLES.md: no fenced block after "${line}"`);
    out.push(...lines.slice(i + 1, open + 1), ...run(command).replace(/\n+$/, '').split('\n'), '```');
    i = close;
  }
  return out.join('\n');
}

function runCommand(command: string, env: NodeJS.ProcessEnv): string {
  const words = command.match(/"[^"]*"|\S+/g)?.map((w) => w.replace(/^"|"$/g, '')) ?? [];
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'src', 'cli.ts'), ...words],
    {
      cwd: root,
      env,
      encoding: 'utf8',
    },
  );
  if (result.status !== 0) {
    throw new Error(`audience ${command} exited with ${result.status}:\n${result.stderr}`);
  }
  return result.stdout;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const current = readFileSync(docPath, 'utf8');
  const fresh = regenerate(current);
  if (process.argv.includes('--check')) {
    if (fresh !== current) {
      process.stderr.write(
        'docs/EXAMPLES.md differs from what the program prints; run `npm run examples`.\n',
      );
      process.exit(1);
    }
    process.stdout.write('docs/EXAMPLES.md is what the program prints.\n');
  } else {
    writeFileSync(docPath, fresh);
    process.stdout.write(
      fresh === current ? 'docs/EXAMPLES.md unchanged.\n' : 'docs/EXAMPLES.md rewritten.\n',
    );
  }
}
