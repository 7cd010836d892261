import { writeFileSync } from 'node:fs';
import { parse } from 'graphql';
import { PRIVACY_SUBGRAPH_NAME, PRIVACY_TYPE_DEFS } from '../privacy/privacy-schema.js';
import { CATALOG_SUBGRAPH_NAME, CATALOG_TYPE_DEFS } from './catalog-schema.js';
import { PRECOMPOSED_FILE, precomposedEntries } from './merge-supergraph.js';

/**
 * Run by `npm run build` on the compiled code: composes the gateway's in-process subgraphs (the
 * catalog's and the privacy subgraph's, grafted onto every supergraph served, the same for any
 * supergraph) once, into precomposed.json beside merge-supergraph.js, so that no compiled
 * gateway composes them at start (they were a large share of its cold start).
 */
export function writePrecomposed(file = PRECOMPOSED_FILE): number {
  const entries = precomposedEntries([
    { name: CATALOG_SUBGRAPH_NAME, url: `in-process://${CATALOG_SUBGRAPH_NAME}`, typeDefs: parse(CATALOG_TYPE_DEFS) },
    { name: PRIVACY_SUBGRAPH_NAME, url: `in-process://${PRIVACY_SUBGRAPH_NAME}`, typeDefs: parse(PRIVACY_TYPE_DEFS) },
  ]);
  writeFileSync(file, `${JSON.stringify(entries)}\n`);
  return Object.keys(entries).length;
}
