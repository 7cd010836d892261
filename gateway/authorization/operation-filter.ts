import {
  isAbstractType,
  Kind,
  valueFromASTUntyped,
  type DirectiveNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLOutputType,
  type OperationDefinitionNode,
  type SelectionNode,
} from 'graphql';
import type { OperationShape, SetShape } from '../operation/operation-shape.js';
import { possibleTypeNames, TypeSetInterner } from '../operation/type-sets.js';
import { isUnrestricted, type Requirement } from './requirement.js';
import { errorPaths, type ErrorEntry, type ErrorLevel } from './unauthorized-paths.js';
import { Deduplicated, dropUnusedVariables, isExcluded } from './filter-helpers.js';
import type { SecurityIndex } from './security-index.js';

/**
 * Where the filtered operation's response gets its `null`s, one object level at a time: a graph
 * of levels shared like the operation's fragments, so it is as small as the document.
 */
export interface NullPlan {
  readonly id: number;
  readonly nulls: readonly NullEntry[];
  /** The filter added `__typename` at this level (to evaluate type conditions): strip it, except on these types, whose client asked for it. */
  readonly strip: ReadonlySet<string> | null;
}

export interface NullEntry {
  readonly responseKey: string;
  readonly type: GraphQLOutputType;
  /** Only objects of these types (the type conditions in force); null = every object. */
  readonly onlyFor: ReadonlySet<string> | null;
  /** null: the field was removed and becomes null here; else descend into its value. */
  readonly next: NullPlan | null;
  /**
   * For a removed field whose response key another kept selection at the same level still
   * provides: what to apply inside the value instead of nulling it (its own removed children).
   */
  readonly ifProvided?: NullPlan | null;
}

export interface FilterOutcome {
  /** The operation to plan and execute; the original when nothing was removed. */
  document: DocumentNode;
  changed: boolean;
  /** Paths of unauthorized fields and fragments (response keys, `@` for list items), one error each. */
  unauthorizedPaths: (string | number)[][];
  /** More than MAX_REPORTED_PATHS (unauthorized-paths.ts) paths were unauthorized: the rest are not listed. */
  truncated: boolean;
  /** Null placement for the response; null when nothing was removed. */
  plan: NullPlan | null;
  /** Every root field was removed: nothing to execute. */
  empty: boolean;
  /** Coordinates (`Type.field`) the executed operation selects: what the response can contain. */
  coordinates: ReadonlySet<string>;
  /** What was denied: field coordinates and protected type names (for metrics; bounded by the schema). */
  denied: readonly string[];
}

/**
 * The identity-independent part of an operation, computed once per (document, operation name)
 * over its shape (each selection set once, however often fragments are spread): the distinct
 * requirements it touches. Deciding for a request is then a handful of set lookups; the filtered
 * document itself is cached per decision pattern.
 */
export class OperationAnalysis {
  readonly requirements: Requirement[] = [];
  /** Variables that @skip/@include depend on: their values are part of the decision key. */
  readonly conditionVariables: string[] = [];
  /** Per set id, per selection: the requirement's id, or -1 when there is none. */
  readonly requirementIds: Int32Array[] = [];
  /**
   * Default values of the operation's variables. A variable the request leaves out takes its
   * default (GraphQL's coercion rules), so `@include(if: $e)` with `$e: Boolean = false` and no
   * `e` excludes the field: it must not be checked (nor reported, nor refused in reject mode).
   */
  private readonly defaults = new Map<string, unknown>();
  private readonly outcomes = new Map<string, FilterOutcome>();
  private unchanged: FilterOutcome | null = null;

  constructor(
    readonly index: SecurityIndex,
    readonly shape: OperationShape,
  ) {
    const ids = new Map<Requirement, number>();
    const idOf = (r: Requirement) => {
      if (isUnrestricted(r)) return -1;
      let id = ids.get(r);
      if (id === undefined) {
        id = this.requirements.length;
        this.requirements.push(r);
        ids.set(r, id);
      }
      return id;
    };
    const conditionVariables = new Set<string>();
    for (const set of shape.sets) {
      const row = new Int32Array(set.selections.length).fill(-1);
      set.selections.forEach((selection, i) => {
        for (const d of selection.node.directives ?? []) {
          if (d.name.value !== 'skip' && d.name.value !== 'include') continue;
          const value = d.arguments?.find((a) => a.name.value === 'if')?.value;
          if (value?.kind === Kind.VARIABLE) conditionVariables.add(value.name.value);
        }
        if (selection.kind === 'field' && selection.field) row[i] = idOf(index.fieldRequirement(set.parent.name, selection.field));
        else if (selection.kind === 'fragment' && selection.condition !== set.parent) row[i] = idOf(index.typeRequirement(selection.condition));
      });
      this.requirementIds[set.id] = row;
    }
    this.conditionVariables = [...conditionVariables];
    for (const d of shape.operation.variableDefinitions ?? []) {
      if (d.defaultValue) this.defaults.set(d.variable.name.value, valueFromASTUntyped(d.defaultValue));
    }
  }

