/**
 * A Triton-layout model repository on disk:
 *
 *   <root>/<model>/config.pbtxt          (optional: auto-complete fills what it leaves out)
 *   <root>/<model>/<version>/model.onnx  (or config.pbtxt's default_model_filename)
 *
 * `ModelRepository` finds models and versions, reads configs and builds paths; it never lets a model name
 * reach outside `root`. Loading models is the runtime's job: `resolve()` takes a callback that reads an ONNX
 * file's metadata, so this module does not depend on onnxruntime.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import { InvalidArgumentError, UnknownModelError } from '../errors.js';
import { autoCompleteConfig, type OnnxModelInfo } from './autocomplete.js';
import type { ModelConfig } from './model-config.js';
import { scanVersions, selectVersions } from './model-versions.js';
import { parseModelConfig, type ParseConfigOptions, type ParsedModelConfig } from './parse-config.js';

export const CONFIG_FILE = 'config.pbtxt';

export interface RepositoryEntry {
  name: string;
  /** Every version directory present, ascending (before version_policy). */
  versions: number[];
  /** Path of config.pbtxt, when the model has one. */
  configPath?: string;
}

/** A model ready to load: its complete config, the versions its policy serves, and each version's file. */
export interface ResolvedModel {
  config: ModelConfig;
  /** Ascending. */
  versions: number[];
  /** Model file path per served version. */
  files: Map<number, string>;
}

export type ReadConfigOptions = Pick<ParseConfigOptions, 'autoKind'>;

export class ModelRepository {
  /** Absolute path of the repository directory. */
  readonly root: string;

  constructor(root: string) {
    if (typeof root !== 'string' || root === '') throw new InvalidArgumentError('model repository path must be a non-empty string');
    this.root = resolvePath(root);
  }

  /** The models in the repository (directories with names a model may have), by name. */
  async list(): Promise<RepositoryEntry[]> {
    await this.checkRoot();
    const entries = await readdir(this.root, { withFileTypes: true });
    const names = entries.filter((e) => e.isDirectory() && isValidModelName(e.name)).map((e) => e.name).sort();
    return Promise.all(names.map(async (name) => {
      const dir = join(this.root, name);
      const configPath = join(dir, CONFIG_FILE);
      const entry: RepositoryEntry = { name, versions: await scanVersions(dir) };
      if (await isFile(configPath)) entry.configPath = configPath;
      return entry;
    }));
  }

  /**
   * Throws `InvalidArgumentError` unless `name` can name a model directory: non-empty, not starting with '.',
   * and free of path separators, NUL and control characters (so it cannot reach outside the repository).
   */
  validateModelName(name: string): void {
    if (!isValidModelName(name)) {
      throw new InvalidArgumentError(`invalid model name ${JSON.stringify(name)}: a model name is a single directory name (no '/', '\\' or leading '.')`);
    }
  }

  /** The model's directory. Validates the name; does not touch the disk. */
  modelDir(name: string): string {
    this.validateModelName(name);
    return join(this.root, name);
  }

  /** The model file of `version`: `<root>/<name>/<version>/<default_model_filename>`. */
  modelFile(name: string, version: number, config: Pick<ModelConfig, 'defaultModelFilename'>): string {
    if (!Number.isSafeInteger(version) || version < 1) {
      throw new InvalidArgumentError(`invalid model version ${String(version)}: versions are integers >= 1`);
    }
    return join(this.modelDir(name), String(version), config.defaultModelFilename);
  }

  /**
   * Parses the model's config.pbtxt (an empty config when there is none). The result still needs
   * `autoCompleteConfig` (or use `resolve`). Throws `UnknownModelError` when the model directory is missing
   * and `InvalidConfigError` when the config is invalid.
   */
  async readConfig(name: string, options: ReadConfigOptions = {}): Promise<ParsedModelConfig> {
    const dir = await this.existingModelDir(name);
    const file = join(dir, CONFIG_FILE);
    const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return '';
      throw err;
    });
    return parseModelConfig(text, { ...options, file, modelName: name });
  }

  /** The versions the config's version_policy serves, ascending. */
  async versions(name: string, parsed: ParsedModelConfig): Promise<number[]> {
    const available = await scanVersions(await this.existingModelDir(name));
    return selectVersions(available, parsed.config.versionPolicy, parsed.source);
  }

  /**
   * Everything the runtime needs to load a model: reads its config, applies version_policy, asks
   * `readModelInfo` for the metadata of the newest served version's file, and auto-completes the config.
   */
  async resolve(
    name: string, readModelInfo: (modelFile: string) => Promise<OnnxModelInfo>, options: ReadConfigOptions = {},
  ): Promise<ResolvedModel> {
    const parsed = await this.readConfig(name, options);
    const versions = await this.versions(name, parsed);
    const files = new Map(versions.map((v) => [v, this.modelFile(name, v, parsed.config)]));
    const newest = files.get(versions[versions.length - 1]!)!;
    const config = autoCompleteConfig(parsed, await readModelInfo(newest));
    return { config, versions, files };
  }

  private async existingModelDir(name: string): Promise<string> {
    const dir = this.modelDir(name);
    if (!(await isDirectory(dir))) {
      await this.checkRoot();
      throw new UnknownModelError(`unknown model '${name}': no directory ${dir}`);
    }
    return dir;
  }

  private async checkRoot(): Promise<void> {
    const s = await stat(this.root).catch(() => undefined);
    if (!s) throw new InvalidArgumentError(`model repository ${this.root} does not exist`);
    if (!s.isDirectory()) throw new InvalidArgumentError(`model repository ${this.root} is not a directory`);
  }
}

function isValidModelName(name: unknown): name is string {
  return typeof name === 'string' && name !== '' && !name.startsWith('.') && !/[/\\\u0000-\u001f\u007f]/.test(name);
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}
