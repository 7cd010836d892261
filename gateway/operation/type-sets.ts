import { isAbstractType, type GraphQLCompositeType, type GraphQLSchema } from 'graphql';

const possibleBySchema = new WeakMap<GraphQLSchema, Map<string, ReadonlySet<string>>>();

/** The object types a value of `type` can be (itself, for an object type); cached per schema. */
export function possibleTypeNames(schema: GraphQLSchema, type: GraphQLCompositeType): ReadonlySet<string> {
  let byType = possibleBySchema.get(schema);
  if (!byType) possibleBySchema.set(schema, (byType = new Map()));
  let names = byType.get(type.name);
  if (!names) {
    names = new Set(isAbstractType(type) ? schema.getPossibleTypes(type).map((t) => t.name) : [type.name]);
    byType.set(type.name, names);
  }
  return names;
}

/**
 * Interns sets of type names so equal sets are one object: set identity can then key memo tables
 * and deduplicate entries without comparing contents again.
 */
export class TypeSetInterner {
  private readonly byKey = new Map<string, ReadonlySet<string>>();
  private readonly ids = new Map<ReadonlySet<string>, number>();

  intern(names: Iterable<string>): ReadonlySet<string> {
    const sorted = [...names].sort();
    const key = sorted.join(',');
    let set = this.byKey.get(key);
    if (!set) {
      set = new Set(sorted);
      this.byKey.set(key, set);
      this.ids.set(set, this.ids.size + 1);
    }
    return set;
  }

  /** 0 for "no restriction" (null). */
  idOf(set: ReadonlySet<string> | null): number {
    if (set === null) return 0;
    return this.ids.get(set) ?? this.ids.get(this.intern(set))!;
  }

  intersect(a: ReadonlySet<string> | null, b: ReadonlySet<string>): ReadonlySet<string> {
    if (a === null) return this.intern(b);
    return this.intern([...b].filter((x) => a.has(x)));
  }
}