  /** Decides for one request: `allowed[i]` says whether requirement i is satisfied. */
  decide(allowed: boolean[], requestVariables: Record<string, unknown> | undefined): FilterOutcome {
    // The values execution will see: what the request gives, else the definition's default.
    const values = this.conditionVariables.map((v) => (requestVariables && Object.hasOwn(requestVariables, v) ? requestVariables[v] : this.defaults.get(v)));
    let key = '';
    for (const a of allowed) key += a ? '1' : '0';
    if (values.length) key += JSON.stringify(values);
    let outcome = this.outcomes.get(key);
    if (!outcome) {
      const variables = Object.fromEntries(this.conditionVariables.map((v, i) => [v, values[i]]));
      outcome = allowed.every(Boolean) ? this.unchangedOutcome() : new Filter(this, allowed, variables).run();
      // Bounded: one entry per grant pattern and condition values actually seen.
      if (this.outcomes.size >= 16) this.outcomes.delete(this.outcomes.keys().next().value!);
      this.outcomes.set(key, outcome);
    }
    return outcome;
  }

  unchangedOutcome(): FilterOutcome {
    if (!this.unchanged) {
      const coordinates = new Set<string>();
      for (const set of this.shape.sets) for (const s of set.selections) if (s.kind === 'field' && s.coordinate) coordinates.add(s.coordinate);
      this.unchanged = { document: this.shape.document, changed: false, unauthorizedPaths: [], truncated: false, plan: null, empty: false, coordinates, denied: [] };
    }
    return this.unchanged;
  }
}

/** What filtering one selection set gives, relative to it (memoized per set: fragments cost once). */
interface SetResult {
  selections: readonly SelectionNode[];
  /** `selections` is not the original array. */
  changed: boolean;
  nulls: NullEntry[];
  errors: ErrorEntry[];
  /** Some null lies under a narrowing type condition: the level needs each object's `__typename`. */
  narrowed: boolean;
  /** Types (of this set's parent) whose objects get a `__typename` the client selected. */
  asked: ReadonlySet<string> | null;
  /** Response keys the kept selections still provide: for every object (null) or objects of these types. */
  provided: Map<string, ReadonlySet<string> | null>;
  /** Coordinates kept here, and the sets kept below (for the catalog's lineage). */
  coordinates: string[];
  below: SetShape[];
}

interface LevelResult {
  result: SetResult;
  selections: readonly SelectionNode[];
  plan: NullPlan | null;
  errors: ErrorLevel | null;
}

const TYPENAME: FieldNode = { kind: Kind.FIELD, name: { kind: Kind.NAME, value: '__typename' } };
const SKIP_ALWAYS: DirectiveNode = {
  kind: Kind.DIRECTIVE,
  name: { kind: Kind.NAME, value: 'skip' },
  arguments: [{ kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: 'if' }, value: { kind: Kind.BOOLEAN, value: true } }],
};

class Filter {
  private readonly sets = new Map<number, SetResult>();
  private readonly levels = new Map<number, LevelResult>();
  private readonly types = new TypeSetInterner();
  private ids = 0;
  private denied = false;
  private readonly deniedElements = new Set<string>();

  constructor(
    private readonly analysis: OperationAnalysis,
    private readonly allowed: boolean[],
    private readonly variables: Record<string, unknown>,
  ) {}

  run(): FilterOutcome {
    const { shape } = this.analysis;
    const root = this.level(shape.root);
    // Everything denied was left out by @skip/@include: nothing to change.
    if (!this.denied) return this.analysis.unchangedOutcome();
    const operation: OperationDefinitionNode = { ...shape.operation, selectionSet: { kind: Kind.SELECTION_SET, selections: root.selections } };
    const fragments = this.usedFragments(root.selections);
    const document: DocumentNode = { kind: Kind.DOCUMENT, definitions: [dropUnusedVariables(operation, fragments), ...fragments] };
    return {
      document,
      changed: true,
      ...errorPaths(root.errors),
      plan: root.plan,
      empty: root.selections.length === 0,
      coordinates: this.keptCoordinates(shape.root),
      denied: [...this.deniedElements],
    };
  }

  private isAllowed(set: SetShape, i: number): boolean {
    const id = this.analysis.requirementIds[set.id]![i]!;
    return id < 0 || this.allowed[id]!;
  }

