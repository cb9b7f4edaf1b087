/**
 * JSON text → value for the v2 codec, with integer literals kept exact. `JSON.parse` reads every number
 * as a double, so INT64/UINT64 elements beyond 2^53 would be rounded (9007199254740993 → ...992). Integer
 * literals of 16 or more digits are therefore carried as `JsonInteger` (their digits); the tensor
 * converter turns them into BigInt for 64-bit types and into a number for every other type.
 *
 * The v2 decoder parses with `JSON.parse` first and comes here only when a 64-bit element is at or beyond
 * 2^53 (so float bodies never pay for it). One regex pass over the text (string literals skipped whole)
 * rewrites each long integer literal into a marked string, and a reviver turns the marks into `JsonInteger`s.
 */
import { randomBytes } from 'node:crypto';

/** An integer literal too long to be sure a double holds it exactly; `digits` is its text (sign included). */
export class JsonInteger {
  constructor(readonly digits: string) {}
  /** Shown as the literal in error messages (`JSON.stringify`). */
  toJSON(): string {
    return this.digits;
  }
}

// 16 digits after a character that can precede a number: a cheap test that the rewrite has work to do.
const LONG_DIGIT_RUN = /[[,:\s-]\d{16}/;
// A JSON string literal (kept as it is; an unterminated one runs to the end, so the pass stays linear on
// malformed text), or an integer literal of 16+ digits that is not part of a fraction or an exponent (no
// digit, '.', 'e' or sign before it; no digit, '.' or 'e' after it).
const STRING_OR_LONG_INTEGER = /"(?:[^"\\]|\\.)*"?|(?<![\d.eE+-])(-?\d{16,})(?![\d.eE])/g;
// The mark a rewritten literal carries: a control character and a per-process random tag, so no client
// string (which could spell any text with escapes) can be taken for a rewritten number.
const MARK = `\u0001${randomBytes(8).toString('hex')}#`;
const MARKED = new RegExp(`^${MARK}-?\\d+$`);

/** `JSON.parse` that keeps integer literals of 16+ digits exact (as `JsonInteger`). Throws SyntaxError. */
export function parseJsonExact(text: string): unknown {
  if (!LONG_DIGIT_RUN.test(text)) return JSON.parse(text);
  let marked = false;
  const rewritten = text.replace(STRING_OR_LONG_INTEGER, (match: string, integer: string | undefined) => {
    if (integer === undefined) return match;
    marked = true;
    return `"\\u0001${MARK.slice(1)}${integer}"`;
  });
  if (!marked) return JSON.parse(text);
  try {
    return JSON.parse(rewritten, (_key, value: unknown) =>
      typeof value === 'string' && value.startsWith(MARK) && MARKED.test(value) ? new JsonInteger(value.slice(MARK.length)) : value);
  } catch (err) {
    JSON.parse(text); // malformed: throws with the position in the client's text, not in the rewrite
    throw err; // well formed but too deep for the reviver: never fall back to a parse that rounds
  }
}

/** `value` as a number: a `JsonInteger` becomes the nearest double; anything else is returned as it is. */
export function numericValue(value: unknown): unknown {
  return value instanceof JsonInteger ? Number(value.digits) : value;
}

/**
 * A short JSON rendering of a client value for an error message: at most `max` characters, and never a
 * throw (a value nested 100,000 deep overflows `JSON.stringify`'s stack).
 */
export function jsonPreview(value: unknown, max = 80): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined;
  }
  if (text === undefined) text = Array.isArray(value) ? 'an array' : typeof value === 'object' && value !== null ? 'an object' : String(value);
  return text.length > max ? `${text.slice(0, max)}...` : text;
}
