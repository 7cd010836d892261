import { createRequire } from 'node:module';

/**
 * @apollo/federation-internals, loaded with `require`. It is CommonJS: imported from an ES module,
 * Node would first lex its index and the ~40 files it re-exports to find their named exports, about
 * 0.1 s of every start, though @apollo/gateway has already loaded the package itself.
 */
const federationInternals = createRequire(import.meta.url)('@apollo/federation-internals') as typeof import('@apollo/federation-internals');

export const FederationSupergraph = federationInternals.Supergraph;
