// Small validation combinators for the POT config: each check takes the raw JSON value and the
// dotted path of the field, and returns the typed value or throws a ConfigIssue that names the
// field and what was expected. Sections are described by tables of checks (see schema.ts).

import type { MetricName } from '../types';

/** State shared by the checks of one parse. */
export interface Ctx {
  /** Non-fatal notes, each naming the key. */
  warnings: string[];
  /** Accuracy Checker metric names seen in the engine section (e.g. "my_acc"), mapped to ours. */
  metricAliases: Map<string, MetricName>;
}

export function newCtx(): Ctx {
  return { warnings: [], metricAliases: new Map() };
}

/** A validation failure at `path`; the parser turns it into a QuantizeError with a location. */
export class ConfigIssue extends Error {
  constructor(
    readonly path: string,
    message: string,
    readonly expected?: string,
    /** The problem is the key itself (unknown key), not its value. */
    readonly atKey = false,
  ) {
    super(message);
    this.name = 'ConfigIssue';
  }
}

export function fail(path: string, message: string, expected?: string, atKey = false): never {
  throw new ConfigIssue(path, message, expected, atKey);
}

export type Check<T> = (v: unknown, path: string, ctx: Ctx) => T;

/** One check per key of T; the section's keys are exactly these (plus the `extra` ones). */
export type Fields<T> = { [K in keyof T]-?: Check<T[K]> };

/** Keys POT knows but we do not implement, with the note given in the warning. */
export type Extra = Record<string, string>;

export const joinPath = (path: string, key: string): string => (path ? `${path}.${key}` : key);

/** How a value is shown in a message. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'object') return 'an object';
  return String(v);
}

const got = (v: unknown) => `got ${describe(v)}`;

export const raw: Check<unknown> = (v) => v;

export const bool: Check<boolean> = (v, p) => (typeof v === 'boolean' ? v : fail(p, `must be true or false, ${got(v)}`, 'a boolean (true or false, without quotes)'));

export const str: Check<string> = (v, p) => (typeof v === 'string' ? v : fail(p, `must be a string, ${got(v)}`, 'a string'));

export const nonEmptyStr: Check<string> = (v, p, c) => {
  const s = str(v, p, c);
  return s.trim() ? s : fail(p, 'must not be empty', 'a non-empty string');
};

export function int(min: number, max = Infinity): Check<number> {
  const expected = max < Infinity ? `an integer in [${min}, ${max}]` : `an integer ≥ ${min}`;
  return (v, p) => (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : fail(p, `invalid value, ${got(v)}`, expected));
}

/** A finite number with optional bounds (gt/lt exclusive, min/max inclusive). */
export function num(o: { min?: number; gt?: number; max?: number; lt?: number } = {}): Check<number> {
  const lo = o.gt !== undefined ? `> ${o.gt}` : o.min !== undefined ? `≥ ${o.min}` : '';
  const hi = o.lt !== undefined ? `< ${o.lt}` : o.max !== undefined ? `≤ ${o.max}` : '';
  const expected = lo && hi ? `a number ${lo} and ${hi}` : lo || hi ? `a number ${lo || hi}` : 'a number';
  return (v, p) => {
    const ok =
      typeof v === 'number' &&
      Number.isFinite(v) &&
      (o.gt === undefined || v > o.gt) &&
      (o.min === undefined || v >= o.min) &&
      (o.lt === undefined || v < o.lt) &&
      (o.max === undefined || v <= o.max);
    return ok ? (v as number) : fail(p, `invalid value, ${got(v)}`, expected);
  };
}

export function oneOf<const T extends string>(values: readonly T[]): Check<T> {
  return (v, p) =>
    typeof v === 'string' && (values as readonly string[]).includes(v)
      ? (v as T)
      : fail(p, `${describe(v)} is not allowed`, `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`);
}

