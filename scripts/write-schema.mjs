// Writes schema/layout.schema.json from the compiled schema object (run after `npm run build`).
import { writeFileSync } from 'node:fs';
import { LAYOUT_SCHEMA } from '../dist/config/layout-schema.js';

writeFileSync(new URL('../schema/layout.schema.json', import.meta.url), `${JSON.stringify(LAYOUT_SCHEMA, null, 2)}\n`);