  /** An object level (the operation's root, or a field's selection set): adds `__typename` where nulls need it. */
  private level(set: SetShape): LevelResult {
    let level = this.levels.get(set.id);
    if (level) return level;
    const result = this.set(set);
    let selections = result.selections;
    const nulls = this.unlessProvided(set, result);
    let strip: ReadonlySet<string> | null = null;
    const hasTypename = selections.some((s) => s.kind === Kind.FIELD && s.name.value === '__typename' && !s.alias && !isExcluded(s, this.variables));
    if (nulls.some((e) => e.onlyFor !== null) && selections.length > 0 && !hasTypename) {
      selections = [...selections, TYPENAME];
      strip = result.asked ?? this.types.intern([]);
    }
    const plan = nulls.length || strip ? { id: ++this.ids, nulls, strip } : null;
    const errors = result.errors.length ? { id: ++this.ids, entries: result.errors } : null;
    level = { result, selections, plan, errors };
    this.levels.set(set.id, level);
    return level;
  }

  private set(set: SetShape): SetResult {
    const known = this.sets.get(set.id);
    if (known) return known;
    const schema = this.analysis.index.schema;
    const out: SelectionNode[] = [];
    const nulls = new Deduplicated<NullEntry>();
    const errors = new Deduplicated<ErrorEntry>();
    const coordinates: string[] = [];
    const below: SetShape[] = [];
    let narrowed = false;
    let asked: Set<string> | null = null;
    let changed = false;
    let excludedDropped = false;
    const provided = new Map<string, ReadonlySet<string> | null>();
    const provide = (key: string, types: ReadonlySet<string> | null) => {
      const before = provided.get(key);
      if (before === null) return;
      provided.set(key, types === null || before === undefined ? types : this.types.intern([...before, ...types]));
    };
    const ask = (types: Iterable<string>) => {
      asked ??= new Set();
      for (const t of types) asked.add(t);
    };

    set.selections.forEach((selection, i) => {
      const node = selection.node;
      // A selection that @skip/@include leaves out is neither checked nor reported. Leaves stay
      // as written; anything with fragments inside goes (it would not run anyway).
      if (isExcluded(node, this.variables)) {
        if (node.kind === Kind.FIELD && !node.selectionSet) out.push(node);
        else changed = excludedDropped = true;
        return;
      }
      if (selection.kind === 'unknown') {
        out.push(node);
        return;
      }
      if (selection.kind === 'field') {
        if (!selection.field) {
          // __typename and introspection are never filtered.
          out.push(node);
          provide(selection.responseKey, null);
          if (selection.node.name.value === '__typename' && !selection.node.alias) ask(possibleTypeNames(schema, set.parent));
          return;
        }
        const type = selection.type!;
        if (!this.isAllowed(set, i)) {
          this.denied = changed = true;
          this.deniedElements.add(selection.coordinate!);
          nulls.add({ responseKey: selection.responseKey, type, onlyFor: null, next: null, ifProvided: null }, this.nullKey(selection.responseKey, null, null));
          errors.add({ responseKey: selection.responseKey, type, next: null }, `${selection.responseKey}|`);
          return;
        }
        coordinates.push(selection.coordinate!);
        if (!selection.children) {
          out.push(node);
          provide(selection.responseKey, null);
          return;
        }
        const child = this.level(selection.children);
        if (child.errors) errors.add({ responseKey: selection.responseKey, type, next: child.errors }, `${selection.responseKey}|${child.errors.id}`);
        if (child.selections.length === 0) {
          // Nothing left to ask for: the field itself goes, and comes back null.
          changed = true;
          nulls.add(
            { responseKey: selection.responseKey, type, onlyFor: null, next: null, ifProvided: child.plan },
            `${this.nullKey(selection.responseKey, null, null)}|${child.plan?.id ?? ''}`,
          );
          return;
        }
        below.push(selection.children);
        provide(selection.responseKey, null);
        if (child.plan) nulls.add({ responseKey: selection.responseKey, type, onlyFor: null, next: child.plan }, this.nullKey(selection.responseKey, null, child.plan));
        if (child.selections === selection.children.node.selections) out.push(node);
        else {
          changed = true;
          out.push({ ...(node as FieldNode), selectionSet: { kind: Kind.SELECTION_SET, selections: child.selections } });
        }
        return;
      }
      // A fragment: dropped whole when its type condition is protected and not granted.
      if (!this.isAllowed(set, i)) {
        this.denied = changed = true;
        this.deniedElements.add(selection.condition.name);
        errors.add({ responseKey: null, type: null, next: null }, '|');
        return;
      }
      const inner = this.set(selection.children);
      const narrowing = selection.condition !== set.parent && isAbstractType(set.parent);
      const within = possibleTypeNames(schema, selection.condition);
      for (const e of inner.nulls) {
        const onlyFor = narrowing ? this.types.intersect(e.onlyFor, within) : e.onlyFor;
        nulls.add(onlyFor === e.onlyFor ? e : { ...e, onlyFor }, `${this.nullKey(e.responseKey, onlyFor, e.next)}|${e.ifProvided?.id ?? ''}`);
      }
      for (const e of inner.errors) errors.add(e, `${e.responseKey ?? ''}|${e.next?.id ?? ''}`);
      if (inner.narrowed || (narrowing && inner.nulls.length > 0)) narrowed = true;
      if (inner.asked) ask(inner.asked);
      if (inner.selections.length === 0) {
        changed = true;
        return;
      }
      below.push(selection.children);
      for (const [key, types] of inner.provided) provide(key, narrowing ? (types === null ? this.types.intern(within) : this.types.intersect(types, within)) : types);
      if (selection.name !== null || !inner.changed) out.push(node);
      else {
        changed = true;
        out.push({ ...selection.node, selectionSet: { kind: Kind.SELECTION_SET, selections: inner.selections } } as SelectionNode);
      }
    });

    // Only @skip/@include emptied this set: keep it a valid, empty object (`{}`), not a null.
    if (out.length === 0 && excludedDropped && nulls.items.length === 0 && errors.items.length === 0) {
      out.push({ ...TYPENAME, directives: [SKIP_ALWAYS] });
    }
    const result: SetResult = {
      selections: changed ? out : set.node.selections,
      changed,
      nulls: nulls.items,
      errors: errors.items,
      narrowed,
      asked,
      provided,
      coordinates,
      below,
    };
    this.sets.set(set.id, result);
    return result;
  }

