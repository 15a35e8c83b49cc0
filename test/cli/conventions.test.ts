// The conventions users expect of a CLI: -h/--help at every level (before any required flag or positional is
// checked), --version, help <command>, "did you mean" for near-miss flags and commands, --no-<flag> for booleans,
// aligned and wrapped help columns, and a bare group word listing its subcommands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMANDS } from '../../src/cli/commands/index.js';
import { flagHelp, HELP_WIDTH, parseArgs, twoColumns, wrapWords } from '../../src/cli/args.js';
import { editDistance, nearest } from '../../src/core/util/suggest.js';
import { isUserError } from '../../src/core/util/errors.js';
import { repoRoot } from '../helpers.js';

const cli = join(repoRoot(), 'dist', 'src', 'cli', 'main.js');

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 30_000 });
}

function ok(args: string[]): string {
  const r = run(args);
  assert.equal(r.status, 0, `${args.join(' ')}: exit ${r.status}, ${r.stderr}`);
  assert.equal(r.stderr, '');
  return r.stdout;
}

function oneLineError(args: string[]): string {
  const r = run(args);
  assert.equal(r.status, 2, `${args.join(' ')}: exit ${r.status}, ${r.stderr}`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, r.stderr);
  return lines[0]!;
}

/** The flag table of a help text: its rows that begin with a flag, and the column where their texts start. */
function flagRows(help: string): { lines: string[]; textColumns: Set<number> } {
  const lines = help.split('\n').filter((l) => /^ {2}(--|-h)/.test(l));
  // A flag wider than the column has a line of its own (its text starts on the next line, in the column).
  const heads = lines.map((l) => /^ {2}(?:-h, --help|--\S+(?: <[^>]*>)?)( +|$)/.exec(l)).filter((m) => m !== null && m[1] !== '');
  const textColumns = new Set(heads.map((m) => m![0].length));
  return { lines, textColumns };
}

test('every command answers --help and -h (exit 0, no other flag needed), listing each flag in aligned, wrapped columns', () => {
  for (const c of COMMANDS) {
    const help = ok([...c.path, '--help']);
    assert.equal(ok([...c.path, '-h']), help, c.path.join(' '));
    if (c.path.length > 1 || c.path[0] === 'train') assert.equal(ok(['help', ...c.path]), help, `help ${c.path.join(' ')}`);
    assert.ok(help.startsWith(c.usage ?? `momentum-lab ${c.path.join(' ')}`), c.path.join(' '));
    for (const name of Object.keys(c.flags)) assert.match(help, new RegExp(`^ {2}--${name}\\b`, 'm'), `${c.path.join(' ')} --${name}`);
    const { lines, textColumns } = flagRows(help);
    assert.equal(lines.length, Object.keys(c.flags).length + 1, c.path.join(' ')); // + "-h, --help"
    assert.equal(textColumns.size, 1, `${c.path.join(' ')}: flag texts start in columns ${[...textColumns].join(', ')}`);
    // Below the usage line, only a single word longer than the column may overflow.
    for (const l of help.split('\n').slice(1)) assert.ok(l.length <= HELP_WIDTH || !/\s\S+\s/.test(l.trim()), `${c.path.join(' ')}: ${l}`);
  }
});

test('help is answered before required flags and positionals are checked', () => {
  assert.match(ok(['train', '--help']), /^ {2}--lr <number> +learning rate/m); // train needs --lr
  assert.match(ok(['runs', 'show', '-h']), /^momentum-lab runs show DB RUN/); // two positionals
  assert.match(ok(['eval', '--lr', '-h']), /^momentum-lab eval /); // even after an unknown flag
});

