// Turns vitest's JSON report into the plain closing line CI reads: "N passed, N failed".
// Exits non-zero when the report is missing, a test failed, or no test ran at all.
import { existsSync, readFileSync } from "node:fs";

const file = process.argv[2] ?? ".cache/test-report.json";
if (!existsSync(file)) {
  console.log("no test report: the test run did not finish");
  console.log("0 passed, 1 failed");
  process.exit(1);
}
const report = JSON.parse(readFileSync(file, "utf8"));
const passed = report.numPassedTests ?? 0;
// A file that failed to load counts as a failure even though it ran no test.
const failedSuites = (report.testResults ?? []).filter(
  (r) => r.status === "failed" && (r.assertionResults ?? []).length === 0,
).length;
const failed = (report.numFailedTests ?? 0) + failedSuites;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
for (const result of report.testResults ?? []) {
  for (const a of result.assertionResults ?? []) if (a.status === "failed") console.log(`FAILED: ${a.fullName}`);
  if (result.status === "failed" && (result.assertionResults ?? []).length === 0)
    console.log(`FAILED (file): ${result.name}: ${result.message ?? ""}`);
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
