#!/usr/bin/env node
// Writes the read API's OpenAPI document (src/http/read-api/openapi.ts, built) to
// docs/openapi/read-api.json, where the console and scripts read it. Run after `npm run build`.
import { writeFileSync } from 'node:fs';
import { OPENAPI } from '../dist/src/http/read-api/openapi.js';

writeFileSync(new URL('../docs/openapi/read-api.json', import.meta.url), `${JSON.stringify(OPENAPI, null, 2)}\n`);
