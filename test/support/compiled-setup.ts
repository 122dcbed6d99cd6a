/**
 * Vitest global setup: compiles src/ and commands/ to JavaScript ONCE per run, for the tests that start the app
 * or the CLI as a child process (test/support/processes.ts `entryPoint`). A child started through tsx pays
 * ~0.6 CPU-s more than the same child on JavaScript (tsx's loader thread resolving and transforming hundreds
 * of modules), and the suite starts about sixty of them.
 *
 * The output is what `npm run build` writes to dist/ (the same compiler and options, file for file: the
 * settings allow nothing that needs type information to emit), kept under node_modules/.cache/ by a hash of
 * the sources, so a second run on unchanged sources (CI's Node 22 and 24 runs) reuses it and an edited source
 * never runs stale. It sits inside the repository, so packages and the package root resolve as from dist/.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The folder holding the compiled src/ and commands/ (see compiled-setup.ts). */
    compiledRoot: string;
  }
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SOURCE_FOLDERS = ['src', 'commands'];
const CACHE = join(ROOT, 'node_modules', '.cache', 'audience-tests');
/** Compiled trees of other sources (an earlier edit) are removed once they are this old. */
const STALE_MS = 24 * 60 * 60 * 1000;

/** tsconfig.build.json's emit, per file. */
const OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  // ESM output, as NodeNext emits for this "type": "module" package.
  module: ts.ModuleKind.ESNext,
  verbatimModuleSyntax: true,
  rewriteRelativeImportExtensions: true,
  esModuleInterop: true,
  resolveJsonModule: true,
  sourceMap: false,
};

/** Compiles (or finds) the sources' JavaScript and provides its folder. */
export default function setup(project: TestProject): void {
  const files = SOURCE_FOLDERS.flatMap((folder) => sourceFiles(join(ROOT, folder)));
  const hash = createHash('sha256').update(ts.version).update(JSON.stringify(OPTIONS));
  for (const file of files)
    hash.update(relative(ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  const target = join(CACHE, `compiled-${hash.digest('hex').slice(0, 16)}`);
  if (!exists(target)) compileInto(target, files);
  removeStale(target);
  project.provide('compiledRoot', target);
}

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && !entry.name.endsWith('.md'))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/** Writes a temporary folder and renames it into place, so a parallel run never sees half a tree. */
function compileInto(target: string, files: string[]): void {
  const temporary = `${target}.${process.pid}.tmp`;
  rmSync(temporary, { recursive: true, force: true });
  for (const file of files) {
    const out = join(temporary, relative(ROOT, file));
    mkdirSync(dirname(out), { recursive: true });
    if (!file.endsWith('.ts')) {
      // Plain JavaScript beside the sources (the build copies .mjs files as they are).
      writeFileSync(out, readFileSync(file));
      continue;
    }
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
      fileName: file,
      compilerOptions: OPTIONS,
    });
    writeFileSync(out.replace(/\.ts$/, '.js'), outputText);
  }
  try {
    renameSync(temporary, target);
  } catch (error) {
    // Another run renamed the same sources' tree first: theirs is identical.
    rmSync(temporary, { recursive: true, force: true });
    if (!exists(target)) throw error;
  }
}

function removeStale(current: string): void {
  for (const name of readdirSync(CACHE)) {
    const path = join(CACHE, name);
    if (path === current) continue;
    if (Date.now() - statSync(path).mtimeMs > STALE_MS) rmSync(path, { recursive: true, force: true });
  }
}

function exists(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
