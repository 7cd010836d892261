import { Kind, visit, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionNode, type ValueNode } from 'graphql';

/** Whether @skip/@include leave a selection out, given the request's variables (defaults applied). */
export function isExcluded(selection: SelectionNode, variables: Record<string, unknown>): boolean {
  for (const d of selection.directives ?? []) {
    if (d.name.value !== 'skip' && d.name.value !== 'include') continue;
    const value = conditionValue(d.arguments?.find((a) => a.name.value === 'if')?.value, variables);
    if (d.name.value === 'skip' && value === true) return true;
    if (d.name.value === 'include' && value === false) return true;
  }
  return false;
}

function conditionValue(value: ValueNode | undefined, variables: Record<string, unknown>): unknown {
  if (!value) return undefined;
  if (value.kind === Kind.BOOLEAN) return value.value;
  if (value.kind === Kind.VARIABLE) return variables[value.name.value];
  return undefined;
}

/** Variables used only by removed fields must go too, or the filtered operation would be invalid. */
export function dropUnusedVariables(operation: OperationDefinitionNode, fragments: readonly FragmentDefinitionNode[]): OperationDefinitionNode {
  const used = new Set<string>();
  const collect = { Variable: (v: { name: { value: string } }) => void used.add(v.name.value) };
  visit(operation.selectionSet, collect);
  for (const d of operation.directives ?? []) visit(d, collect);
  for (const f of fragments) visit(f.selectionSet, collect);
  const definitions = operation.variableDefinitions?.filter((d) => used.has(d.variable.name.value));
  return definitions?.length === operation.variableDefinitions?.length ? operation : { ...operation, variableDefinitions: definitions };
}

/** A list without repeats, by a key: fragments spread several times at one level contribute once. */
export class Deduplicated<T> {
  readonly items: T[] = [];
  private readonly keys = new Set<string>();
  add(item: T, key: string): void {
    if (this.keys.has(key)) return;
    this.keys.add(key);
    this.items.push(item);
  }
}
