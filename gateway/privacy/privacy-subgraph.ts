import { LocalGraphQLDataSource } from '@apollo/gateway';
import { buildSubgraphSchema } from '@apollo/subgraph';
import {
  GraphQLError,
  Kind,
  parse,
  type ConstDirectiveNode,
  type DefinitionNode,
  type DocumentNode,
  type FieldDefinitionNode,
  type ObjectTypeDefinitionNode,
  type SchemaDefinitionNode,
  type SchemaExtensionNode,
} from 'graphql';
import { classificationDirectiveName, GOVERNANCE_SPEC_URL } from '../../subgraphs/mesh/data-products/classification.js';
import type { AuditContext } from '../audit/audit-plugin.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { RequestIdentity } from '../authentication/request-identity.js';
import { graftSubgraph } from '../catalog/merge-supergraph.js';
import { Supergraph } from '../supergraph/supergraph.js';
import { AUDIT_SCOPE, PRIVACY_FIELD_DIRECTIVES, PRIVACY_SUBGRAPH_NAME, PRIVACY_TYPE_DEFS, SUBJECT_ACCESS_SCOPE } from './privacy-schema.js';
import type { SubjectAccess, SubjectAccessReport } from './subject-access.js';

// The request's cancellation (gateway/server/cancellation.ts): a real AbortSignal on demand, for fetch.
type Context = AuditContext & RequestIdentity & { signal?: { asAbortSignal(): AbortSignal } };

const REQUIRES_SCOPES_SPEC = 'https://specs.apollo.dev/requiresScopes/';

/**
 * The supergraph with the privacy subgraph's root fields added, each carrying its
 * `@requiresScopes` and `@classification` (the spec links and definitions are added when the
 * supergraph lacks them), so authorization and the audit trail treat them like any field.
 */
export function graftPrivacy(main: Supergraph): Supergraph {
  const grafted = graftSubgraph(main.document, { name: PRIVACY_SUBGRAPH_NAME, url: `in-process://${PRIVACY_SUBGRAPH_NAME}`, typeDefs: parse(PRIVACY_TYPE_DEFS) });
  return Supergraph.fromDocument(withFieldDirectives(grafted));
}

function withFieldDirectives(document: DocumentNode): DocumentNode {
  const definitions = [...document.definitions];
  const schemaAt = definitions.findIndex((d) => d.kind === Kind.SCHEMA_DEFINITION);
  if (schemaAt < 0) throw new Error('the supergraph has no schema definition');
  const links: ConstDirectiveNode[] = [];
  const added: DefinitionNode[] = [];
  const hasType = (name: string) => definitions.some((d) => 'name' in d && d.name?.value === name && d.kind !== Kind.DIRECTIVE_DEFINITION);

  let scopes = requiresScopesName(document);
  if (scopes === null) {
    scopes = 'requiresScopes';
    const purpose = hasType('link__Purpose') ? ', for: SECURITY' : '';
    links.push(schemaLink(`@link(url: "${REQUIRES_SCOPES_SPEC}v0.1"${purpose})`));
    added.push(
      ...parse(`directive @requiresScopes(scopes: [[requiresScopes__Scope!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM\nscalar requiresScopes__Scope`).definitions,
    );
  }
  let classification = classificationDirectiveName(document);
  if (classification === null) {
    classification = 'classification';
    links.push(schemaLink(`@link(url: "${GOVERNANCE_SPEC_URL}", import: ["@classification"])`));
    added.push(...parse('directive @classification(level: ClassificationLevel!, pii: Boolean! = false) on FIELD_DEFINITION').definitions);
    if (!hasType('ClassificationLevel')) added.push(...parse('enum ClassificationLevel { PUBLIC INTERNAL CONFIDENTIAL RESTRICTED }').definitions);
  }
  const schema = definitions[schemaAt] as SchemaDefinitionNode;
  definitions[schemaAt] = { ...schema, directives: [...(schema.directives ?? []), ...links] };

  const queryAt = definitions.findIndex((d) => d.kind === Kind.OBJECT_TYPE_DEFINITION && d.name.value === 'Query');
  const query = definitions[queryAt] as ObjectTypeDefinitionNode;
  definitions[queryAt] = {
    ...query,
    fields: query.fields?.map((field): FieldDefinitionNode => {
      const d = PRIVACY_FIELD_DIRECTIVES[field.name.value];
      if (!d || !field.directives?.some((j) => j.name.value === 'join__field' && j.arguments?.some((a) => a.value.kind === Kind.ENUM && a.value.value === PRIVACY_SUBGRAPH_NAME.toUpperCase()))) return field;
      const text = `@${scopes}(scopes: ${JSON.stringify(d.scopes)}) @${classification}(level: ${d.classification.level}, pii: ${d.classification.pii})`;
      return { ...field, directives: [...(field.directives ?? []), ...fieldDirectives(text)] };
    }),
  };
  return { ...document, definitions: [...definitions, ...added] };
}