  /**
   * A removed field's key may still come back from another kept selection at the same level
   * (`{ users { name } users { secret } }`, or `label` on an interface denied but allowed through
   * `... on Book`): those objects keep the value (with the removed field's own nulls inside), and
   * only the others get the null.
   */
  private unlessProvided(set: SetShape, result: SetResult): NullEntry[] {
    if (result.provided.size === 0 || !result.nulls.some((e) => e.next === null && result.provided.has(e.responseKey))) return result.nulls;
    const out: NullEntry[] = [];
    for (const e of result.nulls) {
      const provided = e.next === null ? result.provided.get(e.responseKey) : undefined;
      if (provided === undefined) {
        out.push(e);
        continue;
      }
      const all = possibleTypeNames(this.analysis.index.schema, set.parent);
      const kept = provided === null ? (e.onlyFor ?? null) : this.types.intersect(e.onlyFor, provided);
      if (provided !== null) {
        const rest = this.types.intern([...(e.onlyFor ?? all)].filter((t) => !provided.has(t)));
        if (rest.size > 0) out.push({ responseKey: e.responseKey, type: e.type, onlyFor: rest, next: null });
      }
      if (e.ifProvided && (kept === null || kept.size > 0)) out.push({ responseKey: e.responseKey, type: e.type, onlyFor: kept, next: e.ifProvided });
    }
    return out;
  }

  private nullKey(responseKey: string, onlyFor: ReadonlySet<string> | null, next: NullPlan | null): string {
    return `${responseKey}|${this.types.idOf(onlyFor)}|${next?.id ?? ''}`;
  }

  /** The fragment definitions the filtered operation still spreads, each rewritten once. */
  private usedFragments(rootSelections: readonly SelectionNode[]): FragmentDefinitionNode[] {
    const { shape } = this.analysis;
    const shapes = new Map<string, SetShape>();
    for (const set of shape.sets) for (const s of set.selections) if (s.kind === 'fragment' && s.name !== null) shapes.set(s.name, s.children);
    const used: FragmentDefinitionNode[] = [];
    const seen = new Set<string>();
    const pending: (readonly SelectionNode[])[] = [rootSelections];
    while (pending.length) {
      for (const selection of pending.pop()!) {
        if (selection.kind === Kind.FRAGMENT_SPREAD) {
          const name = selection.name.value;
          if (seen.has(name)) continue;
          seen.add(name);
          const definition = shape.fragments.get(name);
          const set = shapes.get(name);
          if (!definition || !set) continue;
          const selections = this.sets.get(set.id)?.selections ?? definition.selectionSet.selections;
          used.push(selections === definition.selectionSet.selections ? definition : { ...definition, selectionSet: { kind: Kind.SELECTION_SET, selections } });
          pending.push(selections);
        } else if (selection.selectionSet) pending.push(selection.selectionSet.selections);
      }
    }
    return used;
  }

  /** Coordinates the filtered operation still selects: the catalog's lineage of this response. */
  private keptCoordinates(root: SetShape): Set<string> {
    const coordinates = new Set<string>();
    const seen = new Set<number>([root.id]);
    const pending = [root];
    while (pending.length) {
      const result = this.sets.get(pending.pop()!.id);
      if (!result) continue;
      for (const c of result.coordinates) coordinates.add(c);
      for (const set of result.below) if (!seen.has(set.id)) seen.add(set.id), pending.push(set);
    }
    return coordinates;
  }
}
