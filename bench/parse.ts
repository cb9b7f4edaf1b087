/** Small parsers for flag values: each throws a `BenchError('INVALID_ARGUMENT')` that names the flag. */
import { invalidArgument } from './errors.js';

export function splitOnce(text: string, sep: string): [string, string | undefined] {
  const at = text.indexOf(sep);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

export function parsePositiveNumber(text: string, what: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v <= 0) throw invalidArgument(`${what} must be a positive number, got '${text}'`);
  return v;
}

export function parseNonNegativeNumber(text: string, what: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v < 0) throw invalidArgument(`${what} must be a number >= 0, got '${text}'`);
  return v;
}

export function parsePositiveInt(text: string, what: string): number {
  const v = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(v) || v <= 0) throw invalidArgument(`${what} must be a positive integer, got '${text}'`);
  return v;
}

export function parseNonNegativeInt(text: string, what: string): number {
  const v = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(v)) throw invalidArgument(`${what} must be an integer >= 0, got '${text}'`);
  return v;
}
