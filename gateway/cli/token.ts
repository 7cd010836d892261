/**
 * Prints a development token signed with JWT_SECRET (or the development default):
 *   npm run token -- --scope "customers:pii:read sales:read" --claim department=finance
 * Options: --sub <subject>, --expires <1h|30m|seconds>, --claim k=v (repeatable).
 */
import { parseArgs } from 'node:util';
import { mintToken } from '../authentication/mint-token.js';
import { ConfigError } from '../config/config-error.js';
import { DEV_JWT_SECRET } from '../config/gateway-config.js';
import { runCli } from './run-cli.js';

runCli(async () => {
  const { values } = parseArgs({
    options: {
      scope: { type: 'string', default: '' },
      claim: { type: 'string', multiple: true, default: [] },
      sub: { type: 'string', default: 'developer' },
      expires: { type: 'string', default: '1h' },
    },
  });
  const claims: Record<string, unknown> = {};
  for (const pair of values.claim!) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new ConfigError('--claim', pair, 'expected name=value');
    claims[pair.slice(0, at)] = pair.slice(at + 1);
  }
  let secret = process.env.JWT_SECRET;
  if (!secret) {
    console.error('warning: JWT_SECRET is not set; signing with the DEVELOPMENT secret (accepted only by a gateway running on its development default)');
    secret = DEV_JWT_SECRET;
  }
  const expires = /^\d+$/.test(values.expires!) ? Math.floor(Date.now() / 1000) + Number(values.expires) : values.expires!;
  console.log(
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
});
