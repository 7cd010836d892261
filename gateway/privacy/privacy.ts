import type { LocalGraphQLDataSource } from '@apollo/gateway';
import type { ApolloServerPlugin } from '@apollo/server';
import type { Logger } from '../../subgraphs/mesh/logger.js';
import { auditPlugin } from '../audit/audit-plugin.js';
import { auditOffByEnvironment, AuditLog, type AuditSettings } from '../audit/audit-log.js';
import type { Catalog } from '../catalog/catalog.js';
import { parseDuration, type GatewaySettings } from '../config/gateway-settings.js';
import { FieldMasking } from '../masking/field-masking.js';
import { MaskingPolicy, maskingFileBeside } from '../masking/masking-policy.js';
import type { Supergraph } from '../supergraph/supergraph.js';
import { PRIVACY_SUBGRAPH_NAME } from './privacy-schema.js';
import { graftPrivacy, privacyDataSource } from './privacy-subgraph.js';
import { SubjectAccess } from './subject-access.js';

export interface PrivacyOptions {
  /** Overrides of the `audit` settings (tests give each gateway its own store). */
  audit?: Partial<AuditSettings>;
}

export interface Privacy {
  /** The supergraph served: the catalog's, with `auditEvents` and `subjectAccess`. */
  readonly supergraph: Supergraph;
  /** For the authorizer (masked fields count as authorized) and the plugins. */
  readonly masking: FieldMasking;
  readonly audit: AuditLog | null;
  dataSource(name: string): LocalGraphQLDataSource | undefined;
  /** extensions.masked and the masked identity; the audit trail. */
  readonly plugins: ApolloServerPlugin<any>[];
  close(): void;
}

/**
 * Privacy by construction, for one supergraph: masking (rules in the governance directory's
 * masking.yaml, masks in the descriptors), the audit trail of sensitive reads, and the subject
 * access report, served by an in-process subgraph grafted onto the supergraph.
 */
export function startPrivacy(args: {
  /** The catalog's supergraph (the domains' fields, classified). */
  supergraph: Supergraph;
  catalog: Catalog;
  policiesFile: string;
  signingKey: string;
  settings: GatewaySettings;
  log: Logger;
  options?: PrivacyOptions;
  /** The gateway's audit log, shared by every supergraph it serves (one hash chain); opened here when absent. */
  audit?: AuditLog | null;
}): Privacy {
  const served = graftPrivacy(args.supergraph);
  // Masking rules govern the domains' fields (the privacy fields are protected by their scopes alone).
  const policy = MaskingPolicy.load(maskingFileBeside(args.policiesFile), args.supergraph.facts.classifications);
  for (const warning of policy.warnings) args.log.warn(`masking: ${warning}`);
  const masking = new FieldMasking(policy, served.security, () => args.catalog.snapshot().masks, args.signingKey);

  const owned = args.audit === undefined;
  const audit = owned ? openAudit(args.settings, args.options, args.log) : args.audit!;

  let subjectAccess: SubjectAccess | null = null;
  try {
    subjectAccess = new SubjectAccess(args.supergraph, () => args.catalog.snapshot());
  } catch (error) {
    args.log.info('subject access reports are not available for this supergraph', { reason: (error as Error).message });
  }
  const dataSource = privacyDataSource({ audit, subjectAccess });
  args.log.info('privacy ready', {
    maskingRules: policy.rules.length,
    governedFields: policy.governed.size,
    audit: audit ? audit.path : 'disabled',
    subjectAccess: subjectAccess !== null,
  });

  return {
    supergraph: served,
    masking,
    audit,
    dataSource: (name) => (name === PRIVACY_SUBGRAPH_NAME ? dataSource : undefined),
    plugins: [
      masking.plugin,
      ...(audit ? [auditPlugin({ log: audit, classifications: served.facts.classifications, masked: (caller) => masking.effective(caller) })] : []),
    ],
    close: () => {
      if (owned) audit?.close();
    },
  };
}

/** The audit log the settings ask for (null when off): one per gateway, whatever reloads. */
export function openAudit(settings: GatewaySettings, options: PrivacyOptions | undefined, log: Logger): AuditLog | null {
  const s = settings.audit;
  const resolved: AuditSettings = { enabled: s.enabled, path: s.path, flushIntervalMs: parseDuration(s.flush_interval, 'settings', 'audit.flush_interval'), fsync: s.fsync, ...options?.audit };
  return resolved.enabled && !auditOffByEnvironment(resolved.path) ? AuditLog.open(resolved, log) : null;
}
