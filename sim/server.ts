// The node server: one simulated node's kernel behind a Unix socket, for
// programs running under libvzcptsim.so (sim/preload/vzcptsim.c). The C side
// only forwards; every answer comes from the kernel model, the same one the
// in-process device uses.
//
// Wire protocol (version 1; all integers little-endian, fixed sizes; the same
// text heads sim/preload/vzcptsim.c):
//   Each open of /proc/cpt or /proc/rst is one SOCK_STREAM connection; the
//   connected socket itself is the device fd, and closing it ends the file.
//   client -> server, 16 bytes each:
//     u8 op, u8 version (1), u16 zero, u32 a, u32 b, u32 c
//     OPEN  (op 1, first message, once): a = 0 for /proc/cpt, 1 for /proc/rst;
//                                        b = geteuid(); c = open flags
//     IOCTL (op 2): a = request; b = arg (the C int's 32-bit pattern);
//                   c = bit 0: arg is an open fd in the caller (only tested
//                   for CPT_SET_ERRORFD, otherwise 0)
//   server -> client:
//     OPEN reply,  8 bytes: i32 ret (0 or -1), i32 errno
//     IOCTL reply, 12 bytes + n: i32 ret, i32 errno, u32 n, then n bytes the
//                  kernel wrote into the error fd CPT_SET_ERRORFD installed
//   Control connection: a connection whose first byte is '{' speaks JSON
//   lines instead, one request object and one reply object per line:
//     {"op":"ping"}                                 -> {"ok":true,"node":NAME}
//     {"op":"set-state","ct":101,"state":"locked"}  -> {"ok":true}
//     {"op":"kernel-log"}                           -> {"ok":true,"lines":[...]}
//     anything wrong                                -> {"ok":false,"error":TEXT}
//   State changes reach open files too: the model reads the node live.
// A malformed binary message closes the connection (the forwarder then
// reports EIO), never the server.

import { unlinkSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { CPT_PATH, RST_PATH } from "../src/cpt/requests.ts";
import type { KernelFile, SimKernel } from "./kernel/api.ts";
import { nodeKernel } from "./kernel/model.ts";
import type { NodeModel } from "./node.ts";
import type { ContainerState } from "./types.ts";

export const PROTO_VERSION = 1;
export const OP_OPEN = 1;
export const OP_IOCTL = 2;
const MESSAGE_SIZE = 16;
const CONTROL_LIMIT = 64 * 1024; // a control line longer than this is refused
const STATES: readonly ContainerState[] = ["running", "stopped", "locked"];

export interface NodeServer {
  readonly socketPath: string;
  /** Stop listening, end open connections, remove the socket file. */
  stop(): Promise<void>;
}

export type ControlRequest =
  | { readonly op: "ping" }
  | { readonly op: "set-state"; readonly ct: number; readonly state: ContainerState }
  | { readonly op: "kernel-log" };

export type ControlReply =
  | { readonly ok: true; readonly node?: string; readonly lines?: readonly string[] }
  | { readonly ok: false; readonly error: string };

/** Answer one control request (already parsed from JSON). */
export function handleControl(node: NodeModel, request: unknown): ControlReply {
  if (typeof request !== "object" || request === null || Array.isArray(request)) {
    return { ok: false, error: "a control request is a JSON object" };
  }
  const r = request as Record<string, unknown>;
  switch (r.op) {
    case "ping":
      return { ok: true, node: node.name };
    case "set-state": {
      if (!Number.isInteger(r.ct)) return { ok: false, error: "set-state: ct must be an integer" };
      if (!STATES.includes(r.state as ContainerState)) {
        return { ok: false, error: `set-state: state must be one of ${STATES.join(", ")}` };
      }
      const done = node.setContainerState(r.ct as number, r.state as ContainerState);
      return done
        ? { ok: true }
        : { ok: false, error: `set-state: node ${node.name} has no container ${r.ct}` };
    }
    case "kernel-log":
      return { ok: true, lines: [...node.kernelLog] };
    default:
      return {
        ok: false,
        error: `unknown op ${JSON.stringify(r.op)} (known: ping, set-state, kernel-log)`,
      };
  }
}

const openReply = (ret: number, errno: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeInt32LE(ret, 0);
  b.writeInt32LE(errno, 4);
  return b;
};

const ioctlReply = (ret: number, errno: number, bytes: Uint8Array): Buffer => {
  const b = Buffer.alloc(12 + bytes.length);
  b.writeInt32LE(ret | 0, 0);
  b.writeInt32LE(errno | 0, 4);
  b.writeUInt32LE(bytes.length, 8);
  b.set(bytes, 12);
  return b;
};

/** One connection: a kernel file (binary protocol) or a control session. */
function onConnection(node: NodeModel, kernel: SimKernel, sock: Socket): void {
  let pending: Buffer = Buffer.alloc(0);
  let mode: "new" | "device" | "control" = "new";
  let file: KernelFile | null = null;

  const closeFile = (): void => {
    file?.close();
    file = null;
  };
  sock.on("close", closeFile);
  sock.on("error", () => sock.destroy()); // the client went away: nothing to tell

  const deviceMessage = (m: Buffer): boolean => {
    const op = m.readUInt8(0);
    if (m.readUInt8(1) !== PROTO_VERSION) return false;
    const a = m.readUInt32LE(4);
    const b = m.readUInt32LE(8);
    const c = m.readUInt32LE(12);
    if (op === OP_OPEN && file === null) {
      const path = a === 0 ? CPT_PATH : a === 1 ? RST_PATH : null;
      if (path === null) return false;
      const answer = kernel.open(path, b);
      if ("errno" in answer) {
        sock.write(openReply(-1, answer.errno));
        sock.end();
      } else {
        file = answer.file;
        sock.write(openReply(0, 0));
      }
      return true;
    }
    if (op === OP_IOCTL && file !== null) {
      const arg = b | 0;
      const argIsOpenFd = (c & 1) === 1;
      const answer = file.ioctl(a, arg, (fd) => argIsOpenFd && fd === arg);
      sock.write(ioctlReply(answer.ret, answer.errno, answer.errorBytes));
      return true;
    }
    return false;
  };

  const controlLines = (): void => {
    for (;;) {
      const nl = pending.indexOf(0x0a);
      if (nl < 0) {
        if (pending.length > CONTROL_LIMIT) sock.destroy();
        return;
      }
      const line = pending.subarray(0, nl).toString("utf8").trim();
      pending = pending.subarray(nl + 1);
      if (line === "") continue;
      let reply: ControlReply;
      try {
        reply = handleControl(node, JSON.parse(line));
      } catch {
        reply = { ok: false, error: "control line is not valid JSON" };
      }
      sock.write(`${JSON.stringify(reply)}\n`);
    }
  };

  sock.on("data", (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    if (mode === "new" && pending.length > 0) mode = pending[0] === 0x7b ? "control" : "device";
    if (mode === "control") return controlLines();
    while (pending.length >= MESSAGE_SIZE) {
      const m = pending.subarray(0, MESSAGE_SIZE);
      pending = pending.subarray(MESSAGE_SIZE);
      if (!deviceMessage(m)) {
        closeFile();
        sock.destroy();
        return;
      }
    }
  });
}

function removeStale(socketPath: string): void {
  try {
    unlinkSync(socketPath);
  } catch (e) {
    if ((e as { code?: string }).code !== "ENOENT") throw e;
  }
}

/** sun_path holds 108 bytes with the terminating NUL (and libvzcptsim.so needs the NUL). */
export const SOCKET_PATH_MAX = 107;

/** Why `socketPath` cannot be a Unix socket's path, or null when it can. */
export function socketPathProblem(socketPath: string): string | null {
  const n = Buffer.byteLength(socketPath);
  if (n === 0) return "empty socket path";
  if (n > SOCKET_PATH_MAX) return `socket path too long (${n} bytes; at most ${SOCKET_PATH_MAX})`;
  if (socketPath.includes("\0")) return "socket path contains a NUL byte";
  return null;
}

/**
 * Serve `node` on a Unix socket at `socketPath` (a stale socket file is
 * replaced). `kernel` defaults to the node's kernel model. A path that cannot
 * be a socket's (socketPathProblem) is refused before anything is touched.
 */
export async function serveNode(
  node: NodeModel,
  socketPath: string,
  kernel: SimKernel = nodeKernel(node),
): Promise<NodeServer> {
  const problem = socketPathProblem(socketPath);
  if (problem !== null) throw new Error(problem);
  removeStale(socketPath);
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    onConnection(node, kernel, sock);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => {
      server.off("error", reject);
      resolve();
    });
  });
  let stopped: Promise<void> | null = null;
  return {
    socketPath,
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => {
          try {
            removeStale(socketPath);
          } catch {
            // already gone or not ours to remove: nothing else to do
          }
          resolve();
        });
      });
      return stopped;
    },
  };
}

/** Send one control request to a running server and wait for its reply. */
export function controlRequest(socketPath: string, request: ControlRequest): Promise<ControlReply> {
  return new Promise((resolve, reject) => {
    const problem = socketPathProblem(socketPath);
    if (problem !== null) return reject(new Error(problem));
    const sock = createConnection(socketPath);
    let data = "";
    sock.setEncoding("utf8");
    sock.on("connect", () => sock.write(`${JSON.stringify(request)}\n`));
    sock.on("data", (chunk: string) => {
      data += chunk;
      const nl = data.indexOf("\n");
      if (nl >= 0) {
        sock.end();
        try {
          resolve(JSON.parse(data.slice(0, nl)) as ControlReply);
        } catch {
          reject(new Error(`bad control reply from ${socketPath}`));
        }
      }
    });
    sock.on("error", (e) =>
      reject(new Error(`cannot reach node server at ${socketPath}: ${e.message}`)),
    );
    sock.on("close", () => reject(new Error(`node server at ${socketPath} closed the connection`)));
  });
}
