/**
 * Protocol-buffer text format (the syntax of Triton's config.pbtxt) → a generic tree with line numbers.
 * It knows no schema: `config-schema.ts` and `schema-decoder.ts` give the tree its meaning.
 *
 * Accepted: `name: scalar`, `name { ... }`, `name: { ... }`, `name < ... >`, list syntax `name: [a, b]` and
 * `name [{...}, {...}]`, strings in '' or "" with C escapes (adjacent strings concatenate), `#` comments, and an
 * optional `,` or `;` after each field. Errors are `InvalidConfigError`s that start with `file:line:`.
 */
import { InvalidConfigError } from '../errors.js';

export interface PbtxtNumber { kind: 'number'; /** As written, sign included (`-1`, `0x10`, `1.5e3`, `-inf`). */ text: string; line: number }
export interface PbtxtString { kind: 'string'; value: string; line: number }
export interface PbtxtIdentifier { kind: 'identifier'; value: string; line: number }
export interface PbtxtMessage { kind: 'message'; fields: PbtxtField[]; line: number }
export type PbtxtValue = PbtxtNumber | PbtxtString | PbtxtIdentifier | PbtxtMessage;

/** One occurrence of a field. List syntax gives one occurrence with `list: true` and zero or more values. */
export interface PbtxtField {
  name: string;
  line: number;
  list: boolean;
  values: PbtxtValue[];
}

type TokenKind = 'identifier' | 'number' | 'string' | 'punct' | 'eof';
interface Token { kind: TokenKind; text: string; line: number }

const IDENTIFIER = /[A-Za-z_][A-Za-z0-9_]*/y;
const NUMBER = /(?:0[xX][0-9a-fA-F]+|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[fF]?)(?![A-Za-z0-9_.])/y;
const PUNCT = new Set(['{', '}', '[', ']', '<', '>', ':', ',', ';', '-']);
const SIMPLE_ESCAPES: Record<string, number> = {
  a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, "'": 39, '"': 34, '?': 63,
};
const UTF8 = new TextDecoder('utf-8');

/** Parses `text` (the contents of `file`, which only names the file in errors) into its top-level message. */
export function parsePbtxt(text: string, file: string): PbtxtMessage {
  return new PbtxtParser(tokenize(text, file), file).parseFile();
}

function fail(file: string, line: number, message: string): never {
  throw new InvalidConfigError(`${file}:${line}: ${message}`);
}

function tokenize(text: string, file: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') { line++; i++; continue; }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') { i++; continue; }
    if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (c === '"' || c === "'") {
      const end = scanString(text, i, file, line);
      tokens.push({ kind: 'string', text: decodeString(text.slice(i + 1, end), file, line), line });
      i = end + 1;
      continue;
    }
    const match = matchAt(IDENTIFIER, text, i) ?? (/[0-9.]/.test(c) ? matchAt(NUMBER, text, i) : undefined);
    if (match !== undefined) {
      tokens.push({ kind: /[0-9.]/.test(c) ? 'number' : 'identifier', text: match, line });
      i += match.length;
      continue;
    }
    if (/[0-9.]/.test(c)) fail(file, line, `invalid number '${text.slice(i).match(/^[^\s,;\]}>]*/)![0]}'`);
    if (PUNCT.has(c)) { tokens.push({ kind: 'punct', text: c, line }); i++; continue; }
    fail(file, line, `unexpected character '${c}'`);
  }
  tokens.push({ kind: 'eof', text: 'end of file', line });
  return tokens;
}

function matchAt(re: RegExp, text: string, at: number): string | undefined {
  re.lastIndex = at;
  return re.exec(text)?.[0];
}

/** Index of the quote that closes the string opening at `start`. */
function scanString(text: string, start: number, file: string, line: number): number {
  const quote = text[start];
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') { i++; continue; }
    if (c === quote) return i;
    if (c === '\n') break;
  }
  return fail(file, line, 'unterminated string');
}

/** Resolves C-style escapes; the bytes they spell are read as UTF-8, as protobuf reads `string` fields. */
function decodeString(body: string, file: string, line: number): string {
  if (!body.includes('\\')) return body;
  const bytes: number[] = [];
  const pushText = (s: string): void => { for (const b of Buffer.from(s, 'utf8')) bytes.push(b); };
  let i = 0;
  while (i < body.length) {
    const c = body[i]!;
    if (c !== '\\') { pushText(c); i++; continue; }
    const e = body[i + 1] ?? '';
    let m: RegExpMatchArray | null;
    if (e in SIMPLE_ESCAPES) { bytes.push(SIMPLE_ESCAPES[e]!); i += 2; }
    else if ((m = body.slice(i + 1).match(/^[0-7]{1,3}/))) { bytes.push(parseInt(m[0], 8) & 0xff); i += 1 + m[0].length; }
    else if ((m = body.slice(i + 1).match(/^[xX]([0-9a-fA-F]{1,2})/))) { bytes.push(parseInt(m[1]!, 16)); i += 1 + m[0].length; }
    else if ((m = body.slice(i + 1).match(/^(?:u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8}))/))) {
      const cp = parseInt(m[1] ?? m[2]!, 16);
      if (cp > 0x10ffff) fail(file, line, `invalid escape '\\${m[0]}' in string`);
      pushText(String.fromCodePoint(cp));
      i += 1 + m[0].length;
    } else {
      fail(file, line, `invalid escape '\\${e}' in string`);
    }
  }
  return UTF8.decode(Uint8Array.from(bytes));
}

