import { fileURLToPath } from 'node:url';

/**
 * The mesh's supergraph.yaml, whose subgraphs the registry loads: beside subgraphs/, in the source
 * tree or in dist/. Its own module, so a CLI can name it (in its --help) without loading the domains.
 */
export const SUPERGRAPH_YAML = fileURLToPath(new URL('../supergraph.yaml', import.meta.url));
