import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_SETTINGS_FILE, loadGatewaySettings } from '../config/gateway-settings.js';
import type { ContractSettings } from './contract-settings.js';

const REPOSITORY_SUPERGRAPH_CONFIG = fileURLToPath(new URL('../../supergraph.yaml', import.meta.url));

export interface ContractsToCheck {
  settings: Record<string, ContractSettings>;
  /** The settings file, for errors that name it. */
  file: string;
}

/**
 * The contracts `npm run compose` and `npm run check` hold a supergraph to: those of the settings
 * file given (`--gateway-config`), else of GATEWAY_CONFIG, else of gateway/gateway.yaml when the
 * subgraphs are this repository's supergraph.yaml (its contracts are written for that graph, not
 * for another one composed with the same tools). Null: none to check.
 */
export function contractsToCheck(supergraphConfig: string, gatewayConfig: string | undefined, env: NodeJS.ProcessEnv = process.env): ContractsToCheck | null {
  const file = gatewayConfig ?? env.GATEWAY_CONFIG ?? (resolve(supergraphConfig) === REPOSITORY_SUPERGRAPH_CONFIG && existsSync(DEFAULT_SETTINGS_FILE) ? DEFAULT_SETTINGS_FILE : null);
  if (!file) return null;
  const settings = loadGatewaySettings(file);
  return { settings: settings.contracts, file: settings.source ?? file };
}
