// Renders a drift check's result (src/apply/drift.ts) the way Terraform reports objects changed
// outside it: a block printed before the plan, one `~` entry per difference.
import type { Drift } from '../apply/drift.js';
import type { Style } from './plan-view.js';

/** '' when there is no drift, so callers can print it unconditionally. */
export function renderDrift(drifts: readonly Drift[], st: Style): string {
  if (drifts.length === 0) return '';
  const lines = [
    st.bold(st.yellow('Drift detected:')) + ' ~ note: objects changed outside ioasform',
    '',
    'The backend no longer matches the state recorded by the last apply:',
    '',
  ];
  for (const d of drifts) {
    lines.push(`  ${st.yellow('~')} ${d.address}  ${st.dim(`# ${d.kind}`)}`, `      recorded: ${d.recorded}`, `      now:      ${d.actual}`);
  }
  lines.push('', `${drifts.length} ${drifts.length === 1 ? 'difference' : 'differences'}. The plan below is computed from the recorded state; applying it does not repair drift by itself.`, '');
  return `${lines.join('\n')}\n`;
}
