/**
 * `npm run compose [-- --config supergraph.yaml --output supergraph.graphql --rules gateway/governance/rules.yaml]`
 * Composes the subgraphs listed in the config, runs the mesh's governance rules, and writes the
 * supergraph SDL (not when a rule set to fail is violated).
 */
import { writeFileSync } from 'node:fs';
import { parseCliOrThrow, type CliIo } from '../../subgraphs/mesh/cli-args.js';
import { CompositionFailed, formatCompositionMessage } from '../composition/compose-supergraph.js';
import { DEFAULT_RULES_FILE, formatViolation, loadRuleSeverities } from '../governance/governance.js';
import { composeAndGovern } from '../supergraph/compose-and-govern.js';
import { loadSupergraphConfig } from '../config/supergraph-config.js';
import { ConfigError } from '../config/config-error.js';
import { buildContracts } from '../contracts/contracts.js';
import { contractsToCheck } from '../contracts/contracts-to-check.js';
import { runCli } from './run-cli.js';

export async function main(args: string[], io: CliIo): Promise<number | void> {
  const { values } = parseCliOrThrow({
    usage: 'npm run compose -- [--config supergraph.yaml] [--output supergraph.graphql] [--rules FILE]',
    summary: `Composes the subgraphs listed in a supergraph.yaml (Rover's format) in-process with
@apollo/composition, runs the mesh's governance rules on the result, and writes the supergraph SDL.
Composition errors, hints and rule violations are printed with their code, subgraphs and coordinate;
nothing is written when composition fails or a rule set to fail is violated (exit code 1).`,
    options: {
      config: { type: 'string', value: 'FILE', default: 'supergraph.yaml', description: 'the subgraphs to compose' },
      output: { type: 'string', value: 'FILE', default: 'supergraph.graphql', description: 'where to write the supergraph SDL' },
      rules: { type: 'string', value: 'FILE', description: 'governance rule severities (default: gateway/governance/rules.yaml)' },
      'gateway-config': { type: 'string', value: 'FILE', description: 'gateway settings whose contracts must hold (default: $GATEWAY_CONFIG, else gateway/gateway.yaml for this repository\'s supergraph.yaml)' },
    },
    examples: ['npm run compose', 'npm run compose -- --config other.yaml --output out.graphql'],
  }, args);
  const config = loadSupergraphConfig(values.config!);
  const severities = loadRuleSeverities(values.rules ?? DEFAULT_RULES_FILE);
  try {
    // Computational governance: the mesh's global rules (gateway/governance/rules.ts) on what was composed.
    const { supergraph, hints, governance } = await composeAndGovern(config, { severities });
    for (const hint of hints) io.out(formatCompositionMessage(hint));
    for (const v of governance.violations) (v.severity === 'fail' ? io.err : io.out)(formatViolation(v));
    const failures = governance.violations.filter((v) => v.severity === 'fail').length;
    io.out(`governance: ${governance.rules.length} rules checked, ${failures} failure(s), ${governance.violations.length - failures} warning(s)`);
    if (governance.failed) {
      io.err(`${values.config}: governance failed with ${failures} violation(s); ${values.output} was not written`);
      return 1;
    }
    // The gateway's contracts (gateway.yaml `contracts`) must hold for this supergraph.
    const toCheck = contractsToCheck(values.config!, values['gateway-config']);
    try {
      const contracts = toCheck ? buildContracts(supergraph, toCheck.settings, toCheck.file) : new Map();
      for (const c of contracts.values()) io.out(`contract ${c.name}: ${c.fields.size} fields, served at ${c.path}`);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      io.err(error.message);
      io.err(`${values.config}: a contract fails; ${values.output} was not written`);
      return 1;
    }
    writeFileSync(values.output!, supergraph.sdl);
    io.out(`composed ${config.subgraphs.length} subgraphs (${config.subgraphs.map((s) => s.name).join(', ')}) into ${values.output}` +
      (hints.length ? ` with ${hints.length} hint(s)` : ''));
  } catch (error) {
    if (!(error instanceof CompositionFailed)) throw error;
    for (const message of error.messages) io.err(formatCompositionMessage(message));
    io.err(`${values.config}: composition failed with ${error.messages.length} error(s); ${values.output} was not written`);
    return 1;
  }
}

runCli(main, import.meta.url);
