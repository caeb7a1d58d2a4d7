/*
 * The conformance oracle: Kafka's own serializers behind a JSON-lines pipe, so tests can
 * compare samsa's bytes with the bytes Kafka writes (test/conformance/oracle.ts drives it).
 *
 * Protocol: every stdin line is a JSON array of request items; the reply is one stdout line
 * holding a JSON array with one reply per item, in order. A batch per line amortises the
 * pipe round trip over thousands of messages. An item that fails gets {"error": "..."}; it
 * never takes the JVM down, because one long-lived JVM serves a whole test file.
 *
 * Operations:
 *   {"op":"encode","name":"ProduceRequest","version":9,"json":{...}}  -> {"bytes": base64}
 *   {"op":"decode","name":"ProduceRequest","version":9,"bytes":b64}   -> {"json":{...},"remaining":n}
 *     (records fields appear as "<field>SizeInBytes": Kafka's JSON writer does not emit them)
 *   {"op":"records.build", ...see buildRecords...}                    -> {"bytes": base64}
 *   {"op":"records.read","bytes":b64}                                 -> {"batches":[...]}
 *   {"op":"ping"}                                                      -> {"pong":true}
 *
 * Every int64 in a reply is a JSON string, so the Node side can parse it to a bigint without
 * passing through a double. Requests carry int64 values as plain JSON numbers, which Jackson
 * reads exactly (Kafka's JSON converters refuse strings for them anyway).
 */
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Message;
import org.apache.kafka.common.protocol.MessageUtil;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.record.internal.ControlRecordType;
import org.apache.kafka.common.record.internal.EndTransactionMarker;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;

public final class Oracle {
    private static final String PACKAGE = "org.apache.kafka.common.message.";
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final Base64.Encoder B64 = Base64.getEncoder();
    private static final Base64.Decoder B64D = Base64.getDecoder();

    /** The reflective handles for one message name, looked up once. */
    private static final class Codec {
        final Constructor<?> create;
        final Method fromJson;
        final Method toJson;

        Codec(Constructor<?> create, Method fromJson, Method toJson) {
            this.create = create;
            this.fromJson = fromJson;
            this.toJson = toJson;
        }
    }

    private static final Map<String, Codec> CODECS = new HashMap<>();

