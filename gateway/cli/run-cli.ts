import { ConfigError } from '../config/config-error.js';

/** Runs a CLI's main: a user's mistake prints one clear line and exits 1; a bug prints its stack. */
export function runCli(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    if (error instanceof ConfigError || (error as { code?: string })?.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      console.error(`error: ${(error as Error).message}`);
    } else {
      console.error(error);
    }
    process.exit(1);
  });
}
