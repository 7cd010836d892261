import { readFileSync } from 'node:fs';
import { createLogger } from '../../subgraphs/mesh/logger.js';
import { ConfigError } from '../config/config-error.js';
import { loadSupergraphConfig } from '../config/supergraph-config.js';
import { CompositionFailed, formatCompositionMessage } from '../composition/compose-supergraph.js';
import { formatViolation } from '../governance/governance.js';
import { composeAndGovern } from './compose-and-govern.js';
import { Supergraph } from './supergraph.js';

export interface LoadedSupergraph {
  supergraph: Supergraph;
  /** Where it came from, for the logs. */
  origin: string;
}

/**
 * The gateway starts from either kind of file:
 * - a Rover-style `supergraph.yaml`, composed at start (routing URLs can be overridden, which is
 *   how `npm start` and the tests point it at the ports they actually use);
 * - a prebuilt supergraph SDL from any tool (our `npm run compose`, Rover, GraphOS…).
 */
export async function loadSupergraph(path: string, options: { routingUrls?: Record<string, string> } = {}): Promise<LoadedSupergraph> {
  if (/\.ya?ml$/i.test(path)) {
    const config = loadSupergraphConfig(path);
    try {
      // The mesh's governance rules apply to a supergraph composed at start as to `npm run compose`.
      const { supergraph, governance } = await composeAndGovern(config, options);
      const log = createLogger('governance');
      for (const v of governance.violations.filter((v) => v.severity !== 'fail')) log.warn(formatViolation(v));
      if (governance.failed) {
        const failures = governance.violations.filter((v) => v.severity === 'fail').map(formatViolation);
        throw new ConfigError(path, null, `governance failed with ${failures.length} violation(s):\n${failures.join('\n')}`);
      }
      return { supergraph, origin: `${path} (composed at start)` };
    } catch (error) {
      if (error instanceof CompositionFailed) {
        throw new ConfigError(path, null, `composition failed:\n${error.messages.map(formatCompositionMessage).join('\n')}`);
      }
      throw error;
    }
  }
  let sdl: string;
  try {
    sdl = readFileSync(path, 'utf8');
  } catch {
    throw new ConfigError(path, null, 'supergraph file not found or not readable');
  }
  try {
    return { supergraph: Supergraph.fromSdl(sdl), origin: path };
  } catch (error) {
    throw new ConfigError(path, null, `not a valid supergraph: ${(error as Error).message.split('\n')[0]}`);
  }
}
