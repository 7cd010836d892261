import {
  getNamedType,
  isCompositeType,
  isInterfaceType,
  isObjectType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type FragmentSpreadNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLOutputType,
  type GraphQLSchema,
  type InlineFragmentNode,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import { OperationError } from './operation-error.js';

/**
 * An operation with every selection resolved against the schema, as a graph of shared nodes:
 * each selection set of the document becomes exactly one `SetShape`, and a fragment spread points
 * at its fragment's one shape instead of copying it. So the shape's size is the document's size,
 * never the size of its expansion (a fragment spread twice per level over 30 levels is 60 spreads
 * here, not 2^30 fields), and every pass over it (authorization, limits, cost, the catalog's
 * lineage) can be memoized per shape and stay linear in the request.
 *
 * A selection set's parent type is fixed by where it stands in the document (a field's return type,
 * a fragment's type condition), so one shape per selection set is exact.
 */
export interface SetShape {
  /** Dense id, for memo tables: 0..sets.length-1. */
  readonly id: number;
  readonly node: SelectionSetNode;
  readonly parent: GraphQLCompositeType;
  /** One entry per `node.selections`, same order. */
  readonly selections: readonly SelectionShape[];
}

export type SelectionShape = FieldShape | FragmentShape | UnknownShape;

export interface FieldShape {
  readonly kind: 'field';
  readonly node: FieldNode;
  readonly responseKey: string;
  /** The schema field; null for `__typename`, introspection, and fields selected on a union. */
  readonly field: GraphQLField<unknown, unknown> | null;
  /** `Type.field` of a schema field (null when `field` is). */
  readonly coordinate: string | null;
  readonly type: GraphQLOutputType | null;
  readonly children: SetShape | null;
}

export interface FragmentShape {
  readonly kind: 'fragment';
  readonly node: InlineFragmentNode | FragmentSpreadNode;
  /** The named fragment, for spreads. */
  readonly name: string | null;
  /** The type condition (the parent's type when there is none). */
  readonly condition: GraphQLCompositeType;
  readonly children: SetShape;
}

/** A selection the schema does not know (validation refuses these; kept so nothing is lost). */
export interface UnknownShape {
  readonly kind: 'unknown';
  readonly node: SelectionNode;
}

export interface OperationShape {
  readonly document: DocumentNode;
  readonly operation: OperationDefinitionNode;
  readonly root: SetShape;
  /** Every selection set reachable from the operation, each once (index = id). */
  readonly sets: readonly SetShape[];
  /** The fragment definitions reachable from the operation, by name. */
  readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>;
}

/** Picks the operation a request runs, as GraphQL's execution does; a coded 400 when it can't. */
export function selectOperation(document: DocumentNode, operationName: string | null | undefined): OperationDefinitionNode {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (operationName) {
    const named = operations.find((o) => o.name?.value === operationName);
    if (!named) throw new OperationError(`Unknown operation named "${operationName}".`, 'OPERATION_RESOLUTION_FAILURE');
    return named;
  }
  if (operations.length === 0) throw new OperationError('The document contains no operation.', 'OPERATION_RESOLUTION_FAILURE');
  if (operations.length > 1) {
    throw new OperationError('Must provide operation name if query contains multiple operations.', 'OPERATION_RESOLUTION_FAILURE');
  }
  return operations[0]!;
}

export function rootTypeOf(schema: GraphQLSchema, operation: OperationDefinitionNode): GraphQLCompositeType {
  const root =
    operation.operation === 'mutation' ? schema.getMutationType() : operation.operation === 'subscription' ? schema.getSubscriptionType() : schema.getQueryType();
  if (!root) throw new OperationError(`The schema has no ${operation.operation} type.`, 'GRAPHQL_VALIDATION_FAILED');
  return root;
}

/** Builds the shape of one operation of a document: linear in the document's size. */
export function shapeOperation(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined): OperationShape {
  const operation = selectOperation(document, operationName);
  const definitions = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION && !definitions.has(d.name.value)) definitions.set(d.name.value, d);

  const sets: SetShape[] = [];
  const byNode = new Map<SelectionSetNode, SetShape>();
  /** Fragments whose shape is being built: meeting one again is a cycle (validation refuses those too). */
  const building = new Set<string>();
  const reached = new Map<string, FragmentDefinitionNode>();

  const shapeSet = (node: SelectionSetNode, parent: GraphQLCompositeType): SetShape => {
    const known = byNode.get(node);
    if (known) return known;
    const selections: SelectionShape[] = [];
    const set: SetShape = { id: sets.length, node, parent, selections };
    sets.push(set);
    byNode.set(node, set);
    for (const selection of node.selections) selections.push(shapeSelection(selection, parent));
    return set;
  };

  const shapeSelection = (selection: SelectionNode, parent: GraphQLCompositeType): SelectionShape => {
    if (selection.kind === Kind.FIELD) {
      const name = selection.name.value;
      const responseKey = selection.alias?.value ?? name;
      const field = !name.startsWith('__') && (isObjectType(parent) || isInterfaceType(parent)) ? parent.getFields()[name] : undefined;
      if (!field) {
        if (name.startsWith('__') || !selection.selectionSet) return { kind: 'field', node: selection, responseKey, field: null, coordinate: null, type: null, children: null };
        return { kind: 'unknown', node: selection };
      }
      const named = getNamedType(field.type);
      const children = selection.selectionSet && isCompositeType(named) ? shapeSet(selection.selectionSet, named) : null;
      return { kind: 'field', node: selection, responseKey, field, coordinate: `${parent.name}.${name}`, type: field.type, children };
    }
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      const condition = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
      if (!condition || !isCompositeType(condition)) return { kind: 'unknown', node: selection };
      return { kind: 'fragment', node: selection, name: null, condition, children: shapeSet(selection.selectionSet, condition) };
    }
    const name = selection.name.value;
    const definition = definitions.get(name);
    const condition = definition && schema.getType(definition.typeCondition.name.value);
    if (!definition || !condition || !isCompositeType(condition)) return { kind: 'unknown', node: selection };
    if (building.has(name)) throw new OperationError(`Cannot spread fragment "${name}" within itself.`, 'GRAPHQL_VALIDATION_FAILED');
    reached.set(name, definition);
    building.add(name);
    try {
      return { kind: 'fragment', node: selection, name, condition, children: shapeSet(definition.selectionSet, condition) };
    } finally {
      building.delete(name);
    }
  };

  let root: SetShape;
  try {
    root = shapeSet(operation.selectionSet, rootTypeOf(schema, operation));
  } catch (error) {
    // Nesting is bounded by the parser's recursion limit; this is the last line of defence.
    if (error instanceof RangeError) throw new OperationError('The operation is nested too deeply.', 'MAX_DEPTH_LIMIT');
    throw error;
  }
  return { document, operation, root, sets, fragments: reached };
}

/** Visits every selection of every set once (not once per use): for context-free facts. */
export function* allSelections(shape: OperationShape): Generator<[SetShape, SelectionShape]> {
  for (const set of shape.sets) for (const selection of set.selections) yield [set, selection];
}
