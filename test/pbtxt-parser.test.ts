import { describe, expect, it } from 'vitest';
import { caught, type CaughtError } from './helpers/caught.js';
import { parsePbtxt, type PbtxtField, type PbtxtMessage, type PbtxtValue } from '../src/repository/pbtxt.js';

/** The tree without line numbers: fields as [name, values] pairs, scalars as their text. */
function plain(msg: PbtxtMessage): unknown {
  return msg.fields.map((f: PbtxtField) => [f.name, f.list ? f.values.map(plainValue) : plainValue(f.values[0]!)]);
}

function plainValue(v: PbtxtValue): unknown {
  switch (v.kind) {
    case 'message': return plain(v);
    case 'number': return `#${v.text}`;
    default: return v.value;
  }
}

function parseError(text: string): CaughtError {
  return caught(() => parsePbtxt(text, 'repo/m/config.pbtxt'));
}

describe('pbtxt parser', () => {
  it('parses scalars, identifiers and nested messages with and without a colon', () => {
    const tree = parsePbtxt('name: "m"\nmax_batch_size: 8\nkind: KIND_CPU\ndb { a: 1 }\ndc: { b: -2 }\ndd < c: 0x10 >', 'f');
    expect(plain(tree)).toEqual([
      ['name', 'm'], ['max_batch_size', '#8'], ['kind', 'KIND_CPU'],
      ['db', [['a', '#1']]], ['dc', [['b', '#-2']]], ['dd', [['c', '#0x10']]],
    ]);
  });

  it('keeps the line of every field and value', () => {
    const tree = parsePbtxt('# comment\n\nname: "m"\ninput {\n  dims: [\n    1,\n    2 ]\n}\n', 'f');
    expect(tree.fields[0]!.line).toBe(3);
    const input = tree.fields[1]!;
    expect(input.line).toBe(4);
    const dims = (input.values[0] as PbtxtMessage).fields[0]!;
    expect(dims.line).toBe(5);
    expect(dims.values.map((v) => v.line)).toEqual([6, 7]);
  });

  it('parses list syntax for scalars and messages, including an empty list', () => {
    const tree = parsePbtxt('dims: [ 1, -1, 3 ]\ninput [ { name: "a" }, { name: "b" } ]\nshape: []', 'f');
    expect(plain(tree)).toEqual([
      ['dims', ['#1', '#-1', '#3']],
      ['input', [[['name', 'a']], [['name', 'b']]]],
      ['shape', []],
    ]);
  });

  it('keeps repeated fields as separate occurrences in order', () => {
    const tree = parsePbtxt('dims: 1 dims: 2\ndims: [3]', 'f');
    expect(tree.fields.map((f) => f.values.map(plainValue))).toEqual([['#1'], ['#2'], ['#3']]);
  });

  it('accepts optional , and ; separators between fields', () => {
    const tree = parsePbtxt('a: 1, b: 2; c { d: 3, e: 4; }', 'f');
    expect(plain(tree)).toEqual([['a', '#1'], ['b', '#2'], ['c', [['d', '#3'], ['e', '#4']]]]);
  });

  it('decodes string escapes and concatenates adjacent strings', () => {
    const tree = parsePbtxt(String.raw`s: "a\"b\n\t\\" 'c\'d' "\x41\101\u00e9\303\251"`, 'f');
    expect(plainValue(tree.fields[0]!.values[0]!)).toBe('a"b\n\t\\c\'dAAéé');
  });

  it('reads numbers in their protobuf forms', () => {
    const tree = parsePbtxt('a: 1.5 b: 1e-3 c: .5 d: 2f e: -inf f: 0X1f', 'f');
    expect(tree.fields.map((f) => plainValue(f.values[0]!))).toEqual(['#1.5', '#1e-3', '#.5', '#2f', '#-inf', '#0X1f']);
  });

  it('ignores comments, including after values and at the end of the file', () => {
    const tree = parsePbtxt('a: 1 # one\n# b: 2\nc: "#not a comment" # x', 'f');
    expect(plain(tree)).toEqual([['a', '#1'], ['c', '#not a comment']]);
  });

  it('parses an empty file into an empty message', () => {
    expect(parsePbtxt('', 'f').fields).toEqual([]);
    expect(parsePbtxt('  # only a comment\n', 'f').fields).toEqual([]);
  });

  describe('bad input', () => {
    it.each([
      ['an unterminated string', 'name: "abc\nx: 1', 1, 'unterminated string'],
      ['an unclosed message', 'a {\n b: 1\n', 3, "unexpected end of file: expected '}'"],
      ['a stray closing brace', 'a: 1\n}', 2, "unexpected '}'"],
      ['a scalar without a colon', 'a 1', 1, "expected ':' or '{' after field name 'a'"],
      ['a missing value', 'a:\n}', 2, 'expected a value'],
      ['a malformed number', 'a: 12abc', 1, "invalid number '12abc'"],
      ['a bad escape', 'a: "\\q"', 1, "invalid escape '\\q'"],
      ['an unknown character', 'a: 1\n@', 2, "unexpected character '@'"],
      ['a list without a separator', 'a: [1 2]', 1, "expected ',' or ']' in list"],
      ['an unterminated list', 'a: [1,\n2', 2, "unterminated list: expected ']'"],
      ['a field name that is not an identifier', '"a": 1', 1, 'expected a field name'],
      ['a mismatched closing bracket', 'a < b: 1 }', 1, "expected '>' to close the message opened at line 1"],
      ['a minus before a non-number', 'a: -b', 1, "expected a number after '-'"],
    ])('rejects %s with INVALID_CONFIG at file:line', (_case, text, line, message) => {
      const err = parseError(text);
      expect(err.code).toBe('INVALID_CONFIG');
      expect(err.message).toContain(`repo/m/config.pbtxt:${line}: `);
      expect(err.message).toContain(message);
    });
  });
});
