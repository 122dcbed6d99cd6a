import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/**
 * The house plan's import rules, checked over source text (test/architecture/imports.test.ts).
 *
 * Every folder under src/ and commands/ has a README.md with a line `May import: a, b, c` naming the folders
 * (and the top-level `config.ts` / `logger.ts`) it may import; a folder may always import itself and any library,
 * except for the library and code rules below, which hold whatever the READMEs say.
 */

/** One source file: its path relative to the repository root (posix separators) and its text. */
export interface SourceText {
  path: string;
  text: string;
}

/** A broken rule: the file, what it imports or uses, the 1-based line, and the rule it breaks. */
export interface Violation {
  file: string;
  import: string;
  line: number;
  rule: string;
}

/** Which units (folder names like `engine`, `commands`, or top-level files like `config.ts`) each unit may import. */
export type ImportRules = ReadonlyMap<string, ReadonlySet<string> | 'anything'>;

/** The top-level entry points: they wire everything together, so they may import anything and nothing imports them but each other. */
export const ENTRY_POINTS = ['app.ts', 'cli.ts', 'console.ts'] as const;

/** Top-level modules every layer may be allowed to use; they themselves may import only the domain. */
const TOP_LEVEL_SHARED = ['config.ts', 'logger.ts'] as const;

const SOURCE_FILE = /\.(ts|mts|cts|js|mjs)$/;
const SLACK_PACKAGES = /^@slack\/(bolt|web-api)(\/|$)/;
const FILE_SYSTEM = /^(node:)?fs(\/|$)/;
const PURE_UNITS = new Set(['engine', 'domain']);

/** Reads the `May import:` line of a folder README: the listed units, or undefined when the line is missing. */
export function parseMayImport(readme: string): Set<string> | undefined {
  const line = readme.split('\n').find((l) => /^May import:/.test(l.trim()));
  if (line === undefined) return undefined;
  const list = line.trim().slice('May import:'.length).trim();
  if (list === '' || list === 'nothing') return new Set();
  return new Set(
    list
      .split(',')
      .map((s) => s.trim().replace(/^`|`$/g, '').replace(/\/$/, ''))
      .filter((s) => s !== ''),
  );
}

/**
 * The unit a repository path belongs to: `commands` for anything under commands/, the first folder under src/
 * (`engine`, `slack`, …), a top-level file name under src/ (`config.ts`), or undefined outside src/ and commands/.
 */
export function unitOf(file: string): string | undefined {
  const parts = file.split('/');
  if (parts[0] === 'commands') return 'commands';
  if (parts[0] !== 'src' || parts.length < 2) return undefined;
  return parts[1];
}

/** The rules from the folder READMEs, plus the fixed rules for the top-level files. */
export function rulesFromReadmes(readmes: ReadonlyMap<string, string>): {
  rules: ImportRules;
  missing: string[];
} {
  const rules = new Map<string, ReadonlySet<string> | 'anything'>();
  const missing: string[] = [];
  for (const [unit, text] of readmes) {
    const allowed = parseMayImport(text);
    if (allowed === undefined) missing.push(unit);
    else rules.set(unit, allowed);
  }
  for (const entry of ENTRY_POINTS) rules.set(entry, 'anything');
  for (const shared of TOP_LEVEL_SHARED) rules.set(shared, new Set(['domain']));
  return { rules, missing };
}

interface Use {
  specifier: string;
  line: number;
}

/**
 * Every module specifier in a file: static imports and re-exports, `import type`, `import('x')` calls and types,
 * and `require('x')` / `createRequire(…)('x')` (a module loaded on first use is still a dependency).
 */
function importsOf(source: ts.SourceFile): Use[] {
  const uses: Use[] = [];
  const add = (node: ts.Node, literal: ts.Expression | ts.TypeNode | undefined) => {
    let text: string | undefined;
    if (literal !== undefined && ts.isStringLiteral(literal)) text = literal.text;
    if (literal !== undefined && ts.isLiteralTypeNode(literal) && ts.isStringLiteral(literal.literal)) {
      text = literal.literal.text;
    }
    if (text === undefined) return;
    const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
    uses.push({ specifier: text, line });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node, node.moduleSpecifier);
    else if (ts.isCallExpression(node) && isModuleLoader(node.expression)) add(node, node.arguments[0]);
    else if (ts.isImportTypeNode(node)) add(node, node.argument);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node, node.moduleReference.expression);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return uses;
}

