import { formatCompositionMessage } from '../composition/compose-supergraph.js';
import { formatViolation } from '../governance/governance.js';
import type { CheckResult } from './subgraph-check.js';

/** The human-readable report of `npm run check`: a table of changes, then failures and a verdict. */
export function formatCheckReport(r: CheckResult): string {
  const out: string[] = [];
  out.push(`Checking subgraph ${r.subgraph} against ${r.baseline.supergraph} (descriptor: ${r.baseline.descriptor})`);
  out.push(
    r.usage.found
      ? `Usage: ${r.usage.operations} operation(s) recorded in the last ${r.window.days} day(s)${r.usage.firstDay ? ` (since ${r.usage.firstDay})` : ''}, from ${r.usage.store}`
      : `Usage: no usage store at ${r.usage.store}: no breaking change can be shown unused`,
  );
  out.push('');
  if (r.composition.length) {
    out.push('Composition failed:');
    for (const m of r.composition) out.push(`  ${formatCompositionMessage(m)}`);
    out.push('');
  } else {
    out.push(r.changes.length ? table(r) : 'No changes to the API schema.');
    out.push('');
    const counts = { breaking: 0, dangerous: 0, safe: 0 };
    for (const c of r.changes) counts[c.level]++;
    const unused = r.changes.filter((c) => c.schemaLevel === 'breaking' && c.level === 'safe').length;
    out.push(`${r.changes.length} change(s): ${counts.breaking} breaking, ${counts.dangerous} dangerous, ${counts.safe} safe${unused ? ` (${unused} of them breaking but unused)` : ''}`);
    if (r.otherChanges.length) {
      const names = [...new Set(r.otherChanges.flatMap((c) => c.subgraphs))].sort();
      out.push(`${r.otherChanges.length} other change(s) since the baseline come from ${names.join(', ')} (not judged here: npm run check -- ${names[0]}):`);
      for (const c of r.otherChanges) out.push(`  ${c.level === 'breaking' ? 'BREAKING' : c.level.padEnd(8)}  ${c.coordinate} (${c.subgraphs.join(', ')}): ${c.message}`);
    }
    const failing = r.governance.filter((v) => v.severity === 'fail').length;
    out.push(`governance: ${failing} failure(s), ${r.governance.length - failing} warning(s)`);
    for (const v of r.governance) out.push(`  ${formatViolation(v)}`);
  }
  out.push('');
  if (r.passed) out.push(`PASS: subgraph ${r.subgraph} can be published.`);
  else {
    out.push(`FAIL: ${r.failures.length} problem(s):`);
    for (const f of r.failures) out.push(`  ${f.coordinate ?? '(no coordinate)'}: ${f.message}`);
  }
  return out.join('\n');
}

function table(r: CheckResult): string {
  const rows = r.changes.map((c) => [
    c.failed ? 'FAIL' : 'ok',
    c.level === 'safe' && c.schemaLevel === 'breaking' ? 'safe (unused)' : c.level === 'breaking' ? 'BREAKING' : c.level,
    c.coordinate,
    c.message,
    [c.usage?.text, ...c.products.map((p) => `${p.id} ${p.from} → ${p.to ?? 'removed'}${p.majorBump ? '' : ' (no major bump)'}`)].filter(Boolean).join('; ') || '-',
  ]);
  const header = ['RESULT', 'LEVEL', 'COORDINATE', 'CHANGE', 'EVIDENCE'];
  const widths = header.map((h, i) => Math.min(i === 3 ? 60 : 200, Math.max(h.length, ...rows.map((row) => row[i]!.length))));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
