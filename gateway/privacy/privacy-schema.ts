/**
 * The privacy part of the graph, served by an in-process subgraph grafted onto the supergraph at
 * start (like the catalog): the audit trail and the subject access report. The directives that
 * protect and classify its root fields are added to the supergraph when it is grafted
 * (privacy-subgraph.ts), so the gateway's own authorization enforces them and the audit trail
 * records their reads.
 */
export const PRIVACY_SUBGRAPH_NAME = 'privacy';

export const AUDIT_SCOPE = 'governance:audit:read';
export const SUBJECT_ACCESS_SCOPE = 'privacy:subject-access';

/** Directives of the root fields in the served supergraph: who may read them, and how sensitive they are. */
export const PRIVACY_FIELD_DIRECTIVES: Record<string, { scopes: string[][]; classification: { level: string; pii: boolean } }> = {
  auditEvents: { scopes: [[AUDIT_SCOPE]], classification: { level: 'CONFIDENTIAL', pii: true } },
  subjectAccess: { scopes: [[SUBJECT_ACCESS_SCOPE]], classification: { level: 'RESTRICTED', pii: true } },
};

export const PRIVACY_TYPE_DEFS = /* GraphQL */ `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@shareable"])

"Any JSON value: a subject access report's data, an audit event's details."
scalar JSONValue

type Query {
  """
  The audit trail of sensitive reads: one event per response that returned a PII, CONFIDENTIAL or
  RESTRICTED value, oldest first, hash-chained (\`npm run audit -- verify\`). Needs the scope
  governance:audit:read; reading it is itself audited.
  """
  auditEvents(
    "At most this many events (1–500)."
    first: Int = 50
    "The endCursor of the previous page."
    after: String
    "Only events of this caller (the token's subject)."
    subject: String
    "Only events at or after this ISO-8601 instant."
    since: String
  ): AuditEventPage!

  """
  Everything every domain holds about one customer (GDPR art. 15), grouped by data product, with
  each product's lineage. Needs the scope privacy:subject-access; row-level rules and masks of the
  caller apply; the report is itself audited.
  """
  subjectAccess(customerId: ID!): SubjectAccessReport!
}

type AuditEventPage {
  events: [AuditEvent!]!
  "Pass as \`after\` for the next page."
  endCursor: String
  hasNextPage: Boolean!
}

"One response that returned sensitive values."
type AuditEvent {
  "Position in the hash chain (1, 2, 3…)."
  seq: Int!
  id: ID!
  "When the response was sent (ISO-8601)."
  at: String!
  "The caller (the token's subject); null when anonymous. Never the token."
  subject: String
  "The declared purpose (X-Data-Purpose); empty when none."
  purpose: String!
  operationName: String
  "SHA-256 of the operation's text."
  operationHash: String
  "The sensitive fields (Type.field) whose values the response returned."
  coordinates: [String!]!
  "Objects in the response that carried one of those values."
  rowCount: Int!
  "Some of the values were masked."
  masked: Boolean!
  maskedCoordinates: [String!]!
  "More about the read, e.g. the data subject of a subject access report."
  details: JSONValue
  previousHash: String!
  "SHA-256 over the previous hash and this event."
  hash: String!
}

type SubjectAccessReport {
  subjectType: String!
  customerId: ID!
  "Whether the domain that owns the customer record knows this customer."
  found: Boolean!
  generatedAt: String!
  "Who asked (the token's subject)."
  requestedBy: String
  "One section per data product that holds data about the customer."
  products: [SubjectAccessSection!]!
  "Domains that could not be read: the report is complete only when this is empty."
  incomplete: [SubjectAccessGap!]!
  "Fields the report cannot read generically (they need arguments, another subgraph's fields, or are abstract)."
  omitted: [SubjectAccessOmission!]!
}

type SubjectAccessSection {
  "The data product; null for fields no product declares."
  product: SubjectAccessProduct
  "The subgraph that holds the data and answered."
  subgraph: String!
  "The customer's fields this product holds (Type.field)."
  fields: [String!]!
  "Every field read for this section, nested ones included."
  coordinates: [String!]!
  "Records (objects) held, plus one for the customer's own values."
  records: Int!
  "The data as the domain holds it: { field: value }."
  data: JSONValue!
  lineage: SubjectAccessLineage!
}

type SubjectAccessProduct {
  id: ID!
  name: String!
  version: String!
  domain: String!
  owner: String
  contact: String
  "What the product is for (its descriptor's purpose)."
  purpose: String
}

type SubjectAccessLineage {
  "Where the data came from and how it was found."
  source: String!
  "Products this one returns or extends (through entity keys) or consumes."
  references: [SubjectAccessLineageLink!]!
  "Products this one is built from (ODPS input ports)."
  inputPorts: [String!]!
}

type SubjectAccessLineageLink {
  product: String!
  "RETURNS, EXTENDS or INPUT_PORT"
  kind: String!
  entity: String
  via: [String!]!
}

type SubjectAccessGap {
  subgraph: String!
  error: String!
}

type SubjectAccessOmission {
  coordinate: String!
  reason: String!
}
`;
