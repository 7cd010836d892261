import { Kind, parse, print, visit } from 'graphql';

/**
 * @apollo/gateway refuses any supergraph whose `@link`s say `for: SECURITY` (it cannot enforce
 * them). We do enforce them, before the gateway sees the operation, so the copy handed to
 * ApolloGateway keeps the links and directives but drops that purpose.
 */
export function stripSecurityLinkPurposes(supergraphSdl: string): string {
  let changed = false;
  const document = visit(parse(supergraphSdl), {
    Directive(node) {
      if (node.name.value !== 'link') return undefined;
      const args = node.arguments ?? [];
      const kept = args.filter((a) => !(a.name.value === 'for' && a.value.kind === Kind.ENUM && a.value.value === 'SECURITY'));
      if (kept.length === args.length) return undefined;
      changed = true;
      return { ...node, arguments: kept };
    },
  });
  return changed ? print(document) : supergraphSdl;
}
