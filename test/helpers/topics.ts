/** Test helper: see tools/kafka/topics.ts (shared with the benchmarks). */
export { createTopic } from "../../tools/kafka/topics.js";
