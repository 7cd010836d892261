// Hive Gateway as its own federation benchmark runs it: `--jit` on the command line plus
// inbound in-flight request deduplication (identical concurrent requests share one execution).
import { gatewayConfig as defaults } from './defaults.config.mjs';

export const gatewayConfig = {
  ...defaults,
  inboundInflightRequestDeduplication: true,
};