/** What the supergraph calls `@requiresScopes` (null when it does not link the spec). */
function requiresScopesName(document: DocumentNode): string | null {
  for (const def of document.definitions) {
    if (def.kind !== Kind.SCHEMA_DEFINITION && def.kind !== Kind.SCHEMA_EXTENSION) continue;
    for (const link of def.directives ?? []) {
      const url = link.arguments?.find((a) => a.name.value === 'url')?.value;
      if (link.name.value !== 'link' || url?.kind !== Kind.STRING || !url.value.startsWith(REQUIRES_SCOPES_SPEC)) continue;
      const as = link.arguments?.find((a) => a.name.value === 'as')?.value;
      return as?.kind === Kind.STRING ? as.value : 'requiresScopes';
    }
  }
  return null;
}

const schemaLink = (text: string): ConstDirectiveNode => (parse(`extend schema ${text}`).definitions[0] as SchemaExtensionNode).directives![0]!;
const fieldDirectives = (text: string): ConstDirectiveNode[] =>
  [...((parse(`type T { f: Int ${text} }`).definitions[0] as ObjectTypeDefinitionNode).fields![0]!.directives ?? [])];

/**
 * The privacy subgraph's resolvers. The gateway's authorization already refused callers without
 * the scopes (the directives above); the resolvers check again, so that a supergraph whose
 * authorization were misconfigured still reveals nothing.
 */
export function privacyDataSource(args: { audit: AuditLog | null; subjectAccess: SubjectAccess | null }): LocalGraphQLDataSource {
  const need = (context: Context, scope: string) => {
    if (!context.caller?.scopes.has(scope)) throw new GraphQLError(`Needs the scope ${scope}`, { extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE' } });
  };
  const schema = buildSubgraphSchema([
    {
      typeDefs: parse(PRIVACY_TYPE_DEFS),
      resolvers: {
        Query: {
          auditEvents: (_: unknown, q: { first: number; after?: string | null; subject?: string | null; since?: string | null }, context: Context) => {
            need(context, AUDIT_SCOPE);
            if (!args.audit) throw new GraphQLError('The audit trail is disabled (audit.enabled: false)', { extensions: { code: 'AUDIT_DISABLED' } });
            if (!Number.isInteger(q.first) || q.first < 1 || q.first > 500) throw badInput('first must be between 1 and 500');
            const after = q.after ? Number(q.after) : 0;
            if (!Number.isInteger(after) || after < 0) throw badInput('after must be an endCursor from a previous page');
            if (q.since && Number.isNaN(Date.parse(q.since))) throw badInput('since must be an ISO-8601 instant, e.g. 2026-01-01T00:00:00Z');
            const page = args.audit.query({ first: q.first, after, subject: q.subject ?? null, since: q.since ? new Date(q.since).toISOString() : null });
            return { events: page.events, endCursor: page.events.length ? String(page.events.at(-1)!.seq) : (q.after ?? null), hasNextPage: page.hasNextPage };
          },
          subjectAccess: async (_: unknown, { customerId }: { customerId: string }, context: Context) => {
            need(context, SUBJECT_ACCESS_SCOPE);
            const subjectAccess = args.subjectAccess;
            if (!subjectAccess) throw new GraphQLError('This supergraph has no Customer entity to report on', { extensions: { code: 'SUBJECT_ACCESS_UNAVAILABLE' } });
            const sub = context.caller.claims.sub;
            // The audit event of this response names whose data was reported.
            context.auditDetails = { ...context.auditDetails, subjectAccess: { subjectType: subjectAccess.subjectType, customerId } };
            const report: SubjectAccessReport = await subjectAccess.report(customerId, context.identityHeader, typeof sub === 'string' ? sub : null, context.signal?.asAbortSignal());
            return { ...report, products: report.sections };
          },
        },
      } as never,
    },
  ]);
  return new LocalGraphQLDataSource(schema);
}

const badInput = (message: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
