import { Supergraph as FederationSupergraph } from '@apollo/federation-internals';
import { createHash } from 'node:crypto';
import { buildASTSchema, parse, print, type DocumentNode, type GraphQLSchema } from 'graphql';
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
  ) {
    this.hash = createHash('sha256').update(sdl).digest('hex').slice(0, 16);
    this.gatewaySdl = stripSecurityLinkPurposes(document, sdl);
    // The federation library validates the supergraph (a malformed one fails here, at start, with
    // its own message) and lists its subgraphs from `join__Graph`: works for any composer's output.
    const federation = FederationSupergraph.build(this.gatewaySdl);
    this.subgraphs = federation.subgraphs().values().map((s) => ({ name: s.name, url: s.url }));
  }

  /** Parses and validates a supergraph SDL (ours, Rover's, GraphOS's…); throws the library's error when it is not one. */
  static fromSdl(sdl: string): Supergraph {
    return new Supergraph(sdl, parse(sdl));
  }

  static fromDocument(document: DocumentNode): Supergraph {
    return new Supergraph(print(document), document);
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
