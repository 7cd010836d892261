/**
 * `npm run compose [-- --config supergraph.yaml --output supergraph.graphql]`
 * Composes the subgraphs listed in the config and writes the supergraph SDL.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CompositionFailed, composeFromConfig, formatCompositionMessage } from '../composition/compose-supergraph.js';
import { loadSupergraphConfig } from '../config/supergraph-config.js';
import { runCli } from './run-cli.js';

runCli(async () => {
  const { values } = parseArgs({
    options: {
      config: { type: 'string', default: 'supergraph.yaml' },
      output: { type: 'string', default: 'supergraph.graphql' },
    },
  });
  const config = loadSupergraphConfig(values.config!);
  try {
    const { supergraphSdl, hints } = await composeFromConfig(config);
    for (const hint of hints) console.log(formatCompositionMessage(hint));
    writeFileSync(values.output!, supergraphSdl);
    console.log(`composed ${config.subgraphs.length} subgraphs (${config.subgraphs.map((s) => s.name).join(', ')}) into ${values.output}` +
      (hints.length ? ` with ${hints.length} hint(s)` : ''));
  } catch (error) {
    if (!(error instanceof CompositionFailed)) throw error;
    for (const message of error.messages) console.error(formatCompositionMessage(message));
    console.error(`${values.config}: composition failed with ${error.messages.length} error(s); ${values.output} was not written`);
    process.exitCode = 1;
  }
});
