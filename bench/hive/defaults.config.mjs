// Hive Gateway with its defaults. The only setting: the static headers every subgraph request
// carries (BENCH_SUBGRAPH_HEADERS, JSON), i.e. the signed identity the mesh's subgraphs require
// from whatever gateway calls them. `npm run bench` passes this file with `-c`.
const subgraphHeaders = JSON.parse(process.env.BENCH_SUBGRAPH_HEADERS ?? '{}');

export const gatewayConfig = {
  propagateHeaders: { fromClientToSubgraphs: () => subgraphHeaders },
};
