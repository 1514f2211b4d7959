/**
 * One place that formats the RangeErrors readers see (Conventions §8): the option, the value, what is allowed.
 */

function show(value: unknown): string {
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** `RangeError("bits = 5 is not allowed: expected one of 1, 2, 3, 4, 8")` */
export function optionError(option: string, value: unknown, allowed: string): RangeError {
  return new RangeError(`${option} = ${show(value)} is not allowed: expected ${allowed}`);
}

export function isPositiveInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

export function isNonNegativeInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

/** Throws unless `value` is one of `allowed`. */
export function checkOneOf<T>(option: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw optionError(option, value, `one of ${allowed.map(show).join(', ')}`);
  return value as T;
}

export function checkPositiveInteger(option: string, value: unknown): number {
  if (!isPositiveInteger(value)) throw optionError(option, value, 'a positive integer (1, 2, 3, …)');
  return value;
}

export function checkNonNegativeInteger(option: string, value: unknown): number {
  if (!isNonNegativeInteger(value)) throw optionError(option, value, 'a non-negative integer (0, 1, 2, …)');
  return value;
}
