import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { signingKeyFromEnv } from '../../subgraphs/mesh/identity.js';
import type { JwtSettings } from '../authentication/jwt-authenticator.js';
import { ConfigError } from './config-error.js';
import { DEFAULT_SETTINGS_FILE, loadGatewaySettings, type GatewaySettings } from './gateway-settings.js';

export type AuthorizationMode = 'filter' | 'reject' | 'dry_run';

/** Everything the gateway's governance needs, read once at start and validated. */
export interface GatewayConfig {
  jwt: JwtSettings;
  authorizationMode: AuthorizationMode;
  /** The governance file: policies as code, forwarded claims. */
  policiesFile: string;
  /** Shared with subgraphs, to sign forwarded identities. */
  signingKey: string;
  /** True when JWT_SECRET fell back to the development default. */
  developmentSecret: boolean;
  /** Limits, demand control, trusted documents, CORS, introspection, timeouts (defaults when absent). */
  settings?: GatewaySettings;
}

export const DEV_JWT_SECRET = 'dev-only-jwt-secret-do-not-use-in-production-0123456789';
export const DEFAULT_POLICIES_FILE = fileURLToPath(new URL('../governance/policies.yaml', import.meta.url));

/** Variables this gateway reads; a misspelt one (JWT_SECRETS, AUTHZ_MOD…) is an error, not ignored. */
const KNOWN = ['JWT_SECRET', 'JWKS_URL', 'JWKS_FILE', 'JWT_ISSUER', 'JWT_AUDIENCE', 'AUTHZ_MODE', 'POLICIES_FILE', 'GATEWAY_CONFIG'];
const OUR_PREFIXES = /^(JWT_|JWKS_|AUTHZ_|POLICIES_|GATEWAY_CONF)/;

export function gatewayConfigFromEnv(env: NodeJS.ProcessEnv = process.env, warn: (m: string) => void = console.warn): GatewayConfig {
  for (const name of Object.keys(env)) {
    if (OUR_PREFIXES.test(name) && !KNOWN.includes(name)) {
      throw new ConfigError('environment', name, `unknown setting (known: ${KNOWN.join(', ')})`);
    }
  }
  const mode = (env.AUTHZ_MODE ?? 'filter') as AuthorizationMode;
  if (!['filter', 'reject', 'dry_run'].includes(mode)) throw new ConfigError('environment', 'AUTHZ_MODE', `"${mode}" is not one of filter, reject, dry_run`);

  let developmentSecret = false;
  let secret = env.JWT_SECRET;
  if (!secret && !env.JWKS_URL && !env.JWKS_FILE) {
    if (env.NODE_ENV === 'production') throw new ConfigError('environment', 'JWT_SECRET / JWKS_URL / JWKS_FILE', 'one is required when NODE_ENV=production');
    warn('JWT_SECRET is not set: using the built-in DEVELOPMENT secret. FOR DEVELOPMENT ONLY: anyone can mint tokens for it (npm run token).');
    secret = DEV_JWT_SECRET;
    developmentSecret = true;
  }
  if (secret && secret.length < 32) throw new ConfigError('environment', 'JWT_SECRET', 'must be at least 32 characters (HS256 needs a 256-bit key)');

  let signingKey: string;
  try {
    signingKey = signingKeyFromEnv(env, warn);
  } catch (error) {
    throw new ConfigError('environment', 'MESH_SIGNING_KEY', (error as Error).message);
  }
  return {
    jwt: { secret, jwksUrl: env.JWKS_URL, jwksFile: env.JWKS_FILE, issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE },
    authorizationMode: mode,
    policiesFile: env.POLICIES_FILE ?? DEFAULT_POLICIES_FILE,
    signingKey,
    developmentSecret,
    settings: loadGatewaySettings(env.GATEWAY_CONFIG ?? (existsSync(DEFAULT_SETTINGS_FILE) ? DEFAULT_SETTINGS_FILE : null), env.NODE_ENV === 'production'),
  };
}
