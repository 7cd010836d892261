/** A setting (flag or environment variable) with a wrong value; the message names the setting. */
export class SettingsError extends Error {}

/** A numeric setting, e.g. `parseNumber(env.GATEWAY_PORT, 'GATEWAY_PORT / --port', { integer: true })`. */
export function parseNumber(value: string, name: string, { integer = false, min = 0 } = {}): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    throw new SettingsError(`${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got "${value}"`);
  }
  return n;
}
