/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self time per function and per
 * package, to see where a gateway spends its CPU under load.
 *
 *   npx tsx bench/profile.ts FILE.cpuprofile [--top 30]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  functions: { name: string; location: string; selfMs: number; percent: number }[];
  packages: { name: string; selfMs: number; percent: number }[];
}

/** Where a script URL belongs: an npm package, node's internals, or this project's own code. */
export function packageOf(url: string): string {
  if (!url) return '(native / V8)';
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const m = /\/(gateway|subgraphs|bench)\/(.*)$/.exec(url);
  if (m) return `project:${m[1]}/${m[2]!.split('/')[0]}`;
  return url.replace(/^file:\/\//, '');
}

export function summariseProfile(profile: CpuProfile, top = 30): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  let total = 0;
  let idle = 0;
  const functions = new Map<string, { name: string; location: string; selfMs: number }>();
  const packages = new Map<string, number>();
  for (const [id, micros] of self) {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    const ms = micros / 1000;
    total += ms;
    if (functionName === '(idle)') idle += ms;
    const path = url.replace(/^file:\/\//, '');
    const short = path.includes('/node_modules/') ? path.replace(/^.*\/node_modules\//, '') : path.replace(/^.*\/(gateway|subgraphs|bench)\//, '$1/');
    const location = url ? `${short}:${lineNumber + 1}` : '';
    const key = `${functionName}|${location}`;
    const entry = functions.get(key) ?? { name: functionName || '(anonymous)', location, selfMs: 0 };
    entry.selfMs += ms;
    functions.set(key, entry);
    const pkg = /^\(.*\)$/.test(functionName) ? functionName : packageOf(url);
    packages.set(pkg, (packages.get(pkg) ?? 0) + ms);
  }
  const busy = total - idle;
  const pct = (ms: number) => (busy > 0 ? (ms / busy) * 100 : 0);
  return {
    totalMs: total,
    idleMs: idle,
    functions: [...functions.values()]
      .filter((f) => f.name !== '(idle)')
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, top)
      .map((f) => ({ ...f, percent: pct(f.selfMs) })),
    packages: [...packages.entries()]
      .filter(([name]) => name !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, selfMs]) => ({ name, selfMs, percent: pct(selfMs) })),
  };
}

export function formatProfileSummary(s: ProfileSummary): string {
  const lines = [
    `profile: ${(s.totalMs / 1000).toFixed(1)} s sampled, ${(s.idleMs / 1000).toFixed(1)} s idle; percentages are of busy (non-idle) time`,
    '',
    'self time by package',
    ...s.packages.map((p) => `  ${p.percent.toFixed(1).padStart(5)}%  ${(p.selfMs / 1000).toFixed(2).padStart(7)} s  ${p.name}`),
    '',
    'self time by function',
    ...s.functions.map((f) => `  ${f.percent.toFixed(1).padStart(5)}%  ${(f.selfMs / 1000).toFixed(2).padStart(7)} s  ${f.name}  ${f.location}`),
  ];
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' } } });
  if (positionals.length !== 1) {
    console.error('usage: tsx bench/profile.ts FILE.cpuprofile [--top N]');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(positionals[0]!, 'utf8')) as CpuProfile;
  console.log(formatProfileSummary(summariseProfile(profile, Number(values.top))));
}
