import { Supergraph } from '@apollo/federation-internals';

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
  const supergraph = Supergraph.build(supergraphSdl);
  return supergraph.subgraphs().values().map((s) => ({ name: s.name, url: s.url }));
}
