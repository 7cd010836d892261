import type { ApolloServer, BaseContext } from '@apollo/server';
import type { GatewayExecutor } from '@apollo/server-gateway-interface';
import type { GraphQLSchema } from 'graphql';
import type { GatewayExplorer } from '../explorer/gateway-explorer.js';
import { ContractGateway } from './contract-gateway.js';
import type { Contract } from './contracts.js';

interface Endpoint<C extends BaseContext> {
  apollo: ApolloServer<C>;
  gateway: ContractGateway;
  explorer?: Promise<GatewayExplorer>;
}

/**
 * One GraphQL endpoint per contract, at /contracts/<name>/graphql, in the same gateway: its own
 * Apollo Server (validation and introspection against the contract's schema) over the gateway's
 * one executor and the same plugins (authorization, limits, demand control, audit, usage…), and
 * its own explorer page, rendered on first visit.
 */
export class ContractEndpoints<C extends BaseContext> {
  private readonly endpoints = new Map<string, Endpoint<C>>();
  /** Which contract each schema Apollo validates against belongs to (set before it is announced). */
  private readonly contractBySchema = new WeakMap<GraphQLSchema, Contract>();

  constructor(private readonly explorerFor: (contract: Contract) => Promise<GatewayExplorer>) {}

  /** Starts an endpoint per contract; the executor is the gateway's, loaded by then. */
  async start(contracts: ReadonlyMap<string, Contract>, server: (gateway: ContractGateway) => ApolloServer<C>, executor: () => GatewayExecutor): Promise<void> {
    for (const contract of contracts.values()) {
      this.contractBySchema.set(contract.schema, contract);
      const gateway = new ContractGateway(contract.schema, executor);
      const apollo = server(gateway);
      await apollo.start();
      this.endpoints.set(contract.name, { apollo, gateway });
    }
  }

  /** A reload rebuilt the contracts (same names: they come from the settings): serve the new schemas. */
  update(contracts: ReadonlyMap<string, Contract>): void {
    for (const contract of contracts.values()) {
      this.contractBySchema.set(contract.schema, contract);
      this.endpoints.get(contract.name)?.gateway.announce(contract.schema);
    }
  }

  contractOf(schema: GraphQLSchema): Contract | undefined {
    return this.contractBySchema.get(schema);
  }

  apollo(name: string): ApolloServer<C> | undefined {
    return this.endpoints.get(name)?.apollo;
  }

  explorer(contract: Contract): Promise<GatewayExplorer> | undefined {
    const endpoint = this.endpoints.get(contract.name);
    if (!endpoint) return undefined;
    return (endpoint.explorer ??= this.explorerFor(contract));
  }

  /** After a supergraph reload: the explorers already opened recompute what their personas grant. */
  async refreshExplorers(): Promise<void> {
    await Promise.all([...this.endpoints.values()].map(async (e) => (e.explorer ? (await e.explorer).refresh() : undefined)));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.endpoints.values()].map((e) => e.apollo.stop()));
  }
}

/** What the explorer opens with on a contract's path: the contract's own catalog view. */
export function contractExampleQuery(contract: Contract): string {
  return `# The "${contract.name}" contract: only its fields
# are served here (${contract.path}).
# The docs (book icon) show its schema.
# Its data products, as the contract sees them:
query ContractCatalog {
  dataProducts {
    id
    name
    rootFields
    fields {
      coordinate
      classification
    }
  }
}
`;
}