    public static void main(String[] args) throws Exception {
        // Kafka classes may log (slf4j/log4j default to the console): keep stdout for replies only.
        PrintStream protocolOut = System.out;
        System.setOut(System.err);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8), 1 << 20);
        BufferedWriter out = new BufferedWriter(new OutputStreamWriter(protocolOut, StandardCharsets.UTF_8), 1 << 20);
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isEmpty()) continue;
            ArrayNode replies = NODES.arrayNode();
            JsonNode items;
            try {
                items = MAPPER.readTree(line);
            } catch (Exception e) {
                replies.add(error(e));
                write(out, replies);
                continue;
            }
            if (!items.isArray()) {
                replies.add(error(new IllegalArgumentException("a request line must be a JSON array")));
            } else {
                for (JsonNode item : items) replies.add(handle(item));
            }
            write(out, replies);
        }
    }

    private static void write(BufferedWriter out, ArrayNode replies) throws Exception {
        out.write(MAPPER.writeValueAsString(replies));
        out.write('\n');
        out.flush();
    }

    private static ObjectNode handle(JsonNode item) {
        try {
            String op = item.path("op").asText();
            switch (op) {
                case "encode":
                    return encode(item);
                case "decode":
                    return decode(item);
                case "records.build":
                    return buildRecords(item);
                case "records.read":
                    return readRecords(item);
                case "ping":
                    return NODES.objectNode().put("pong", true);
                case "partitions":
                    return partitions(item);
                default:
                    throw new IllegalArgumentException("unknown op " + op);
            }
        } catch (Throwable t) {
            return error(t);
        }
    }

    /**
     * The partition the Java producer's default partitioner picks for each key:
     * toPositive(Utils.murmur2(key)) % partitionCount. Keys come base64-encoded.
     */
    private static ObjectNode partitions(JsonNode item) {
        int count = item.path("partitionCount").asInt();
        ArrayNode out = NODES.arrayNode();
        for (JsonNode key : item.path("keys")) {
            byte[] bytes = java.util.Base64.getDecoder().decode(key.asText());
            out.add(org.apache.kafka.common.utils.Utils.toPositive(org.apache.kafka.common.utils.Utils.murmur2(bytes)) % count);
        }
        ObjectNode reply = NODES.objectNode();
        reply.set("partitions", out);
        return reply;
    }

    private static ObjectNode error(Throwable t) {
        Throwable cause = t;
        // Reflection wraps what the generated code threw: report that, not the wrapper.
        while (cause instanceof InvocationTargetException && cause.getCause() != null) cause = cause.getCause();
        return NODES.objectNode().put("error", cause.getClass().getName() + ": " + cause.getMessage());
    }

    /**
     * Requests and responses are named "<Name>Data" in Java; data specs keep their plain name
     * (ConsumerProtocolSubscription, LeaderChangeMessage...). Headers follow the Data rule.
     */
    private static Codec codec(String name) throws Exception {
        Codec cached = CODECS.get(name);
        if (cached != null) return cached;
        Class<?> data;
        try {
            data = Class.forName(PACKAGE + name + "Data");
        } catch (ClassNotFoundException e) {
            data = Class.forName(PACKAGE + name);
        }
        Class<?> converter = Class.forName(data.getName() + "JsonConverter");
        Codec codec = new Codec(
            data.getConstructor(),
            converter.getMethod("read", JsonNode.class, short.class),
            converter.getMethod("write", data, short.class, boolean.class));
        CODECS.put(name, codec);
        return codec;
    }

    private static ObjectNode encode(JsonNode item) throws Exception {
        Codec codec = codec(item.path("name").asText());
        short version = (short) item.path("version").asInt();
        Message message = (Message) codec.fromJson.invoke(null, item.path("json"), version);
        ByteBuffer buf = MessageUtil.toByteBufferAccessor(message, version).buffer();
        return NODES.objectNode().put("bytes", B64.encodeToString(MessageUtil.byteBufferToArray(buf)));
    }

    private static ObjectNode decode(JsonNode item) throws Exception {
        Codec codec = codec(item.path("name").asText());
        short version = (short) item.path("version").asInt();
        ByteBufferAccessor accessor = new ByteBufferAccessor(ByteBuffer.wrap(B64D.decode(item.path("bytes").asText())));
        Message message = (Message) codec.create.newInstance();
        message.read(accessor, version);
        // serializeRecords=false: with true, Kafka's converters write an empty placeholder for
        // records fields; with false they write "<field>SizeInBytes", which at least says how
        // many bytes were read (the content is covered by the byte comparison of encode).
        JsonNode json = (JsonNode) codec.toJson.invoke(null, message, version, false);
        ObjectNode reply = NODES.objectNode();
        reply.set("json", longsAsStrings(json));
        reply.put("remaining", accessor.remaining());
        return reply;
    }

    /** Replaces every integral node that does not fit an int (int64, uint32) by its decimal text. */
    private static JsonNode longsAsStrings(JsonNode node) {
        if (node.isObject()) {
            ObjectNode obj = (ObjectNode) node;
            for (Map.Entry<String, JsonNode> e : obj.properties()) e.setValue(longsAsStrings(e.getValue()));
            return obj;
        }
        if (node.isArray()) {
            ArrayNode arr = (ArrayNode) node;
            for (int i = 0; i < arr.size(); i++) arr.set(i, longsAsStrings(arr.get(i)));
            return arr;
        }
        if (node.isLong() || node.isBigInteger()) return TextNode.valueOf(node.asText());
        return node;
    }

    // ------------------------------------------------------------------------------ records

    /**
     * Builds one batch with MemoryRecordsBuilder. Fields (defaults in brackets): codec
     * [none], level, magic [2], baseOffset [0], logAppendTime [-1], producerId [-1],
     * producerEpoch [-1], baseSequence [-1], isTransactional [false], partitionLeaderEpoch
     * [-1], timestampType ["CreateTime"], records [{offsetDelta?, timestamp, key, value,
     * headers:[{key, value}]}], or endTxnMarker {commit, coordinatorEpoch, timestamp} for a
     * control batch. Keys and values are base64 or null.
     */
    private static ObjectNode buildRecords(JsonNode item) {
        CompressionType type = CompressionType.forName(item.path("codec").asText("none"));
        Compression.Builder<? extends Compression> cb = Compression.of(type);
        if (item.has("level")) {
            int level = item.get("level").asInt();
            if (cb instanceof org.apache.kafka.common.compress.GzipCompression.Builder) {
                cb = ((org.apache.kafka.common.compress.GzipCompression.Builder) cb).level(level);
            } else if (cb instanceof org.apache.kafka.common.compress.Lz4Compression.Builder) {
                cb = ((org.apache.kafka.common.compress.Lz4Compression.Builder) cb).level(level);
            } else if (cb instanceof org.apache.kafka.common.compress.ZstdCompression.Builder) {
                cb = ((org.apache.kafka.common.compress.ZstdCompression.Builder) cb).level(level);
            }
        }
        byte magic = (byte) item.path("magic").asInt(2);
        TimestampType timestampType = TimestampType.forName(item.path("timestampType").asText("CreateTime"));
        long baseOffset = item.path("baseOffset").asLong(0);
        JsonNode marker = item.get("endTxnMarker");
        MemoryRecordsBuilder builder = MemoryRecords.builder(
            ByteBuffer.allocate(1024),
            magic,
            cb.build(),
            timestampType,
            baseOffset,
            item.path("logAppendTime").asLong(RecordBatch.NO_TIMESTAMP),
            item.path("producerId").asLong(RecordBatch.NO_PRODUCER_ID),
            (short) item.path("producerEpoch").asInt(RecordBatch.NO_PRODUCER_EPOCH),
            item.path("baseSequence").asInt(RecordBatch.NO_SEQUENCE),
            item.path("isTransactional").asBoolean(false),
            marker != null,
            item.path("partitionLeaderEpoch").asInt(RecordBatch.NO_PARTITION_LEADER_EPOCH));
        if (marker != null) {
            ControlRecordType control = marker.path("commit").asBoolean() ? ControlRecordType.COMMIT : ControlRecordType.ABORT;
            builder.appendEndTxnMarker(
                marker.path("timestamp").asLong(0),
                new EndTransactionMarker(control, marker.path("coordinatorEpoch").asInt(0)));
        } else {
            int i = 0;
            for (JsonNode r : item.path("records")) {
                JsonNode hs = r.path("headers");
                Header[] headers = new Header[hs.size()];
                for (int h = 0; h < headers.length; h++) {
                    JsonNode hn = hs.get(h);
                    headers[h] = new RecordHeader(hn.path("key").asText(), binary(hn.get("value")));
                }
                long offset = baseOffset + r.path("offsetDelta").asLong(i);
                builder.appendWithOffset(offset, r.path("timestamp").asLong(0), binary(r.get("key")), binary(r.get("value")), headers);
                i++;
            }
        }
        ByteBuffer buf = builder.build().buffer();
        return NODES.objectNode().put("bytes", B64.encodeToString(MessageUtil.byteBufferToArray(buf)));
    }

    private static byte[] binary(JsonNode node) {
        return node == null || node.isNull() ? null : B64D.decode(node.asText());
    }

    private static String base64(ByteBuffer buf) {
        return buf == null ? null : B64.encodeToString(MessageUtil.byteBufferToArray(buf));
    }

    /** Reads every batch of a MemoryRecords buffer, decompressing and listing each record. */
    private static ObjectNode readRecords(JsonNode item) {
        MemoryRecords records = MemoryRecords.readableRecords(ByteBuffer.wrap(B64D.decode(item.path("bytes").asText())));
        ArrayNode batches = NODES.arrayNode();
        for (RecordBatch batch : records.batches()) {
            ObjectNode b = batches.addObject();
            b.put("baseOffset", Long.toString(batch.baseOffset()));
            b.put("lastOffset", Long.toString(batch.lastOffset()));
            b.put("partitionLeaderEpoch", batch.partitionLeaderEpoch());
            b.put("magic", batch.magic());
            b.put("crcValid", batch.isValid());
            b.put("checksum", Long.toString(batch.checksum()));
            b.put("sizeInBytes", batch.sizeInBytes());
            b.put("compressionType", batch.compressionType().name);
            b.put("timestampType", batch.timestampType().name);
            b.put("isTransactional", batch.isTransactional());
            b.put("isControlBatch", batch.isControlBatch());
            b.put("producerId", Long.toString(batch.producerId()));
            b.put("producerEpoch", batch.producerEpoch());
            b.put("baseSequence", batch.baseSequence());
            b.put("maxTimestamp", Long.toString(batch.maxTimestamp()));
            ArrayNode list = b.putArray("records");
            try {
                appendRecords(batch, list);
            } catch (Throwable t) {
                // A corrupt batch should still report its header (crcValid above): say what
                // went wrong with its records instead of failing the whole item.
                b.put("recordsError", error(t).get("error").asText());
            }
        }
        return NODES.objectNode().set("batches", batches);
    }

    /** Lists a batch's records (decompressing it); throws on a corrupt record. */
    private static void appendRecords(RecordBatch batch, ArrayNode list) {
        for (Record r : batch) {
            ObjectNode rn = list.addObject();
            rn.put("offset", Long.toString(r.offset()));
            rn.put("timestamp", Long.toString(r.timestamp()));
            rn.put("key", base64(r.key()));
            rn.put("value", base64(r.value()));
            ArrayNode hs = rn.putArray("headers");
            for (Header h : r.headers()) {
                ObjectNode hn = hs.addObject();
                hn.put("key", h.key());
                hn.put("value", h.value() == null ? null : B64.encodeToString(h.value()));
            }
        }
    }
}
