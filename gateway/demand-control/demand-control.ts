import type { ApolloServerPlugin, GraphQLRequestContext } from '@apollo/server';
import type { Logger } from '../../subgraphs/mesh/logger.js';
import type { GatewaySettings } from '../config/gateway-settings.js';
import type { PreparedOperation } from '../operation/operation-cache.js';
import { OperationError } from '../operation/operation-error.js';
import type { OperationCheck, OperationContext } from '../operation/prepared-operation-plugin.js';
import type { Supergraph } from '../supergraph/supergraph.js';
import { ActualCost } from './actual-cost.js';
import { CostEstimator, type CostPlan } from './cost-estimator.js';
import { CostIndex } from './cost-index.js';

export type DemandControlSettings = GatewaySettings['demand_control'];

/** The request header that asks for `extensions.cost` in the response. */
export const COST_EXTENSIONS_HEADER = 'x-cost-extensions';

/** What a response's `extensions.cost` holds. */
export interface CostExtension {
  estimated: number;
  actual: number;
  max: number;
  mode: DemandControlSettings['mode'];
}

interface CostRecord {
  operation: string | null;
  estimated: number;
  plan: Compiled;
  refused: boolean;
}

interface Compiled {
  plan: CostPlan;
  actual: ActualCost;
}

/**
 * Demand control as Apollo Router does it (`demand_control`, strategy `static_estimated`):
 *
 * - before anything executes (an OperationCheck, in `didResolveOperation`), the operation's cost is
 *   estimated from the supergraph's `@cost` / `@listSize` and the request's variables; in `enforce`
 *   mode an estimate over `max` is refused with HTTP 400 and `COST_ESTIMATED_TOO_EXPENSIVE`, so no
 *   subgraph is contacted. In `measure` mode it runs and is logged (warn).
 * - after execution, the actual cost is computed from the response data and logged with the
 *   estimate (debug); `extensions.cost` = {estimated, actual, max, mode} is added when the request
 *   carries `x-cost-extensions: true` or `expose_in_extensions` is set.
 *
 * The cost index is built once per supergraph; each operation is compiled once (memoized on its
 * PreparedOperation), so a request only evaluates what its variables change.
 */
export class DemandControl {
  readonly estimator: CostEstimator;
  private readonly key = Symbol('demand control plan');
  private readonly records = new WeakMap<object, CostRecord>();

  constructor(
    supergraph: Supergraph,
    readonly settings: DemandControlSettings,
    private readonly log: Logger,
  ) {
    this.estimator = new CostEstimator(new CostIndex(supergraph.document, supergraph.schema), settings.strategy.static_estimated.list_size);
  }

  get max(): number {
    return this.settings.strategy.static_estimated.max;
  }

  /** The compiled cost of a prepared operation, made on first use and kept with it. */
  compiled(operation: PreparedOperation): Compiled {
    return operation.derive(this.key, (shape) => {
      const plan = this.estimator.compile(shape);
      return { plan, actual: new ActualCost(this.estimator.index, shape, plan) };
    });
  }

  /** This request's estimate (for metrics and the access log); undefined when none was made. */
  estimateOf(context: object): { estimated: number; refused: boolean } | undefined {
    const record = this.records.get(context as OperationContext);
    return record && { estimated: record.estimated, refused: record.refused };
  }

  /** The OperationCheck: estimates, and refuses in enforce mode. */
  readonly check: OperationCheck = {
    name: 'demand control',
    check: (operation: PreparedOperation, rc: GraphQLRequestContext<OperationContext>) => {
      if (!this.settings.enabled) return;
      const compiled = this.compiled(operation);
      const { cost, violation } = compiled.plan.estimate(rc.request.variables ?? {});
      const enforce = this.settings.mode === 'enforce';
      const record: CostRecord = { operation: rc.operationName ?? null, estimated: cost, plan: compiled, refused: false };
      this.records.set(rc.contextValue, record);
      if (violation && enforce) {
        record.refused = true;
        throw new OperationError(`Query could not be parsed: ${violation}`, 'COST_QUERY_PARSE_FAILURE');
      }
      if (cost > this.max && enforce) {
        record.refused = true;
        // Router's message and extension keys ("cost.estimated", "cost.max"), and the same as an object.
        throw new OperationError(`query estimated cost ${cost} exceeded configured maximum ${this.max}`, 'COST_ESTIMATED_TOO_EXPENSIVE', 400, {
          'cost.estimated': cost,
          'cost.max': this.max,
          cost: { estimated: cost, max: this.max },
        });
      }
    },
  };

  /** Actual cost, the log line and `extensions.cost`, once the response is ready. */
  readonly plugin: ApolloServerPlugin<OperationContext> = {
    requestDidStart: async () => {
      if (!this.settings.enabled) return;
      return {
        willSendResponse: async (rc) => {
          const record = this.records.get(rc.contextValue);
          if (!record || rc.response.body.kind !== 'single') return;
          const result = rc.response.body.singleResult;
          const overMax = record.estimated > this.max;
          const expose = this.settings.expose_in_extensions || rc.request.http?.headers.get(COST_EXTENSIONS_HEADER)?.trim().toLowerCase() === 'true';
          // Walking the response is linear but not free: only when something will read the result.
          const logged = overMax || debugEnabled();
          if (!expose && !logged) return;
          const actual = record.refused ? 0 : record.plan.actual.of(result.data, rc.request.variables ?? {});
          const fields = { operation: record.operation, estimated: record.estimated, actual, max: this.max, mode: this.settings.mode };
          if (overMax && !record.refused) this.log.warn('cost over max (measure mode: not refused)', fields);
          else if (logged) this.log.debug('cost', { ...fields, result: record.refused ? 'refused' : 'ok' });
          if (expose) {
            const cost: CostExtension = { estimated: record.estimated, actual, max: this.max, mode: this.settings.mode };
            result.extensions = { ...result.extensions, cost };
          }
        },
      };
    },
  };
}

/** Whether the mesh logger writes debug lines (it reads LOG_LEVEL on every call, so do we). */
const debugEnabled = () => process.env.LOG_LEVEL === 'debug';