/** Uses of `process.env`, `Date.now()` and `new Date()` without arguments, with their lines. */
function ambientUsesOf(
  source: ts.SourceFile,
): { what: 'process.env' | 'Date.now()' | 'new Date()'; line: number }[] {
  const found: { what: 'process.env' | 'Date.now()' | 'new Date()'; line: number }[] = [];
  const lineOf = (node: ts.Node) => source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
  const visit = (node: ts.Node) => {
    if (
      ts.isPropertyAccessExpression(node) &&
      node.name.text === 'env' &&
      isIdentifier(node.expression, 'process')
    ) {
      found.push({ what: 'process.env', line: lineOf(node) });
    } else if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      node.expression.name.text === 'now' &&
      isIdentifier(node.expression.expression, 'Date')
    ) {
      found.push({ what: 'Date.now()', line: lineOf(node) });
    } else if (
      ts.isNewExpression(node) &&
      isIdentifier(node.expression, 'Date') &&
      (node.arguments === undefined || node.arguments.length === 0)
    ) {
      found.push({ what: 'new Date()', line: lineOf(node) });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** `import(…)`, `require(…)` or `createRequire(…)(…)`: a call that loads a module. */
function isModuleLoader(callee: ts.Expression): boolean {
  if (callee.kind === ts.SyntaxKind.ImportKeyword || isIdentifier(callee, 'require')) return true;
  return ts.isCallExpression(callee) && isIdentifier(callee.expression, 'createRequire');
}

function isIdentifier(node: ts.Node, name: string): boolean {
  return ts.isIdentifier(node) && node.text === name;
}

/** The rule a local import breaks, or undefined when it is allowed. */
function localRule(unit: string, target: string | undefined, rules: ImportRules): string | undefined {
  if (target === undefined) return `${describe(unit)} imports from outside src/ and commands/`;
  if (target === unit) return undefined;
  const allowed = rules.get(unit);
  if (allowed === 'anything') return undefined;
  if (allowed === undefined) return `${describe(unit)} has no "May import:" rule (add a README.md)`;
  if (allowed.has(target)) return undefined;
  const list = allowed.size === 0 ? 'nothing local' : [...allowed].join(', ');
  return `${describe(unit)} may import only ${list}; not ${describe(target)}`;
}

function describe(unit: string): string {
  if (unit === 'commands') return 'commands/';
  return unit.endsWith('.ts') ? `src/${unit}` : `src/${unit}/`;
}

/** The rule a library import breaks, or undefined. */
function libraryRule(unit: string, specifier: string): string | undefined {
  if (SLACK_PACKAGES.test(specifier) && unit !== 'slack') {
    return '@slack/bolt and @slack/web-api are imported only under src/slack/';
  }
  if (FILE_SYSTEM.test(specifier) && PURE_UNITS.has(unit)) {
    return `${describe(unit)} is pure: no file system (data in, results out)`;
  }
  return undefined;
}

/** Checks one file's imports and ambient uses against the rules. */
export function checkFile(file: SourceText, rules: ImportRules): Violation[] {
  const unit = unitOf(file.path);
  if (unit === undefined) return [];
  const source = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.Latest, true);
  const violations: Violation[] = [];
  for (const use of importsOf(source)) {
    const rule = use.specifier.startsWith('.')
      ? localRule(unit, unitOf(path.posix.join(path.posix.dirname(file.path), use.specifier)), rules)
      : libraryRule(unit, use.specifier);
    if (rule !== undefined) violations.push({ file: file.path, import: use.specifier, line: use.line, rule });
  }
  for (const use of ambientUsesOf(source)) {
    if (use.what === 'process.env' && unit !== 'config.ts') {
      violations.push({
        file: file.path,
        import: use.what,
        line: use.line,
        rule: 'only src/config.ts reads process.env',
      });
    } else if (use.what !== 'process.env' && PURE_UNITS.has(unit)) {
      const rule = `${describe(unit)} is pure: no clock reads (time is passed in)`;
      violations.push({ file: file.path, import: use.what, line: use.line, rule });
    }
  }
  return violations;
}

/** Checks every file; the order is the files' order. */
export function checkSources(files: readonly SourceText[], rules: ImportRules): Violation[] {
  return files.flatMap((file) => checkFile(file, rules));
}

/** One line per violation: file:line, the import, and the rule. */
export function formatViolation(v: Violation): string {
  return `${v.file}:${v.line} imports '${v.import}': ${v.rule}`;
}

/** The folders that need a README: every folder directly under src/, and commands/. */
export function ruleFolders(root: string): string[] {
  const src = readdirSync(path.join(root, 'src'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name);
  return [...src.sort(), 'commands'];
}

/** Reads each rule folder's README.md (an empty string when there is none). */
export function readReadmes(root: string): Map<string, string> {
  const readmes = new Map<string, string>();
  for (const unit of ruleFolders(root)) {
    const dir = unit === 'commands' ? 'commands' : `src/${unit}`;
    let text = '';
    try {
      text = readFileSync(path.join(root, dir, 'README.md'), 'utf8');
    } catch {
      // a missing README is reported by the test as a missing rule
    }
    readmes.set(unit, text);
  }
  return readmes;
}

/** Every source file under src/ and commands/, with repository-relative posix paths. */
export function readSources(root: string): SourceText[] {
  const files: SourceText[] = [];
  for (const dir of ['src', 'commands']) {
    const names = readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' });
    for (const name of names.sort()) {
      if (!SOURCE_FILE.test(name) || name.endsWith('.d.ts')) continue;
      const rel = `${dir}/${name.split(path.sep).join('/')}`;
      files.push({ path: rel, text: readFileSync(path.join(root, rel), 'utf8') });
    }
  }
  return files;
}
