/**
 * Generates, at each secure-mode start, a throw-away CA and a broker certificate for
 * 127.0.0.1/localhost with `openssl`. The broker reads them as PEM files (KIP-651), so no
 * keystore passwords are involved.
 */
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The files a secure-mode broker and its clients need. */
export interface TlsFiles {
  /** CA certificate clients trust. */
  caPem: string;
  /** Broker private key (PKCS#8, unencrypted) followed by its certificate chain. */
  keystorePem: string;
}

/** Writes a CA and a broker key/certificate pair into `dir`. */
export async function generateTls(dir: string): Promise<TlsFiles> {
  const path = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => run("openssl", args, { cwd: dir });
  await openssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=samsa-test-ca",
    "-keyout",
    path("ca.key"),
    "-out",
    path("ca.pem"),
  );
  await writeFile(path("broker.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  await openssl(
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    "/CN=localhost",
    "-keyout",
    path("broker.key"),
    "-out",
    path("broker.csr"),
  );
  await openssl(
    "x509",
    "-req",
    "-in",
    path("broker.csr"),
    "-CA",
    path("ca.pem"),
    "-CAkey",
    path("ca.key"),
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    path("broker.ext"),
    "-out",
    path("broker.crt"),
  );
  // Kafka's PEM keystore wants an unencrypted PKCS#8 key ("BEGIN PRIVATE KEY") then the chain.
  await openssl("pkcs8", "-topk8", "-nocrypt", "-in", path("broker.key"), "-out", path("broker.p8"));
  const keystore = `${await readFile(path("broker.p8"), "utf8")}${await readFile(path("broker.crt"), "utf8")}${await readFile(path("ca.pem"), "utf8")}`;
  await writeFile(path("broker-keystore.pem"), keystore);
  return { caPem: path("ca.pem"), keystorePem: path("broker-keystore.pem") };
}
