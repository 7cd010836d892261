/**
 * A configuration mistake a user can fix: it names the file and the key, and the CLIs print it
 * without a stack trace and exit non-zero.
 */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly key: string | null,
    problem: string,
  ) {
    super(`${file}${key ? `: ${key}` : ''}: ${problem}`);
    this.name = 'ConfigError';
  }
}
