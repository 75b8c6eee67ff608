// Prints the closing line CI reads: "tests: N passed, N failed[, N skipped]" from JUnit XML files.
import { readFileSync } from 'node:fs';

// Every file named (npm test's, test:wine's); a missing file counts as one failure.
let xml = '';
let missing = 0;
for (const file of process.argv.slice(2)) {
  try {
    xml += readFileSync(file, 'utf8');
  } catch {
    missing++;
  }
}
const cases = xml.match(/<testcase\b[\s\S]*?(?:\/>|<\/testcase>)/g) ?? [];
let failed = missing;
let skipped = 0;
for (const c of cases) {
  if (/<(failure|error)\b/.test(c)) failed++;
  else if (/<skipped\b/.test(c)) skipped++;
}
const passed = cases.length - (failed - missing) - skipped;
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
