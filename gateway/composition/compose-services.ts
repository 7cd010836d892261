import { createRequire } from 'node:module';

type Composition = typeof import('@apollo/composition');
let composition: Composition | undefined;

/**
 * @apollo/composition's composeServices, loaded on first use: a gateway started from a compiled
 * build composes nothing (its in-process subgraphs are precomposed), so it never pays for loading
 * (and, from an ES module, lexing) this CommonJS package.
 */
export function composeServices(...args: Parameters<Composition['composeServices']>): ReturnType<Composition['composeServices']> {
  composition ??= createRequire(import.meta.url)('@apollo/composition') as Composition;
  return composition.composeServices(...args);
}
