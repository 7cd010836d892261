import { Kind, parse, print, visit, type DocumentNode } from 'graphql';

/**
 * @apollo/gateway refuses any supergraph whose `@link`s say `for: SECURITY` (it cannot enforce
 * them). We do enforce them, before the gateway sees the operation, so the copy handed to
 * ApolloGateway keeps the links and directives but drops that purpose.
 */
export function stripSecurityLinkPurposes(supergraph: string | DocumentNode, sdl?: string): string {
  let changed = false;
  const document = visit(typeof supergraph === 'string' ? parse(supergraph) : supergraph, {
    Directive(node) {
      if (node.name.value !== 'link') return undefined;
      const args = node.arguments ?? [];
      const kept = args.filter((a) => !(a.name.value === 'for' && a.value.kind === Kind.ENUM && a.value.value === 'SECURITY'));
      if (kept.length === args.length) return undefined;
      changed = true;
      return { ...node, arguments: kept };
    },
  });
  if (changed) return print(document);
  return typeof supergraph === 'string' ? supergraph : (sdl ?? print(supergraph));
}
