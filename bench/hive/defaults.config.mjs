// Hive Gateway with its defaults. The only setting: the signed identity the mesh's subgraphs
// require from whatever gateway calls them (header x-mesh-identity). A client that sends its own
// (the benchmark's "distinct callers", one identity per user) has it relayed; otherwise every
// subgraph request carries the static one in BENCH_SUBGRAPH_HEADERS (JSON).
// `npm run bench` passes this file with `--config-path`.
const subgraphHeaders = JSON.parse(process.env.BENCH_SUBGRAPH_HEADERS ?? '{}');
const IDENTITY_HEADER = 'x-mesh-identity';

export const gatewayConfig = {
  propagateHeaders: {
    fromClientToSubgraphs: ({ request }) => {
      const identity = request.headers.get(IDENTITY_HEADER);
      return identity ? { ...subgraphHeaders, [IDENTITY_HEADER]: identity } : subgraphHeaders;
    },
  },
};
