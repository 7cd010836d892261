import type { Document, LineCounter } from 'yaml';
import { DescriptorError } from './descriptor.js';

export type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Walks one YAML document of a descriptor, failing with the file, the line and the key path of the
 * first mistake (a DescriptorError). Subclasses read a shape; this class reads values.
 */
export abstract class YamlReader {
  /** Names the document in messages: `document 2` until its id is known. */
  protected label: string;

  constructor(
    protected readonly file: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
    label: string,
    /** Keys accepted everywhere but left out of the "allowed here" hint. */
    private readonly quietKeys: readonly string[] = [],
  ) {
    this.label = label;
  }

  fail(path: (string | number)[], problem: string): never {
    let node: unknown = undefined;
    for (let n = path.length; n >= 0 && !node; n--) node = n === 0 ? this.doc.contents : this.doc.getIn(path.slice(0, n), true);
    const offset = (node as { range?: [number, number, number] } | undefined)?.range?.[0];
    const line = offset === undefined ? null : this.lines.linePos(offset).line;
    throw new DescriptorError(this.file, line, [this.label, ...path].reduce<string>((s, p, i) => (i === 0 ? String(p) : typeof p === 'number' ? `${s}[${p}]` : `${s}.${p}`), ''), problem);
  }

  lineOf(path: (string | number)[]): number {
    const node = path.length ? this.doc.getIn(path, true) : this.doc.contents;
    const offset = (node as { range?: [number, number, number] } | undefined)?.range?.[0] ?? 0;
    return this.lines.linePos(offset).line;
  }

  protected keys(value: Json, path: (string | number)[], allowed: string[]) {
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key)) this.fail([...path, key], `unknown key (allowed here: ${allowed.filter((k) => !this.quietKeys.includes(k)).join(', ')})`);
    }
  }

  protected record(value: unknown, path: (string | number)[]): Json {
    if (!isRecord(value)) this.fail(path, 'must be a mapping');
    return value;
  }

  protected list(value: unknown, path: (string | number)[]): unknown[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) this.fail(path, 'must be a list');
    return value;
  }

  protected string(value: unknown, path: (string | number)[], { required = false, pattern, hint }: { required?: boolean; pattern?: RegExp; hint?: string } = {}): string | null {
    if (value === undefined || value === null || value === '') {
      if (required) this.fail(path, 'missing');
      return null;
    }
    // YAML reads an unquoted 2027-01-31 as a string with the default (core) schema; numbers are not accepted as text.
    if (typeof value !== 'string') this.fail(path, `must be a string, got ${JSON.stringify(value)}`);
    if (pattern && !pattern.test(value)) this.fail(path, `"${value}" is not valid${hint ? `: ${hint}` : ''}`);
    return value;
  }

  protected oneOf<T extends string>(value: unknown, path: (string | number)[], allowed: readonly T[], fallback: T | null = null): T | null {
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'string' || !allowed.includes(value as T)) this.fail(path, `${JSON.stringify(value)} is not one of ${allowed.join(', ')}`);
    return value as T;
  }

  protected boolean(value: unknown, path: (string | number)[]): boolean {
    if (value === undefined || value === null) return false;
    if (typeof value !== 'boolean') this.fail(path, 'must be true or false');
    return value;
  }

  protected pathText(path: (string | number)[]): string {
    return path.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${p}` : p), '');
  }
}
