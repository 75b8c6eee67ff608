/** loopcheck's version, read once from package.json (reports and --version are stamped with it). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from './native.js';

export const VERSION: string = (JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
