/**
 * Prints a development token signed with JWT_SECRET (or the development default):
 *   npm run token -- --scope "customers:pii:read sales:read" --claim department=finance
 * Options: --sub <subject>, --expires <1h|30m|seconds>, --claim k=v (repeatable).
 */
import { parseCliOrThrow, type CliIo } from '../../subgraphs/mesh/cli-args.js';
import { mintToken } from '../authentication/mint-token.js';
import { ConfigError } from '../config/config-error.js';
import { DEV_JWT_SECRET } from '../config/gateway-config.js';
import { runCli } from './run-cli.js';

export async function main(args: string[], io: CliIo): Promise<number | void> {
  const { values } = parseCliOrThrow({
    usage: 'npm run token -- [--scope "a b"] [--claim name=value]... [--sub NAME] [--expires 1h]',
    summary: `Prints a development JWT (HS256) signed with JWT_SECRET, or with the development default when it
is not set (accepted only by a gateway on that default). Send it as \`Authorization: Bearer <token>\`.
JWT_ISSUER and JWT_AUDIENCE, when set, become its iss and aud.`,
    options: {
      scope: { type: 'string', value: '"a b"', default: '', description: 'space-separated scopes (the scope claim)' },
      claim: { type: 'string', value: 'name=value', multiple: true, default: [], description: 'any other claim a policy or row-level rule reads' },
      sub: { type: 'string', value: 'NAME', default: 'developer', description: 'the subject' },
      expires: { type: 'string', value: 'TIME', default: '1h', description: 'lifetime: 30m, 1h, 2d… or seconds' },
    },
    examples: ['npm run token -- --scope "customers:pii:read sales:read" --claim department=finance', 'npm run token -- --claim region=EUROPE --sub alice --expires 30m'],
  }, args);
  const claims: Record<string, unknown> = {};
  for (const pair of values.claim!) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new ConfigError('--claim', pair, 'expected name=value');
    claims[pair.slice(0, at)] = pair.slice(at + 1);
  }
  let secret = process.env.JWT_SECRET;
  if (!secret) {
    io.err('warning: JWT_SECRET is not set; signing with the DEVELOPMENT secret (accepted only by a gateway running on its development default)');
    secret = DEV_JWT_SECRET;
  }
  const expires = /^\d+$/.test(values.expires!) ? Math.floor(Date.now() / 1000) + Number(values.expires) : values.expires!;
  io.out(
    await mintToken({
      secret,
      subject: values.sub,
      scopes: values.scope!.split(/\s+/).filter(Boolean),
      claims,
      expiresIn: expires,
      issuer: process.env.JWT_ISSUER,
      audience: process.env.JWT_AUDIENCE,
    }),
  );
}

runCli(main, import.meta.url);
