/**
 * Checks a parsed config.pbtxt tree against `config-schema.ts` and turns it into `DecodedMessage`s: values
 * converted to JavaScript (integers range-checked), every field's line kept for later errors. Rejects unknown
 * and unsupported fields, type mismatches, singular fields given twice, oneof conflicts and duplicate map keys.
 */
import { InvalidConfigError } from '../errors.js';
import type { FieldSchema, MessageSchema, ScalarType } from './config-schema.js';
import type { PbtxtField, PbtxtMessage, PbtxtValue } from './pbtxt.js';

export type DecodedScalar = string | number | boolean;

interface Item {
  line: number;
  value: DecodedScalar | DecodedMessage;
  /** Map entries only. */
  key?: string | number;
}

/** `file:line: message` (or `file: message` when no line applies) as an `InvalidConfigError`. */
export function configError(file: string, line: number | undefined, message: string): InvalidConfigError {
  return new InvalidConfigError(line === undefined ? `${file}: ${message}` : `${file}:${line}: ${message}`);
}

/** A decoded message: typed accessors by Triton field name, and errors that name file, line and field path. */
export class DecodedMessage {
  constructor(
    readonly schema: MessageSchema,
    /** Dotted path from the config root (`dynamic_batching.default_queue_policy`, `input[0]`); '' at the root. */
    readonly path: string,
    readonly line: number,
    readonly file: string,
    private readonly items: ReadonlyMap<string, Item[]>,
  ) {}

  has(field: string): boolean {
    return this.items.has(field);
  }

  /** Line of the field's first occurrence, or of this message when the field is absent. */
  lineOf(field: string): number {
    return this.items.get(field)?.[0]?.line ?? this.line;
  }

  pathOf(field: string): string {
    return this.path ? `${this.path}.${field}` : field;
  }

  scalar<T extends DecodedScalar>(field: string): T | undefined {
    return this.items.get(field)?.[0]?.value as T | undefined;
  }

  /** A repeated scalar field's values with the line each was written on. */
  list<T extends DecodedScalar>(field: string): { value: T; line: number }[] {
    return (this.items.get(field) ?? []).map((i) => ({ value: i.value as T, line: i.line }));
  }

  message(field: string): DecodedMessage | undefined {
    return this.items.get(field)?.[0]?.value as DecodedMessage | undefined;
  }

  messages(field: string): DecodedMessage[] {
    return (this.items.get(field) ?? []).map((i) => i.value as DecodedMessage);
  }

  entries<K extends string | number>(field: string): { key: K; value: DecodedMessage }[] {
    return (this.items.get(field) ?? []).map((i) => ({ key: i.key as K, value: i.value as DecodedMessage }));
  }

  /** The entries of a map whose values are strings (`input_map { key: "a" value: "b" }`), with each entry's line. */
  stringEntries(field: string): { key: string; value: string; line: number }[] {
    return (this.items.get(field) ?? []).map((i) => ({ key: String(i.key), value: i.value as string, line: i.line }));
  }

  /** An error about `field` of this message: `file:line: field 'path' <message>`. */
  fieldError(field: string, message: string, line = this.lineOf(field)): InvalidConfigError {
    return configError(this.file, line, `field '${this.pathOf(field)}' ${message}`);
  }
}

/** Decodes `tree` as a `schema` message. `lines` receives the line of every field path that occurs. */
export function decodeMessage(tree: PbtxtMessage, schema: MessageSchema, file: string, lines: Map<string, number>): DecodedMessage {
  return new Decoder(file, lines).message(tree, schema, '');
}

const INT_RANGES: Record<Exclude<ScalarType, 'string' | 'bool'>, readonly [bigint, bigint]> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  // JavaScript numbers hold integers exactly up to 2^53; larger 64-bit values are rejected rather than rounded.
  int64: [-BigInt(Number.MAX_SAFE_INTEGER), BigInt(Number.MAX_SAFE_INTEGER)],
  uint64: [0n, BigInt(Number.MAX_SAFE_INTEGER)],
};

class Decoder {
  constructor(private readonly file: string, private readonly lines: Map<string, number>) {}

  message(tree: PbtxtMessage, schema: MessageSchema, path: string): DecodedMessage {
    const items = new Map<string, Item[]>();
    const at = (name: string): string => (path ? `${path}.${name}` : name);
    for (const field of tree.fields) {
      const spec = schema.fields[field.name];
      if (!spec) {
        const what = schema.unsupported?.includes(field.name)
          ? `field '${at(field.name)}' is a Triton feature serval does not support`
          : `unknown field '${field.name}' in ${schema.name}${path ? ` (at '${path}')` : ''}`;
        throw configError(this.file, field.line, what);
      }
      const repeated = spec.type === 'map' || spec.repeated === true;
      const previous = items.get(field.name);
      if (!repeated && (previous || field.list)) {
        const why = field.list ? 'is not repeated: list syntax [...] is not allowed'
          : `is specified more than once (first at line ${previous![0]!.line})`;
        throw configError(this.file, field.line, `field '${at(field.name)}' ${why}`);
      }
      const list = previous ?? [];
      for (const value of field.values) {
        const index = list.length;
        list.push(this.item(value, spec, at(field.name), index, list));
      }
      items.set(field.name, list);
      if (!this.lines.has(at(field.name))) this.lines.set(at(field.name), field.line);
    }
    for (const group of schema.oneofs ?? []) {
      const set = group.filter((f) => items.has(f));
      if (set.length > 1) {
        const line = items.get(set[1]!)![0]?.line ?? tree.line;
        throw configError(this.file, line, `field '${at(set[1]!)}' conflicts with '${at(set[0]!)}': only one of ${group.join(', ')} may be set`);
      }
    }
    return new DecodedMessage(schema, path, tree.line, this.file, items);
  }

