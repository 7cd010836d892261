import { GraphQLError } from 'graphql';
import type { FilterOutcome } from './operation-filter.js';
import { purposeAllows, type Requirement } from './requirement.js';

/**
 * Purpose limitation beside authorization: a field of a data product whose `@purposes` do not
 * include the request's purpose (X-Data-Purpose, or the governance file's default) is removed
 * before planning like an unauthorized one (null, one error each, reject and dry_run alike), with
 * its own code.
 */
export const PURPOSE_NOT_ALLOWED = 'PURPOSE_NOT_ALLOWED';

/** Per requirement, whether the purpose allows it; null when every one does (the usual case: no extra work). */
export function purposeVerdicts(requirements: readonly Requirement[], purpose: string): boolean[] | null {
  let verdicts: boolean[] | null = null;
  requirements.forEach((r, i) => {
    if (purposeAllows(r, purpose)) return;
    verdicts ??= requirements.map(() => true);
    verdicts[i] = false;
  });
  return verdicts;
}

const key = (path: readonly (string | number)[]) => path.join('\u0000');

/**
 * One error per removed path: UNAUTHORIZED_FIELD_OR_TYPE where authorization alone removes it
 * (`authorizedOnly`: the outcome without purposes; null when no purpose refused anything),
 * PURPOSE_NOT_ALLOWED where only the purpose does.
 */
export function refusalErrors(outcome: FilterOutcome, authorizedOnly: FilterOutcome | null, purpose: string): GraphQLError[] {
  const unauthorized = authorizedOnly && new Set(authorizedOnly.unauthorizedPaths.map(key));
  const purposeMessage = purpose
    ? `Purpose not allowed: "${purpose}" is not a purpose of this field's data product`
    : "Purpose not allowed: this field's data product needs a declared purpose (X-Data-Purpose)";
  const errors = outcome.unauthorizedPaths.map((path) =>
    unauthorized === null || unauthorized.has(key(path))
      ? new GraphQLError('Unauthorized field or type', { path, extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE' } })
      : new GraphQLError(purposeMessage, { path, extensions: { code: PURPOSE_NOT_ALLOWED, purpose } }),
  );
  if (outcome.truncated) {
    errors.push(new GraphQLError('More unauthorized fields or types than are listed', { extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE' } }));
  }
  return errors;
}
