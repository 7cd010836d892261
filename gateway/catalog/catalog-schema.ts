/**
 * The catalog's part of the graph: `dataProducts` and `dataProduct(id:)` on the gateway's own
 * endpoint, served by an in-process subgraph composed into the supergraph at start. Reading it
 * needs no rights: the metadata is not secret, the data is.
 */
export const CATALOG_SUBGRAPH_NAME = 'catalog';

export const CATALOG_TYPE_DEFS = /* GraphQL */ `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@shareable"])

type Query {
  """
  The mesh's data products, from every domain's descriptor (data-products.yaml), with the
  authorization each field needs, measured freshness, latest quality results and lineage.
  Retired products are listed only when asked for by status.
  """
  dataProducts(
    "Only this domain's products."
    domain: String
    "Only products in this status (RETIRED lists the retired ones)."
    status: DataProductStatus
    "Case-insensitive text search in id, name, description, tags and output fields."
    search: String
  ): [DataProduct!]!

  "One data product by id, or null."
  dataProduct(id: ID!): DataProduct

  "Where the catalog got its metadata: one entry per subgraph of the supergraph."
  dataProductSources: [DataProductSource!]!
}

"""
A data product: a governed, documented part of the graph that one domain team owns and answers
for. Declared in the domain's data-products.yaml (Open Data Product Standard field names).
"""
type DataProduct {
  "Unique across the mesh, kebab-case."
  id: ID!
  name: String!
  "Semantic version of the product's contract; every response names the versions it used."
  version: String!
  "Null when the descriptor does not say (a governance rule requires it)."
  status: DataProductStatus
  domain: String!
  "The subgraph that serves it."
  subgraph: String!
  tags: [String!]!
  description: DataProductDescription!
  """
  The purposes it may be used for (its descriptor's purposes). A request declares its purpose in
  the X-Data-Purpose header (none: the governance file's default, "operations"); a request with
  another purpose is refused the product's fields (PURPOSE_NOT_ALLOWED). Empty: any purpose.
  """
  purposes: [String!]!
  owner: DataProductOwner!
  "Where consumers get help."
  support: [SupportChannel!]!
  sla: DataProductSla!
  "When a deprecated product will be removed (its endOfLife SLA property), YYYY-MM-DD."
  sunset: String
  "GraphQL types the product outputs, whole or in part."
  outputTypes: [String!]!
  "The root fields (Query.…) through which consumers reach the product."
  rootFields: [String!]!
  "Every output field, with its type, classification and the authorization it needs."
  fields(classification: ClassificationLevel, pii: Boolean): [DataProductField!]!
  "Age of the newest record, against the freshness SLA (null without a freshness target)."
  freshness: DataProductFreshness
  "The latest run of the product's quality rules."
  quality: DataProductQuality!
  "Other products this one references through entity keys, or that reference it."
  lineage: DataProductLineage!
  "Products this one is built from (ODPS input ports)."
  inputPorts: [DataProductInputPort!]!
  "Where the product is declared."
  descriptor: DescriptorLocation!
}

enum DataProductStatus {
  PROPOSED
  DRAFT
  ACTIVE
  DEPRECATED
  RETIRED
}

"Sensitivity levels of the mesh's data classification, from least to most sensitive."
enum ClassificationLevel {
  PUBLIC
  INTERNAL
  CONFIDENTIAL
  RESTRICTED
}

type DataProductDescription {
  "What the product is for."
  purpose: String
  "How to use it well."
  usage: String
  "What it does not do."
  limitations: String
}

type DataProductOwner {
  "The owning team."
  team: String
  "How to reach the owner: the first support channel, or the owner's e-mail."
  contact: String
  members: [TeamMember!]!
}

type TeamMember {
  username: String!
  name: String
  role: String
  email: String
}

type SupportChannel {
  channel: String!
  tool: String
  url: String
}

"Service-level targets (ODCS slaProperties)."
type DataProductSla {
  "Maximum age of the newest record."
  freshness: SlaTarget
  "Share of time the product answers, in percent."
  availability: SlaTarget
  "Response time target, in ms."
  latency: SlaTarget
  "The date the product will be removed (set when deprecated)."
  endOfLife: String
}

type SlaTarget {
  value: Float!
  unit: String!
  "For freshness: the table.column measured."
  element: String
  description: String
}

"One output field of a product, as the supergraph serves it."
type DataProductField {
  "Type.field"
  coordinate: String!
  typeName: String!
  fieldName: String!
  "The field's GraphQL type, e.g. [Order!]!"
  type: String!
  description: String
  classification: ClassificationLevel
  "Personal data."
  pii: Boolean!
  "A root field (Query.…): an entry point to the product."
  rootField: Boolean!
  "What a consumer needs to read it, read from the supergraph's @authenticated, @requiresScopes and @policy."
  authorization: FieldAuthorization!
  "The purposes a request may declare (X-Data-Purpose) to read it: the supergraph's @purposes on the field, its type and its return type. Null: any purpose."
  purposes: [String!]
  deprecated: Boolean!
  deprecationReason: String
  "When the deprecated field will be removed, YYYY-MM-DD."
  sunset: String
  "False when the supergraph does not serve it (e.g. the product is retired)."
  served: Boolean!
  "What a caller whom the masking rules (gateway/governance/masking.yaml) give only a masked view gets; null = no mask: such a caller gets nothing."
  mask: FieldMask
}

"A field's mask, declared in its data product's descriptor and applied by the subgraph that owns the field."
type FieldMask {
  "email, phone-last4, year-only, initials, redact, round or bucket"
  kind: String!
  description: String!
  "e.g. ola.nordmann@example.com → o***@example.com"
  example: String!
}

"""
Authorization with Apollo Router's semantics: scopes and policies are alternatives (OR) of sets
(AND); any requirement also needs a valid token.
"""
type FieldAuthorization {
  "e.g. public; authenticated; scopes: customers:pii:read; policies: finance_analyst OR executive"
  summary: String!
  "Readable without a token."
  public: Boolean!
  authenticated: Boolean!
  scopes: [[String!]!]
  policies: [[String!]!]
}

type DataProductFreshness {
  "The table.column whose newest value is measured."
  element: String!
  "Newest value of the element."
  lastUpdated: String
  ageSeconds: Float
  targetSeconds: Float!
  withinSla: Boolean
  "The clock the age is measured against."
  asOf: String!
  checkedAt: String!
}

enum QualityStatus {
  "Every rule passed."
  PASSED
  "A warning-level rule failed."
  WARNING
  "A critical rule failed or could not run."
  FAILED
  "Not measured yet, or the subgraph could not be reached."
  UNKNOWN
}

type DataProductQuality {
  status: QualityStatus!
  checkedAt: String
  asOf: String
  rules: Int!
  passed: Int!
  failed: Int!
  results: [QualityRuleResult!]!
}

enum QualitySeverity {
  CRITICAL
  WARNING
  INFO
}

enum QualityRuleStatus {
  PASSED
  FAILED
  ERROR
}

type QualityRuleResult {
  rule: String!
  description: String
  "nullValues, duplicateValues, invalidValues, rowCount, freshness or sql."
  metric: String!
  "The Type.field or Type the rule is about."
  coordinate: String!
  "The table.column or table measured."
  target: String!
  severity: QualitySeverity!
  dimension: String
  status: QualityRuleStatus!
  value: Float
  unit: String!
  "e.g. = 0 rows, < 25 percent, <= 2 d"
  expectation: String!
  message: String
  durationMs: Float!
}

type DataProductLineage {
  "Products this one depends on: it returns or extends their entities, or consumes them."
  references: [LineageLink!]!
  "Products that depend on this one."
  referencedBy: [LineageLink!]!
}

enum LineageKind {
  "A field of one product returns another product's entity (e.g. Order.customer)."
  RETURNS
  "A product adds fields to another product's entity (e.g. Customer.orders)."
  EXTENDS
  "A product declares another as an input port."
  INPUT_PORT
}

type LineageLink {
  product: DataProduct!
  kind: LineageKind!
  "The entity (or type) the link goes through; null for input ports."
  entity: String
  "The entity's key fields, e.g. id."
  key: String
  "The fields that make the link."
  via: [String!]!
}

type DataProductInputPort {
  name: String!
  version: String
  "The id of the product consumed."
  contractId: String
  "That product, when the mesh has it."
  product: DataProduct
}

type DescriptorLocation {
  file: String!
  line: Int!
}

type DataProductSource {
  subgraph: String!
  "The subgraph's catalog endpoint."
  url: String!
  "Resolves classified fields, i.e. follows the mesh's governance spec: only these are asked for their products."
  governed: Boolean!
  "Null when not asked."
  reachable: Boolean
  products: Int!
  fetchedAt: String
  error: String
}
`;
