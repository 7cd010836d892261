/**
 * Masks: what a caller who may only see a field masked gets instead of its value. Part of the
 * contract: a domain declares a field's mask in its descriptor (`mask:` on a property), the kit
 * applies it inside the subgraph (so the value itself never leaves it), the gateway's catalog
 * describes it, and the gateway's governance decides who sees which fields masked.
 *
 *   mask: email                      ola.nordmann@example.com → o***@example.com
 *   mask: phone-last4                +4915123456789 → +*********6789
 *   mask: year-only                  1984-05-17 → 1984
 *   mask: initials                   Ola Nordmann → O. N.
 *   mask: redact                     any text → [redacted]
 *   mask: { kind: round, step: 100 }             4321.5 → 4300
 *   mask: { kind: bucket, bounds: [0, 1000, 10000] }   4321.5 → 1000 (the lower bound of its range)
 *
 * Every mask is total and keeps the field's type: a non-null value stays non-null, `null` stays
 * `null`, lists are masked item by item.
 */

export const TEXT_MASKS = ['email', 'phone-last4', 'year-only', 'initials', 'redact'] as const;
export const NUMBER_MASKS = ['round', 'bucket'] as const;
export const MASK_KINDS = [...TEXT_MASKS, ...NUMBER_MASKS] as const;
export type MaskKind = (typeof MASK_KINDS)[number];

export type MaskSpec =
  | { kind: (typeof TEXT_MASKS)[number] }
  | { kind: 'round'; step: number }
  | { kind: 'bucket'; bounds: number[] };

export const DEFAULT_ROUND_STEP = 100;
export const DEFAULT_BUCKET_BOUNDS = [0, 100, 1_000, 10_000, 100_000, 1_000_000];
export const REDACTED = '[redacted]';

/** The GraphQL scalar types a mask fits: text masks on String (or ID), amount masks on Float or Int. */
export function maskFitsType(spec: MaskSpec, namedType: string): boolean {
  return (TEXT_MASKS as readonly string[]).includes(spec.kind) ? namedType === 'String' || namedType === 'ID' : namedType === 'Float' || namedType === 'Int';
}

/**
 * Reads a descriptor's `mask:` value: a kind, or `{ kind, …options }`. Returns the spec, or a
 * problem (with the key it is about, relative to `mask`) for the descriptor reader to report.
 */
export function parseMask(raw: unknown): { spec: MaskSpec } | { problem: string; key?: string } {
  const kinds = MASK_KINDS.join(', ');
  if (typeof raw === 'string') {
    if (!(MASK_KINDS as readonly string[]).includes(raw)) return { problem: `"${raw}" is not a mask (one of ${kinds})` };
    if (raw === 'round') return { spec: { kind: 'round', step: DEFAULT_ROUND_STEP } };
    if (raw === 'bucket') return { spec: { kind: 'bucket', bounds: DEFAULT_BUCKET_BOUNDS } };
    return { spec: { kind: raw as (typeof TEXT_MASKS)[number] } };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { problem: `must be a mask name (${kinds}) or a mapping with a kind` };
  const value = raw as Record<string, unknown>;
  const kind = value.kind;
  if (typeof kind !== 'string' || !(MASK_KINDS as readonly string[]).includes(kind)) return { key: 'kind', problem: `${JSON.stringify(kind)} is not a mask (one of ${kinds})` };
  const allowed = kind === 'round' ? ['kind', 'step'] : kind === 'bucket' ? ['kind', 'bounds'] : ['kind'];
  for (const key of Object.keys(value)) if (!allowed.includes(key)) return { key, problem: `unknown key (allowed here: ${allowed.join(', ')})` };
  if (kind === 'round') {
    const step = value.step ?? DEFAULT_ROUND_STEP;
    if (typeof step !== 'number' || !Number.isFinite(step) || step <= 0) return { key: 'step', problem: 'must be a positive number' };
    return { spec: { kind, step } };
  }
  if (kind === 'bucket') {
    const bounds = value.bounds ?? DEFAULT_BUCKET_BOUNDS;
    if (!Array.isArray(bounds) || bounds.length === 0 || bounds.some((b) => typeof b !== 'number' || !Number.isFinite(b))) {
      return { key: 'bounds', problem: 'must be a non-empty list of numbers' };
    }
    if (bounds.some((b, i) => i > 0 && b <= bounds[i - 1])) return { key: 'bounds', problem: 'must be in ascending order, without repeats' };
    return { spec: { kind, bounds: bounds as number[] } };
  }
  return { spec: { kind: kind as (typeof TEXT_MASKS)[number] } };
}

/** The mask applied to one resolved value (lists item by item; null stays null). */
export function applyMask(spec: MaskSpec, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (Array.isArray(value)) return value.map((v) => applyMask(spec, v));
  switch (spec.kind) {
    case 'email':
      return maskEmail(String(value));
    case 'phone-last4':
      return maskPhone(String(value));
    case 'year-only':
      return /^\d{4}/.exec(String(value))?.[0] ?? REDACTED;
    case 'initials':
      return initials(String(value));
    case 'redact':
      return REDACTED;
    case 'round': {
      const n = Number(value);
      if (!Number.isFinite(n)) return 0;
      const rounded = Math.round(n / spec.step) * spec.step;
      // Binary floating point: 0.1-steps would otherwise give 0.30000000000000004.
      return Number(rounded.toPrecision(12));
    }
    case 'bucket': {
      const n = Number(value);
      let bound = spec.bounds[0]!;
      for (const b of spec.bounds) if (Number.isFinite(n) && n >= b) bound = b;
      return bound;
    }
  }
}

/** One line for the catalog and the docs: what a masked caller sees. */
export function describeMask(spec: MaskSpec): { description: string; example: string } {
  switch (spec.kind) {
    case 'email':
      return { description: 'E-mail address with the local part hidden but its first letter', example: 'ola.nordmann@example.com → o***@example.com' };
    case 'phone-last4':
      return { description: 'Phone number with every digit but the last four hidden', example: '+4915123456789 → +*********6789' };
    case 'year-only':
      return { description: 'Date reduced to its year', example: '1984-05-17 → 1984' };
    case 'initials':
      return { description: 'Each word reduced to its initial', example: 'Ola Nordmann → O. N.' };
    case 'redact':
      return { description: `Text replaced by ${REDACTED}`, example: `any text → ${REDACTED}` };
    case 'round':
      return { description: `Amount rounded to the nearest ${spec.step}`, example: `4321.5 → ${applyMask(spec, 4321.5)}` };
    case 'bucket':
      return { description: `Amount replaced by the lower bound of its range (bounds ${spec.bounds.join(', ')})`, example: `4321.5 → ${applyMask(spec, 4321.5)}` };
  }
}

function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at <= 0) return REDACTED;
  return `${email[0]}***${email.slice(at)}`;
}

function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '').length;
  let hide = Math.max(0, digits - 4);
  let out = '';
  for (const ch of phone) {
    if (/\d/.test(ch) && hide > 0) {
      out += '*';
      hide--;
    } else {
      out += ch;
    }
  }
  return out;
}

function initials(text: string): string {
  const words = text.split(/\s+/).filter(Boolean);
  return words.length ? words.map((w) => `${[...w][0]!.toUpperCase()}.`).join(' ') : REDACTED;
}
