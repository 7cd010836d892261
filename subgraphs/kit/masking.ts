import { defaultFieldResolver, GraphQLError, isObjectType, type DocumentNode, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { outputFields } from '../mesh/data-products/accessors.js';
import { declaredFields } from '../mesh/data-products/classification.js';
import type { DataProduct } from '../mesh/data-products/descriptor.js';
import { applyMask, type MaskSpec } from '../mesh/data-products/masks.js';
import type { ForwardedIdentity } from '../mesh/identity.js';

/** Raised (as the field's error) when the gateway asks for a field masked that declares no mask. */
export const MASK_NOT_DECLARED = 'MASK_NOT_DECLARED';

/**
 * Masking in the resolver layer, generically, from the descriptor: the gateway forwards, in the
 * signed identity, the coordinates this caller may only see masked (`identity.masked`); for each
 * one this subgraph resolves, the field's resolver result goes through the mask its descriptor
 * declares before it leaves the subgraph. So the unmasked value is never sent to the gateway for
 * such a caller, whatever the domain's resolvers do.
 *
 * Fails closed: a classified field the gateway says is masked but whose descriptor declares no
 * mask (the gateway's catalog was out of date) is refused with MASK_NOT_DECLARED, never served.
 * For every other request the wrapper costs one property read.
 */
export function withMasking(schema: GraphQLSchema, products: readonly DataProduct[], typeDefs: DocumentNode): GraphQLSchema {
  const masks = new Map<string, MaskSpec>();
  for (const product of products) {
    if (product.status === 'retired') continue;
    for (const { coordinate, property } of outputFields(product)) if (property.mask) masks.set(coordinate, property.mask);
  }
  const classified = new Set<string>();
  for (const [coordinate, field] of declaredFields(typeDefs)) if (field.classification && !field.external) classified.add(coordinate);

  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('_')) continue;
    for (const field of Object.values(type.getFields())) {
      const coordinate = `${type.name}.${field.name}`;
      const mask = masks.get(coordinate);
      if (!mask && !classified.has(coordinate)) continue;
      field.resolve = maskingResolver(coordinate, mask ?? null, field.resolve ?? defaultFieldResolver);
    }
  }
  return schema;
}

function maskingResolver(coordinate: string, mask: MaskSpec | null, resolve: GraphQLFieldResolver<unknown, unknown>): GraphQLFieldResolver<unknown, unknown> {
  return (source, args, context, info) => {
    const masked = (context as { identity?: ForwardedIdentity } | undefined)?.identity?.masked;
    if (masked === undefined || !masked.has(coordinate)) return resolve(source, args, context, info);
    if (mask === null) {
      throw new GraphQLError(`${coordinate} may only be read masked, and its data product declares no mask`, { extensions: { code: MASK_NOT_DECLARED } });
    }
    const value = resolve(source, args, context, info);
    return isPromiseLike(value) ? Promise.resolve(value).then((v) => applyMask(mask, v)) : applyMask(mask, value);
  };
}

const isPromiseLike = (value: unknown): value is PromiseLike<unknown> => typeof (value as PromiseLike<unknown> | null)?.then === 'function';
