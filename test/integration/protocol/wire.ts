/**
 * A minimal request/response helper for codec integration tests: frames one generated
 * request with the generated header, sends it on a fresh socket and decodes the answer.
 * The network layer's Connection replaces this for real clients.
 */
import { connect } from "node:net";
import type { ApiDefinition } from "../../../src/protocol/api.js";
import { decodeResponseHeader, encodeRequestHeader } from "../../../src/protocol/messages/index.js";
import { Reader } from "../../../src/protocol/primitives/reader.js";
import { Writer } from "../../../src/protocol/primitives/writer.js";

/** `host:port` of the first broker in a bootstrap list. */
export function firstBroker(bootstrap: string): { host: string; port: number } {
  const [host, port] = (bootstrap.split(",")[0] as string).split(":");
  return { host: host as string, port: Number(port) };
}

/** Encodes a request frame: size, header, body. */
export function requestFrame<Req>(
  api: ApiDefinition<Req, unknown>,
  version: number,
  request: Req,
  correlationId: number,
): Buffer {
  const w = new Writer();
  const sizeAt = w.reserveInt32();
  encodeRequestHeader(
    w,
    { requestApiKey: api.apiKey, requestApiVersion: version, correlationId, clientId: "samsa-test" },
    api.requestHeaderVersion(version),
  );
  api.encodeRequest(w, request, version);
  w.fillInt32(sizeAt, w.pos - 4);
  return w.finish();
}

/** Sends one request and decodes the response with the generated codec. */
export async function call<Req, Res>(
  target: { host: string; port: number },
  api: ApiDefinition<Req, Res>,
  version: number,
  request: Req,
): Promise<Res> {
  const socket = connect(target);
  const correlationId = 42;
  try {
    const frame = await new Promise<Buffer>((resolve, reject) => {
      let data = Buffer.alloc(0);
      socket.on("data", (chunk: Buffer) => {
        data = Buffer.concat([data, chunk]);
        if (data.length >= 4 && data.length >= 4 + data.readInt32BE(0))
          resolve(data.subarray(4, 4 + data.readInt32BE(0)));
      });
      socket.on("error", reject);
      socket.on("close", () => reject(new Error("closed before a response")));
      socket.write(requestFrame(api, version, request, correlationId));
    });
    const r = new Reader(frame);
    const header = decodeResponseHeader(r, api.responseHeaderVersion(version));
    if (header.correlationId !== correlationId) throw new Error(`correlation id ${header.correlationId}`);
    const response = api.decodeResponse(r, version);
    if (r.remaining !== 0) throw new Error(`${r.remaining} bytes left after the ${api.name} v${version} response`);
    return response;
  } finally {
    socket.destroy();
  }
}
