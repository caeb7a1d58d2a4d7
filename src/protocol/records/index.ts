/**
 * Record batches (magic v2): the builder the producer encodes into, the decoder the consumer
 * reads fetched bytes with, their shared layout, CRC-32C and the compression codecs.
 */
export { BatchHeaderWalk, type RecordSetScan, scanBatchHeaders } from "./batch-headers.js";
export {
  buildEndTxnMarkerBatch,
  type EndTxnMarkerOptions,
  RecordBatchBuilder,
  type RecordBatchBuilderOptions,
  type RecordData,
  type RecordHeaderInput,
  type RecordInput,
  rewriteProducerState,
} from "./builder.js";
export {
  type CompressionCodec,
  CompressionCodecId,
  codecFromAttributes,
  compress,
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  DecompressionBudget,
  type DecompressionLimit,
  decompress,
} from "./compression/index.js";
export { crc32c, crc32cImplementation } from "./crc32c.js";
export {
  type BatchRecord,
  type ControlRecord,
  type DecodeRecordBatchesOptions,
  decodeRecordBatches,
  decodeRecordBatchesSync,
  type EncodedRecords,
  nextOffset,
  type RecordBatch,
  type RecordHeader,
  recordOffset,
  recordTimestamp,
} from "./decoder.js";
export {
  ControlRecordType,
  RECORD_BATCH_HEADER_SIZE,
  type TimestampType,
  varlongSize,
  writeVarlong,
} from "./format.js";
export { type BatchPlace, maxRecordsIn, RecordCursor } from "./record-cursor.js";
