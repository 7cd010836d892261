import { FederationSupergraph } from './federation-internals.js';
import { createHash } from 'node:crypto';
import { buildASTSchema, Kind, parse, print, type ConstDirectiveNode, type DocumentNode, type GraphQLSchema } from 'graphql';
import { SecurityIndex } from '../authorization/security-index.js';
import { stripSecurityLinkPurposes } from '../authorization/strip-security-links.js';
import { SupergraphFacts } from './supergraph-facts.js';

export interface SupergraphSubgraph {
  name: string;
  url: string;
}

/**
 * One supergraph, parsed once: its SDL, document, schema, the subgraphs it routes to, and what the
 * gateway's layers derive from it (the security index, the facts the catalog and governance read).
 * Everything per supergraph is computed here, on first use, and shared: nothing downstream parses
 * the SDL again.
 */
export class Supergraph {
  readonly hash: string;
  readonly subgraphs: readonly SupergraphSubgraph[];
  /** The SDL handed to ApolloGateway: the SECURITY link purposes it refuses are removed (we enforce them). */
  readonly gatewaySdl: string;
  private _schema?: GraphQLSchema;
  private _security?: SecurityIndex;
  private _facts?: SupergraphFacts;

  private constructor(
    readonly sdl: string,
    readonly document: DocumentNode,
    validate: boolean,
  ) {
    this.hash = createHash('sha256').update(sdl).digest('hex').slice(0, 16);
    this.gatewaySdl = stripSecurityLinkPurposes(document, sdl);
    // The federation library validates a supergraph from outside (a malformed one fails here, at
    // start, with its own message): works for any composer's output.
    if (validate) FederationSupergraph.build(this.gatewaySdl);
    // The subgraphs, from `join__Graph` (the library's extraction of every subgraph's schema took a
    // large share of the cold start, three times over: loaded, + catalog, + privacy). By name, as the library lists them.
    this.subgraphs = joinGraphs(document);
  }

  /** Parses and validates a supergraph SDL (ours, Rover's, GraphOS's…); throws the library's error when it is not one. */
  static fromSdl(sdl: string): Supergraph {
    return new Supergraph(sdl, parse(sdl), true);
  }

  /**
   * A supergraph derived from a validated one by our own grafting (the catalog's and the privacy
   * subgraph's root fields): not validated again here; ApolloGateway validates what it is given.
   */
  static fromDocument(document: DocumentNode): Supergraph {
    return new Supergraph(print(document), document, false);
  }

  get schema(): GraphQLSchema {
    return (this._schema ??= buildASTSchema(this.document, { assumeValidSDL: true }));
  }

  /** Every authorization requirement, resolved once per supergraph. */
  get security(): SecurityIndex {
    return (this._security ??= new SecurityIndex(this.document, this.schema));
  }

  /** Classifications, entity keys, resolving subgraphs: what the catalog and governance read. */
  get facts(): SupergraphFacts {
    return (this._facts ??= new SupergraphFacts(this.document, this.schema, this.security));
  }
}

/** `join__Graph`'s values: each subgraph's `@join__graph(name:, url:)`, sorted by name. */
function joinGraphs(document: DocumentNode): SupergraphSubgraph[] {
  const graphs: SupergraphSubgraph[] = [];
  for (const def of document.definitions) {
    if (def.kind !== Kind.ENUM_TYPE_DEFINITION || def.name.value !== 'join__Graph') continue;
    for (const value of def.values ?? []) {
      const directive = value.directives?.find((d) => d.name.value === 'join__graph');
      const name = stringArgument(directive, 'name');
      if (name !== undefined) graphs.push({ name, url: stringArgument(directive, 'url') ?? '' });
    }
  }
  return graphs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function stringArgument(directive: ConstDirectiveNode | undefined, name: string): string | undefined {
  const value = directive?.arguments?.find((a) => a.name.value === name)?.value;
  return value?.kind === Kind.STRING ? value.value : undefined;
}
