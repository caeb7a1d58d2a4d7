/**
 * The source of the I/O thread (io-thread.ts), as a string for `new Worker(source, { eval: true })`.
 * A string rather than a module file: the thread then starts the same way from the built package,
 * from TypeScript sources under a loader, and inside a test runner's workers, none of which
 * resolve a worker file alike. It uses only `node:net` and `node:worker_threads`.
 *
 * The thread owns plain TCP sockets and does their byte work: it reads each socket into frames
 * (int32 size, then that many bytes; a frame spanning reads is read straight into its own
 * exact-size buffer, as network/frame-decoder.ts does on the main thread) and hands every
 * complete frame to the main thread by transferring its ArrayBuffer (no copy); request frames
 * from the main thread are written as they come. Kafka logic stays on the main thread.
 *
 * Memory stays bounded whatever the broker sends: the thread stops reading a socket while
 * MAX_UNACKED of its frames wait for the main thread, which acknowledges each once handled
 * (its Connection has matched it to a request, or failed on it). A broker that floods frames
 * nobody asked for gets at most that many read before the main thread closes the connection.
 *
 * Messages, main → thread: ["open", id, host, port, maxFrameBytes], ["write", id, bytes],
 * ["ack", id], ["destroy", id]. Thread → main: ["connect", id], ["frame", id, ArrayBuffer],
 * ["error", id, message, code], ["tooLarge", id, size], ["close", id].
 */
export const IO_THREAD_SOURCE = String.raw`
"use strict";
const net = require("node:net");
const { parentPort } = require("node:worker_threads");
const SCRATCH_BYTES = 64 * 1024;
const MAX_UNACKED = 2;
const sockets = new Map();

function open(id, host, port, maxBytes) {
  const state = { socket: undefined, frame: null, filled: 0, size: Buffer.alloc(4), sizeFilled: 0, scratch: null, failed: false, unacked: 0 };
  const fail = (type, a, b) => {
    if (state.failed) return;
    state.failed = true;
    parentPort.postMessage([type, id, a, b]);
    state.socket.destroy();
  };
  const emit = (frame) => {
    parentPort.postMessage(["frame", id, frame.buffer], [frame.buffer]);
    // Frames already split out of a read still go; the socket reads no more until acknowledged.
    if (++state.unacked === MAX_UNACKED) state.socket.pause();
  };
  const startFrame = (size) => {
    if (size < 0 || size > maxBytes) { fail("tooLarge", size); return false; }
    // A frame of its own ArrayBuffer, so it can be transferred whole.
    state.frame = new Uint8Array(size);
    state.filled = 0;
    if (size === 0) { const f = state.frame; state.frame = null; emit(f); }
    return true;
  };
  // Splits scratch[0, end): complete frames are copied out, a partial one becomes state.frame.
  const consume = (buf, end) => {
    let pos = 0;
    while (pos < end && !state.failed) {
      if (state.frame !== null) {
        const n = Math.min(state.frame.length - state.filled, end - pos);
        state.frame.set(buf.subarray(pos, pos + n), state.filled);
        state.filled += n;
        pos += n;
        if (state.filled === state.frame.length) { const f = state.frame; state.frame = null; emit(f); }
        continue;
      }
      const n = Math.min(4 - state.sizeFilled, end - pos);
      buf.copy(state.size, state.sizeFilled, pos, pos + n);
      state.sizeFilled += n;
      pos += n;
      if (state.sizeFilled < 4) return;
      state.sizeFilled = 0;
      if (!startFrame(state.size.readInt32BE(0))) return;
    }
  };
  const socket = net.connect({
    host,
    port,
    onread: {
      buffer: () => {
        if (state.frame !== null) return Buffer.from(state.frame.buffer, state.filled);
        state.scratch ??= Buffer.allocUnsafe(SCRATCH_BYTES);
        return state.scratch;
      },
      callback: (n, buf) => {
        if (buf === state.scratch) { consume(buf, n); return true; }
        state.filled += n;
        if (state.frame !== null && state.filled === state.frame.length) { const f = state.frame; state.frame = null; emit(f); }
        return true;
      },
    },
  });
  state.socket = socket;
  sockets.set(id, state);
  socket.once("connect", () => {
    socket.setNoDelay(true);
    parentPort.postMessage(["connect", id]);
  });
  socket.on("error", (err) => fail("error", err.message, err.code));
  socket.on("close", () => {
    sockets.delete(id);
    parentPort.postMessage(["close", id]);
  });
}

parentPort.on("message", (m) => {
  const op = m[0];
  if (op === "open") { open(m[1], m[2], m[3], m[4]); return; }
  const state = sockets.get(m[1]);
  if (state === undefined) return;
  if (op === "write") state.socket.write(Buffer.from(m[2]));
  else if (op === "ack") { if (state.unacked-- === MAX_UNACKED && !state.failed) state.socket.resume(); }
  else if (op === "destroy") { state.failed = true; state.socket.destroy(); }
});
`;
