import { Environment } from '@marcbachmann/cel-js';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../config/config-error.js';
import { createLogger } from '../../subgraphs/mesh/logger.js';
import { RowRules } from '../governance/row-rules.js';

/** What a policy expression sees. */
export interface PolicyInput {
  claims: Record<string, unknown>;
  scopes: string[];
  request: { purpose: string; operationName: string };
}

interface CompiledPolicy {
  description: string;
  expression: string;
  evaluate: (input: PolicyInput) => unknown;
}

const log = createLogger('policies');

/**
 * The governance file's policies, compiled once. CEL is a real, sandboxed expression language:
 * no `eval`, no side effects, bounded evaluation.
 */
export class PolicyBook {
  private readonly policies = new Map<string, CompiledPolicy>();
  readonly forwardedClaims: string[];
  /** Row-level rules (`rowRules`): evaluated per request, forwarded signed to every subgraph. */
  readonly rowRules: RowRules;
  /** The purpose of a request without X-Data-Purpose (`purposes.default`); '' = none. */
  readonly defaultPurpose: string;

  constructor(readonly file: string) {
    let doc: any;
    try {
      doc = parseYaml(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new ConfigError(file, null, `cannot read policies: ${(error as Error).message.split('\n')[0]}`);
    }
    const keys = ['policies', 'forwardedClaims', 'rowRules', 'purposes'];
    for (const key of Object.keys(doc ?? {})) {
      if (!keys.includes(key)) throw new ConfigError(file, key, `unknown key (allowed: ${keys.join(', ')})`);
    }
    const env = new Environment()
      .registerVariable('claims', 'map')
      .registerVariable('scopes', 'list<string>')
      .registerVariable('request', 'map');
    for (const [name, def] of Object.entries<any>(doc?.policies ?? {})) {
      const at = `policies.${name}`;
      if (typeof def?.expression !== 'string') throw new ConfigError(file, `${at}.expression`, 'missing: a CEL expression');
      for (const key of Object.keys(def)) {
        if (key !== 'expression' && key !== 'description') throw new ConfigError(file, `${at}.${key}`, 'unknown key (allowed: expression, description)');
      }
      let compiled: (ctx: Record<string, unknown>) => unknown;
      try {
        compiled = env.parse(def.expression) as unknown as (ctx: Record<string, unknown>) => unknown;
      } catch (error) {
        throw new ConfigError(file, `${at}.expression`, `invalid CEL: ${(error as Error).message.split('\n')[0]}`);
      }
      this.policies.set(name, {
        description: String(def.description ?? ''),
        expression: def.expression,
        evaluate: (input) => compiled(input as unknown as Record<string, unknown>),
      });
    }
    const forwarded = doc?.forwardedClaims ?? [];
    if (!Array.isArray(forwarded) || forwarded.some((c) => typeof c !== 'string')) {
      throw new ConfigError(file, 'forwardedClaims', 'must be a list of claim names');
    }
    this.forwardedClaims = forwarded;
    this.rowRules = new RowRules(file, doc?.rowRules);
    this.defaultPurpose = readDefaultPurpose(file, doc?.purposes);
  }

  /** Fails closed: an expression that errors or is not exactly `true` denies. */
  evaluate(name: string, input: PolicyInput): boolean {
    const policy = this.policies.get(name);
    if (!policy) return false;
    try {
      return policy.evaluate(input) === true;
    } catch (error) {
      log.debug('policy evaluation failed; denying', { policy: name, error: (error as Error).message });
      return false;
    }
  }

  /** A purpose as a request may declare it: lowercase words joined by `-`, at most 64 characters. */
  static isPurpose(value: string): boolean {
    return value.length <= 64 && /^[a-z][a-z0-9-]*$/.test(value);
  }

  /** Every policy the supergraph names must exist: checked at start, never a silent allow. */
  assertDefines(names: Iterable<string>): void {
    for (const name of names) {
      if (!this.policies.has(name)) {
        throw new ConfigError(this.file, `policies.${name}`, `used by @policy in the supergraph but not defined; define it here (a CEL expression)`);
      }
    }
  }
}

function readDefaultPurpose(file: string, raw: unknown): string {
  if (raw === undefined || raw === null) return '';
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(file, 'purposes', 'must be a mapping (default)');
  for (const key of Object.keys(raw)) if (key !== 'default') throw new ConfigError(file, `purposes.${key}`, 'unknown key (allowed: default)');
  const value = (raw as { default?: unknown }).default ?? '';
  if (typeof value !== 'string' || (value !== '' && !PolicyBook.isPurpose(value))) {
    throw new ConfigError(file, 'purposes.default', 'must be a purpose (lowercase words joined by -), or "" for none');
  }
  return value;
}
