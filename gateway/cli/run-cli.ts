import { cliUsageExitCode, isCliEntry, processIo, type CliIo, type CliMain } from '../../subgraphs/mesh/cli-args.js';
import { ConfigError } from '../config/config-error.js';

/**
 * A CLI's main in-process (tests, embedding): `--help` and usage errors (exit 2) and a user's
 * mistake (one `error:` line, exit 1) become the exit code; a bug is thrown.
 */
export async function runMain(main: CliMain, args: string[], io: CliIo): Promise<number> {
  try {
    return (await main(args, io)) ?? 0;
  } catch (error) {
    const code = cliUsageExitCode(error, io);
    if (code !== undefined) return code;
    if (error instanceof ConfigError || (error as { code?: string })?.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      io.err(`error: ${(error as Error).message}`);
      return 1;
    }
    throw error;
  }
}

/**
 * Runs a CLI's main when its module is the program (not when imported): its exit code becomes the
 * process's; help, a usage error or a user's mistake end it at once; a bug prints its stack, exit 1.
 */
export function runCli(main: CliMain, moduleUrl: string): void {
  if (!isCliEntry(moduleUrl)) return;
  let done = false;
  runMain(
    async (args, io) => {
      const code = await main(args, io);
      done = true;
      return code;
    },
    process.argv.slice(2),
    processIo,
  ).then(
    (code) => {
      if (!done) process.exit(code);
      if (code) process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
