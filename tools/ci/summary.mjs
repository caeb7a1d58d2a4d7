// Turns vitest's JSON report into the plain closing line CI reads: "N passed, N failed".
// Exits non-zero when the report is missing, a test or a file failed, or no test ran at all.
import { existsSync, readFileSync } from "node:fs";

const file = process.argv[2] ?? ".cache/test-report.json";
if (!existsSync(file)) {
  console.log("no test report: the test run did not finish");
  console.log("0 passed, 1 failed");
  process.exit(1);
}
const report = JSON.parse(readFileSync(file, "utf8"));
const passed = report.numPassedTests ?? 0;
// A file that failed without a failed test (it did not load, or a beforeAll threw and its
// tests were skipped) counts as one failure.
const fileFailed = (r) => r.status === "failed" && !(r.assertionResults ?? []).some((a) => a.status === "failed");
const failedFiles = (report.testResults ?? []).filter(fileFailed).length;
const failed = (report.numFailedTests ?? 0) + failedFiles;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
for (const result of report.testResults ?? []) {
  for (const a of result.assertionResults ?? []) if (a.status === "failed") console.log(`FAILED: ${a.fullName}`);
  if (fileFailed(result)) console.log(`FAILED (file): ${result.name}: ${(result.message ?? "").slice(0, 500)}`);
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
