import { Supergraph } from '@apollo/federation-internals';
import { stripSecurityLinkPurposes } from '../authorization/strip-security-links.js';

export interface SupergraphSubgraph {
  name: string;
  url: string;
}

/**
 * The subgraphs a supergraph routes to, read from its `join__Graph` enum. Works for any
 * supergraph (ours, Rover's, GraphOS's), and validates it on the way: a malformed file fails here,
 * at start, with the library's own message.
 */
export function subgraphsOfSupergraph(supergraphSdl: string): SupergraphSubgraph[] {
  // The library refuses SECURITY features it does not enforce; we enforce them, so read past that.
  const supergraph = Supergraph.build(stripSecurityLinkPurposes(supergraphSdl));
  return supergraph.subgraphs().values().map((s) => ({ name: s.name, url: s.url }));
}
