import type { SupergraphConfig } from '../config/supergraph-config.js';
import { composeSubgraphs, loadSubgraphSchemas, type CompositionMessage } from '../composition/compose-supergraph.js';
import { governanceInput, loadRuleSeverities, runGovernance, type GovernanceReport } from '../governance/governance.js';
import type { RuleSeverity } from '../governance/rules.js';
import { Supergraph } from './supergraph.js';

export interface GovernedSupergraph {
  supergraph: Supergraph;
  hints: CompositionMessage[];
  governance: GovernanceReport;
}

/**
 * The one way a supergraph.yaml becomes a supergraph: load every subgraph's schema, compose
 * (throws CompositionFailed), then run the mesh's governance rules on the result. `npm run compose`
 * and a gateway composing at start both call this; each decides what a failed rule means for it.
 */
export async function composeAndGovern(
  config: SupergraphConfig,
  options: { routingUrls?: Record<string, string>; severities?: Map<string, RuleSeverity> } = {},
): Promise<GovernedSupergraph> {
  const subgraphs = await loadSubgraphSchemas(config, options);
  const { supergraphSdl, hints } = composeSubgraphs(subgraphs);
  const supergraph = Supergraph.fromSdl(supergraphSdl);
  const governance = runGovernance(await governanceInput(config, subgraphs, supergraph), options.severities ?? loadRuleSeverities());
  return { supergraph, hints, governance };
}