  private item(value: PbtxtValue, spec: FieldSchema, path: string, index: number, siblings: Item[]): Item {
    if (spec.type === 'map') return this.mapEntry(value, spec.key, spec.value, path, siblings);
    if (spec.type === 'message') {
      if (value.kind !== 'message') {
        throw configError(this.file, value.line, `field '${path}' is a message: write '${path.split('.').pop()} { ... }', got ${describe(value)}`);
      }
      const itemPath = spec.repeated ? `${path}[${index}]` : path;
      if (spec.repeated) this.lines.set(itemPath, value.line);
      return { line: value.line, value: this.message(value, spec.message, itemPath) };
    }
    return { line: value.line, value: this.scalar(value, spec, path) };
  }

  private mapEntry(value: PbtxtValue, keyType: 'string' | 'uint64', schema: MessageSchema | 'string', path: string, siblings: Item[]): Item {
    if (value.kind !== 'message') {
      throw configError(this.file, value.line, `field '${path}' is a map: write '${path.split('.').pop()} { key: ... value { ... } }'`);
    }
    const parts = new Map<string, PbtxtField>();
    for (const f of value.fields) {
      if (f.name !== 'key' && f.name !== 'value') {
        throw configError(this.file, f.line, `unknown field '${f.name}' in an entry of map '${path}' (expected key and value)`);
      }
      if (parts.has(f.name) || f.list || f.values.length !== 1) {
        throw configError(this.file, f.line, `field '${path}' has an entry with more than one '${f.name}'`);
      }
      parts.set(f.name, f);
    }
    const keyField = parts.get('key');
    if (!keyField) throw configError(this.file, value.line, `field '${path}' has an entry without a key`);
    const key = this.scalar(keyField.values[0]!, { type: keyType }, `${path}.key`) as string | number;
    const duplicate = siblings.find((s) => s.key === key);
    if (duplicate) {
      throw configError(this.file, value.line, `field '${path}' has key ${JSON.stringify(key)} twice (first at line ${duplicate.line})`);
    }
    const itemPath = `${path}[${JSON.stringify(key)}]`;
    this.lines.set(itemPath, value.line);
    if (schema === 'string') {
      const text = parts.get('value')?.values[0];
      if (!text) throw configError(this.file, value.line, `field '${itemPath}' has no value`);
      return { line: value.line, key, value: this.scalar(text, { type: 'string' }, `${itemPath}.value`) };
    }
    const body = parts.get('value')?.values[0] ?? { kind: 'message', fields: [], line: value.line };
    if (body.kind !== 'message') {
      throw configError(this.file, body.line, `field '${itemPath}.value' is a message: write 'value { ... }'`);
    }
    return { line: value.line, key, value: this.message(body, schema, itemPath) };
  }

  private scalar(value: PbtxtValue, spec: Exclude<FieldSchema, { type: 'message' | 'map' }>, path: string): DecodedScalar {
    const bad = (expected: string): never => {
      throw configError(this.file, value.line, `field '${path}' expects ${expected}, got ${describe(value)}`);
    };
    switch (spec.type) {
      case 'string':
        return value.kind === 'string' ? value.value : bad('a string in quotes');
      case 'bool':
        if (value.kind === 'identifier' && /^(true|True|t)$/.test(value.value)) return true;
        if (value.kind === 'identifier' && /^(false|False|f)$/.test(value.value)) return false;
        if (value.kind === 'number' && (value.text === '0' || value.text === '1')) return value.text === '1';
        return bad('true or false');
      case 'enum':
        if (value.kind === 'identifier' && spec.values.includes(value.value)) return value.value;
        return bad(`one of ${spec.values.join(', ')}`);
      default:
        return this.integer(value, spec.type, path, bad);
    }
  }

  private integer(value: PbtxtValue, type: keyof typeof INT_RANGES, path: string, bad: (e: string) => never): number {
    const what = type.startsWith('u') ? `an unsigned integer (${type})` : `an integer (${type})`;
    if (value.kind !== 'number') return bad(what);
    const m = /^(-?)(0[xX][0-9a-fA-F]+|0|[1-9][0-9]*)$/.exec(value.text);
    if (!m) return bad(what);
    const n = BigInt(m[2]!) * (m[1] ? -1n : 1n);
    const [min, max] = INT_RANGES[type];
    if (n < min || n > max) {
      throw configError(this.file, value.line, `field '${path}' value ${value.text} is out of range for ${type} (${min} to ${max})`);
    }
    return Number(n);
  }
}

function describe(value: PbtxtValue): string {
  switch (value.kind) {
    case 'string': return JSON.stringify(value.value);
    case 'number': return value.text;
    case 'identifier': return value.value;
    case 'message': return 'a message { ... }';
  }
}