test('momentum-lab, --help, -h and help print the command list; --version prints package.json\'s version', () => {
  const usage = ok([]);
  assert.equal(ok(['--help']), usage);
  assert.equal(ok(['-h']), usage);
  assert.equal(ok(['help']), usage);
  for (const c of COMMANDS) assert.match(usage, new RegExp(`^ {2}${c.path.join(' ')} +\\S`, 'm'));
  const version = (JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  assert.equal(ok(['--version']), `momentum-lab ${version}\n`);
});

test('a bare group word, or with -h/--help, lists its subcommands', () => {
  for (const [group, subs] of [['runs', ['list', 'show', 'export']], ['data', ['list', 'fetch']], ['optim', ['trace']], ['bench', ['train']]] as const) {
    const out = ok([group]);
    assert.match(out, new RegExp(`^momentum-lab ${group} <subcommand>`));
    for (const s of subs) assert.match(out, new RegExp(`^ {2}${s} +\\S`, 'm'), `${group} ${s}`);
    assert.equal(ok([group, '--help']), out);
    assert.equal(ok([group, '-h']), out);
    assert.equal(ok(['help', group]), out);
  }
});

test('near-miss commands and flags get "did you mean"; far ones list what is known', () => {
  assert.match(oneLineError(['trian']), /^error: unknown command "trian"; did you mean 'train'\? \(commands: optim, data, sweep, runs, train, eval,/);
  assert.match(oneLineError(['adv']), /did you mean 'advise'\?/); // a prefix
  assert.match(oneLineError(['--verison']), /^error: unknown option "--verison"; did you mean '--version'\?/);
  assert.match(oneLineError(['help', 'sweeep']), /unknown command "sweeep"; did you mean 'sweep'\?/);
  assert.match(oneLineError(['runs', 'lst', 'x.db']), /^error: unknown subcommand "lst" for 'runs'; did you mean 'runs list'\? \(subcommands: list, show, export;/);
  assert.match(oneLineError(['data', '--json']), /^error: 'data' needs a subcommand before --json \(subcommands: list, fetch;/);
  assert.match(oneLineError(['train', '--epoch', '3']), /^error: unknown flag --epoch for 'train'; did you mean --epochs\? \(run 'momentum-lab train --help' for its flags\)$/);
  assert.match(oneLineError(['train', '--wei', '0.1']), /did you mean --weight-decay\?/); // a prefix
  assert.match(oneLineError(['runs', 'list', 'x.db', '--jsn']), /did you mean --json\?/);
  assert.match(oneLineError(['train', '--zzzzzz']), /^error: unknown flag --zzzzzz for 'train' \(known: --dataset, --data-dir,/);
});

test('a mistyped model or dataset name gets the nearest known one, in the same one-line error', () => {
  assert.match(oneLineError(['train', '--dataset', 'mnist', '--model', 'mpl', '--lr', '0.1']), /unknown model "mpl"; did you mean "mlp"\? \(expected one of: mlp, cnn/);
  assert.match(oneLineError(['train', '--dataset', 'mnsit', '--model', 'mlp', '--lr', '0.1']), /unknown dataset 'mnsit'; did you mean 'mnist'\? \(known: /);
  assert.match(oneLineError(['data', 'fetch', 'cifar1O']), /unknown dataset 'cifar1O'; did you mean 'cifar10'\?/);
  assert.match(oneLineError(['train', '--dataset', 'mnist', '--model', '{"kind":"cnnn"}', '--lr', '0.1']), /unknown model kind "cnnn"; did you mean "cnn"\?/);
  // Nothing near: the list alone, as before.
  assert.match(oneLineError(['train', '--dataset', 'mnist', '--model', 'vgg', '--lr', '0.1']), /unknown model "vgg" \(expected one of/);
});

test('editDistance and nearest: within 2 edits (fewer than the word has letters), else a unique prefix', () => {
  assert.equal(editDistance('epoch', 'epochs'), 1);
  assert.equal(editDistance('kitten', 'sitting'), 3); // k→s, e→i, +g
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(nearest('epoch', ['seed', 'epochs', 'batch']), 'epochs');
  assert.equal(nearest('lrr', ['lr', 'seed']), 'lr');
  assert.equal(nearest('sed', ['seed', 'sweep']), 'seed'); // distance 1 beats sweep's 3
  assert.equal(nearest('ab', ['lr']), null); // 2 edits of a 2-letter word: no evidence of a typo
  assert.equal(nearest('check', ['checkpoint', 'checkpoint-every']), null); // an ambiguous prefix
  assert.equal(nearest('resu', ['resume', 'seed']), 'resume');
  assert.equal(nearest('zzz', ['lr', 'seed']), null);
});

const specs = {
  json: { kind: 'boolean', help: 'print JSON' },
  plan: { kind: 'boolean', help: 'plan only', default: true },
  lr: { kind: 'number', help: 'learning rate' },
} as const;

function parseError(argv: string[]): string {
  try {
    parseArgs(argv, specs, 'cmd');
  } catch (e) {
    assert.ok(isUserError(e), String(e));
    return e.message;
  }
  assert.fail(`${argv.join(' ')} was accepted`);
}

test('--no-<flag> turns a boolean off (the last of --x/--no-x wins); it takes no value and exists only for booleans', () => {
  assert.deepEqual(parseArgs(['--no-plan'], specs, 'cmd').flags, { plan: false });
  assert.deepEqual(parseArgs(['--json', '--no-json'], specs, 'cmd').flags, { plan: true, json: false });
  assert.deepEqual(parseArgs(['--no-json', '--json=true'], specs, 'cmd').flags, { plan: true, json: true });
  assert.match(parseError(['--no-json=false']), /^--no-json takes no value; give --json=false instead$/);
  assert.match(parseError(['--no-lr']), /^unknown flag --no-lr for 'cmd' \(known: --json, --plan, --lr\)$/);
  assert.match(parseError(['--no-jsn']), /did you mean --no-json\?/);
});

test('flagHelp pads the flag column to one width and wraps long help under itself', () => {
  const text = flagHelp({
    a: { kind: 'boolean', help: 'short' },
    'much-longer-name': { kind: 'string', help: 'word '.repeat(40).trim(), choices: ['x', 'y'] },
  });
  const lines = text.split('\n');
  // "--much-longer-name <x|y>" is 24 wide: texts start at column 2 + 24 + 2 = 28.
  assert.equal(lines[0], `  ${'--a'.padEnd(24)}  short`);
  assert.ok(lines[1]!.startsWith('  --much-longer-name <x|y>  word word'));
  assert.ok(lines[2]!.startsWith(`${' '.repeat(28)}word`));
  assert.ok(lines.every((l) => l.length <= HELP_WIDTH));
  assert.match(text, /^ {2}-h, --help {16}print this help and exit$/m);
  assert.match(text, /--no-FLAG turns it off/);
  // A name over 32 characters has a line of its own; the column is the widest of the others: 2 + 3 + 2 = 7.
  assert.equal(twoColumns([['x'.repeat(40), 'its text'], ['--b', 'b']]), `  ${'x'.repeat(40)}\n       its text\n  --b  b`);
  assert.deepEqual(wrapWords('aa bb cc', 5), ['aa bb', 'cc']);
  assert.deepEqual(wrapWords('abcdefgh ij', 5), ['abcdefgh', 'ij']);
});

test('docs/cli.md has a section and the --help block of every command', () => {
  const doc = readFileSync(join(repoRoot(), 'docs', 'cli.md'), 'utf8');
  for (const c of COMMANDS) {
    const path = c.path.join(' ');
    assert.match(doc, new RegExp(`^## ${path}$`, 'm'), path);
    assert.ok(doc.includes(`$ momentum-lab ${path} --help\n${c.usage ?? `momentum-lab ${path}`}\n`), path);
  }
});
