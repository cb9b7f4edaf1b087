/**
 * Writes serval's bundled ONNX models (and the test fixtures) in Triton layout: `<out>/<model>/1/model.onnx`.
 * Deterministic: the weights come from seeded PRNGs, so every run writes the same bytes, and a file whose
 * bytes are already on disk is left alone.
 *
 *   node dist/src/model-generator/generate.js [--out DIR] [--only NAME[,NAME]] [--fixtures]
 *
 * Without options it writes the bundled models into this repository's `models/`. `--fixtures` writes the test
 * fixtures into `test/fixtures/repo/` instead (or into `--out`). `--only` picks models from either set.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync, copyFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { FRAUD_ENSEMBLE_SEEDS, buildFraudMlp } from './onnx/fraud-mlp.js';
import { buildIdentityAllTypes } from './onnx/identity-all-types.js';
import { buildImageCnn } from './onnx/image-cnn.js';
import { buildSlowIdentity } from './onnx/slow-identity.js';
import { buildTabularMixed } from './onnx/tabular-mixed.js';

interface ModelEntry {
  readonly name: string;
  readonly build: () => Uint8Array;
  /** Test fixtures live in test/fixtures/repo; bundled models in models/. */
  readonly fixture: boolean;
}

const MODELS: readonly ModelEntry[] = [
  { name: 'fraud_mlp', build: () => buildFraudMlp(), fixture: false },
  // The members of the fraud_ensemble uncertainty example: fraud_mlp's architecture with other seeds.
  ...FRAUD_ENSEMBLE_SEEDS.map((seed, i) => ({ name: `fraud_mlp_s${i + 1}`, build: () => buildFraudMlp(seed, `fraud_mlp_s${i + 1}`), fixture: false })),
  { name: 'image_cnn', build: buildImageCnn, fixture: false },
  { name: 'tabular_mixed', build: buildTabularMixed, fixture: false },
  { name: 'identity_all_types', build: buildIdentityAllTypes, fixture: true },
  { name: 'slow_identity', build: buildSlowIdentity, fixture: true },
];

export const MODEL_NAMES: readonly string[] = MODELS.map((m) => m.name);

const REPO_ROOT = findRepoRoot(dirname(fileURLToPath(import.meta.url)));
/** Where the bundled models and their committed config.pbtxt files live. */
export const BUNDLED_REPOSITORY = join(REPO_ROOT, 'models');
/** Where the test fixtures and their committed config.pbtxt files live. */
export const FIXTURE_REPOSITORY = join(REPO_ROOT, 'test', 'fixtures', 'repo');

export interface WrittenModel {
  name: string;
  /** Path of the model.onnx file. */
  path: string;
  bytes: number;
  /** False when the file already held these bytes. */
  changed: boolean;
}

/**
 * Writes the named models (all bundled models when `names` is omitted) under `outDir`. When `outDir` is not
 * the models' home repository, the committed config.pbtxt is copied next to the model, so `outDir` is a
 * complete repository.
 */
export function generateModels(outDir: string = BUNDLED_REPOSITORY, names?: readonly string[]): WrittenModel[] {
  const entries = names ? names.map(findModel) : MODELS.filter((m) => !m.fixture);
  return entries.map((entry) => writeModel(entry, resolve(outDir)));
}

/** Writes the test fixture models (identity_all_types, slow_identity) under `dir`. Safe to call concurrently. */
export function generateFixtures(dir: string = FIXTURE_REPOSITORY): WrittenModel[] {
  return generateModels(dir, MODELS.filter((m) => m.fixture).map((m) => m.name));
}

function findModel(name: string): ModelEntry {
  const entry = MODELS.find((m) => m.name === name);
  if (!entry) throw new Error(`unknown model '${name}' (known: ${MODEL_NAMES.join(', ')})`);
  return entry;
}

function writeModel(entry: ModelEntry, outDir: string): WrittenModel {
  const bytes = entry.build();
  const modelDir = join(outDir, entry.name);
  const path = join(modelDir, '1', 'model.onnx');
  const changed = writeIfChanged(path, bytes);
  const home = join(entry.fixture ? FIXTURE_REPOSITORY : BUNDLED_REPOSITORY, entry.name, 'config.pbtxt');
  const config = join(modelDir, 'config.pbtxt');
  if (home !== config && existsSync(home)) copyFileSync(home, config);
  return { name: entry.name, path, bytes: bytes.length, changed };
}

/** Writes through a temporary file and a rename, so a concurrent reader never sees half a model. */
function writeIfChanged(path: string, bytes: Uint8Array): boolean {
  if (existsSync(path) && Buffer.from(bytes).equals(readFileSync(path))) return false;
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
  return true;
}

function findRepoRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${start}`);
  }
}

function main(argv: string[]): void {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      only: { type: 'string', multiple: true },
      fixtures: { type: 'boolean', default: false },
    },
  });
  const names = values.only?.flatMap((s) => s.split(',')).filter((s) => s.length > 0);
  const fixtureNames = MODELS.filter((m) => m.fixture).map((m) => m.name);
  const selected = names ?? (values.fixtures ? fixtureNames : undefined);
  const out = values.out ?? (values.fixtures ? FIXTURE_REPOSITORY : BUNDLED_REPOSITORY);
  for (const m of generateModels(out, selected)) {
    const size = `${(m.bytes / 1024).toFixed(1)} KiB`;
    const rel = relative(process.cwd(), m.path);
    const shown = rel.startsWith('..') || isAbsolute(rel) ? m.path : rel;
    console.log(`${m.name}: ${shown} (${size}${m.changed ? '' : ', unchanged'})`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    console.error(`generate: ${(err as Error).message}`);
    process.exitCode = 2;
  }
}
