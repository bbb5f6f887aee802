import { parseDocument } from 'yaml';
import jsyaml from 'js-yaml';
for (const t of process.argv.slice(2).map(s => JSON.parse(`"${s}"`))) {
  const d = parseDocument(t, { intAsBigInt: true });
  let j; try { j = JSON.stringify(jsyaml.load(t)); } catch (e) { j = 'ERR ' + e.message.split('\n')[0]; }
  console.log(JSON.stringify(t), '| yaml:', d.errors.length ? 'ERR ' + d.errors[0].code : JSON.stringify(d.toJS(), (k, v) => typeof v === 'bigint' ? v.toString() : v), '| js:', j);
}