class PbtxtParser {
  private pos = 0;

  constructor(private readonly tokens: Token[], private readonly file: string) {}

  parseFile(): PbtxtMessage {
    return { kind: 'message', fields: this.parseFields('eof', 1), line: 1 };
  }

  /** Fields up to (not including) the token `end` ('}', '>' or 'eof') of a message opened at `openLine`. */
  private parseFields(end: string, openLine: number): PbtxtField[] {
    const fields: PbtxtField[] = [];
    while (!this.atEnd(end, openLine)) {
      fields.push(this.parseField());
      if (this.isPunct(',') || this.isPunct(';')) this.pos++;
    }
    return fields;
  }

  private parseField(): PbtxtField {
    const nameTok = this.next();
    if (nameTok.kind !== 'identifier') this.error(nameTok, `expected a field name, got ${describe(nameTok)}`);
    const field: PbtxtField = { name: nameTok.text, line: nameTok.line, list: false, values: [] };
    const colon = this.isPunct(':');
    if (colon) this.pos++;
    if (this.isPunct('[')) {
      field.list = true;
      field.values = this.parseList();
    } else if (this.isPunct('{') || this.isPunct('<')) {
      field.values.push(this.parseMessage());
    } else if (colon) {
      field.values.push(this.parseScalar());
    } else {
      this.error(this.peek(), `expected ':' or '{' after field name '${field.name}', got ${describe(this.peek())}`);
    }
    return field;
  }

  private parseList(): PbtxtValue[] {
    this.pos++; // '['
    const values: PbtxtValue[] = [];
    while (!this.isPunct(']')) {
      if (this.peek().kind === 'eof') this.error(this.peek(), "unterminated list: expected ']'");
      values.push(this.isPunct('{') || this.isPunct('<') ? this.parseMessage() : this.parseScalar());
      if (this.isPunct(',')) this.pos++;
      else if (this.peek().kind === 'eof') this.error(this.peek(), "unterminated list: expected ']'");
      else if (!this.isPunct(']')) this.error(this.peek(), `expected ',' or ']' in list, got ${describe(this.peek())}`);
    }
    this.pos++; // ']'
    return values;
  }

  private parseMessage(): PbtxtMessage {
    const open = this.next();
    const close = open.text === '{' ? '}' : '>';
    const fields = this.parseFields(close, open.line);
    this.pos++; // the closing token, checked by atEnd()
    return { kind: 'message', fields, line: open.line };
  }

  private parseScalar(): PbtxtValue {
    const tok = this.next();
    if (tok.kind === 'string') {
      let value = tok.text;
      while (this.peek().kind === 'string') value += this.next().text;
      return { kind: 'string', value, line: tok.line };
    }
    if (tok.kind === 'number') return { kind: 'number', text: tok.text, line: tok.line };
    if (tok.kind === 'identifier') return { kind: 'identifier', value: tok.text, line: tok.line };
    if (tok.kind === 'punct' && tok.text === '-') {
      const num = this.next();
      if (num.kind === 'number' || (num.kind === 'identifier' && /^(inf|infinity|nan)$/i.test(num.text))) {
        return { kind: 'number', text: `-${num.text}`, line: tok.line };
      }
      this.error(num, `expected a number after '-', got ${describe(num)}`);
    }
    return this.error(tok, `expected a value, got ${describe(tok)}`);
  }

  private atEnd(end: string, openLine: number): boolean {
    const tok = this.peek();
    const closing = tok.kind === 'punct' && (tok.text === '}' || tok.text === '>');
    if (end === 'eof') {
      if (closing) this.error(tok, `unexpected '${tok.text}'`);
      return tok.kind === 'eof';
    }
    if (tok.kind === 'eof') this.error(tok, `unexpected end of file: expected '${end}'`);
    if (closing && tok.text !== end) this.error(tok, `expected '${end}' to close the message opened at line ${openLine}, got '${tok.text}'`);
    return closing;
  }

  private isPunct(text: string): boolean {
    const tok = this.peek();
    return tok.kind === 'punct' && tok.text === text;
  }

  private peek(): Token {
    return this.tokens[this.pos]!;
  }

  private next(): Token {
    const tok = this.tokens[this.pos]!;
    if (tok.kind !== 'eof') this.pos++;
    return tok;
  }

  private error(tok: Token, message: string): never {
    return fail(this.file, tok.line, message);
  }
}

function describe(tok: Token): string {
  if (tok.kind === 'eof') return 'end of file';
  if (tok.kind === 'string') return `string ${JSON.stringify(tok.text)}`;
  return `'${tok.text}'`;
}