export function nullable<T>(check: Check<T>): Check<T | null> {
  return (v, p, c) => {
    if (v === null) return null;
    try {
      return check(v, p, c);
    } catch (e) {
      if (e instanceof ConfigIssue && e.expected) throw new ConfigIssue(e.path, e.message, `${e.expected}, or null`);
      throw e;
    }
  };
}

export function listOf<T>(check: Check<T>, nonEmpty = false): Check<T[]> {
  return (v, p, c) => {
    if (!Array.isArray(v)) return fail(p, `must be a list, ${got(v)}`, nonEmpty ? 'a non-empty list' : 'a list');
    if (nonEmpty && v.length === 0) return fail(p, 'must not be empty', 'a non-empty list');
    return v.map((x, i) => check(x, `${p}[${i}]`, c));
  };
}

export function plainObject(v: unknown, p: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return fail(p, `must be an object, ${got(v)}`, 'an object { … }');
  return v as Record<string, unknown>;
}

export const objectCheck: Check<Record<string, unknown>> = (v, p) => plainObject(v, p);

/** A number, a list of numbers, or an Accuracy Checker string such as "(123.675, 116.28, 103.53)". */
export function numbers(each: Check<number>): Check<number | number[]> {
  const expected = 'a number or a non-empty list of numbers';
  return (v, p, c) => {
    if (typeof v === 'string') {
      const parts = v
        .replace(/^[\s([]+|[\s)\]]+$/g, '')
        .split(/[\s,]+/)
        .filter(Boolean);
      const xs = parts.map(Number);
      if (!xs.length || xs.some((x) => !Number.isFinite(x))) return fail(p, `cannot read numbers from ${describe(v)}`, expected);
      v = xs.length === 1 ? xs[0] : xs;
    }
    if (Array.isArray(v)) {
      if (!v.length) return fail(p, 'must not be an empty list', expected);
      return v.map((x, i) => each(x, `${p}[${i}]`, c));
    }
    return each(v, p, c);
  };
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length];
}

/** The closest known key, when one is close enough to be a typo. */
export function suggest(key: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const dist = editDistance(key.toLowerCase(), k.toLowerCase());
    if (dist < bestD) [best, bestD] = [k, dist];
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(key.length / 4)) ? best : undefined;
}

/**
 * Reads an object section: every key must be in `fields` (checked) or in `extra` (known to POT,
 * not implemented: warning). Anything else is an error naming the full path and the allowed keys.
 * Returns only the keys present, in the file's order.
 */
export function readSection<T>(v: unknown, path: string, ctx: Ctx, fields: Partial<Fields<T>>, extra: Extra = {}): Partial<T> {
  const obj = plainObject(v, path);
  const out: Record<string, unknown> = {};
  const checks = fields as Record<string, Check<unknown> | undefined>;
  for (const [key, value] of Object.entries(obj)) {
    const at = joinPath(path, key);
    const check = Object.prototype.hasOwnProperty.call(checks, key) ? checks[key] : undefined;
    if (check) {
      out[key] = check(value, at, ctx);
    } else if (Object.prototype.hasOwnProperty.call(extra, key)) {
      ctx.warnings.push(`${at}: ${extra[key]}`);
    } else {
      const allowed = Object.keys(checks);
      const near = suggest(key, [...allowed, ...Object.keys(extra)]);
      fail(
        at,
        `unknown key ${JSON.stringify(key)}${near ? ` (did you mean ${JSON.stringify(near)}?)` : ''}`,
        allowed.length ? `one of: ${allowed.join(', ')}` : 'no keys here',
        true,
      );
    }
  }
  return out as Partial<T>;
}

/** A section check with a `finish` step that fills defaults and checks cross-field rules. */
export function section<T, R = T>(fields: Partial<Fields<T>>, extra: Extra, finish: (s: Partial<T>, path: string, ctx: Ctx) => R): Check<R> {
  return (v, p, c) => finish(readSection<T>(v, p, c, fields, extra), p, c);
}
