// Prints the closing line CI reads: "tests: N passed, N failed[, N skipped]" from a JUnit XML file.
import { readFileSync } from 'node:fs';

const file = process.argv[2];
let xml = '';
try {
  xml = readFileSync(file, 'utf8');
} catch {
  console.log('tests: 0 passed, 1 failed');
  process.exit(0);
}
const cases = xml.match(/<testcase\b[\s\S]*?(?:\/>|<\/testcase>)/g) ?? [];
let failed = 0;
let skipped = 0;
for (const c of cases) {
  if (/<(failure|error)\b/.test(c)) failed++;
  else if (/<skipped\b/.test(c)) skipped++;
}
const passed = cases.length - failed - skipped;
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
