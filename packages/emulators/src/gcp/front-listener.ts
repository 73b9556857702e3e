import type { Server as HttpServer } from "node:http";
import { connect, createServer, type Server as NetServer, type Socket } from "node:net";

const HTTP2_PREFACE = Buffer.from("PRI * HTTP/2.0");

/**
 * One loopback port for both transports: a connection that opens with the
 * HTTP/2 preface is gRPC and is piped to the internal grpc-js server; any
 * other is HTTP/1.1 and is handed to the REST server. Owning the sockets is
 * also what lets a "reset" fault drop a gRPC connection for real.
 */
export function createFrontListener(rest: HttpServer, grpcPort: number) {
  const grpcSockets = new Set<Socket>();
  const all = new Set<Socket>();

  const server: NetServer = createServer((socket) => {
    // Proxied HTTP/2 frames are small: without this, Nagle and delayed ACKs add ~40 ms per call.
    socket.setNoDelay(true);
    all.add(socket);
    socket.on("close", () => all.delete(socket));
    socket.on("error", () => socket.destroy());
    socket.once("data", (first: Buffer) => {
      socket.pause();
      const prefix = first.subarray(0, Math.min(first.length, HTTP2_PREFACE.length));
      if (prefix.equals(HTTP2_PREFACE.subarray(0, prefix.length))) {
        const upstream = connect(grpcPort, "127.0.0.1");
        upstream.setNoDelay(true);
        grpcSockets.add(socket);
        const close = () => {
          grpcSockets.delete(socket);
          socket.destroy();
          upstream.destroy();
        };
        upstream.on("error", close).on("close", close);
        socket.on("close", close);
        upstream.write(first);
        socket.pipe(upstream).pipe(socket);
        socket.resume();
      } else {
        socket.unshift(first);
        rest.emit("connection", socket);
        socket.resume();
      }
    });
  });

  return {
    server,
    /** Drops every open gRPC connection (the client sees its call fail mid-flight and reconnects). */
    dropGrpc(): void {
      for (const socket of grpcSockets) socket.resetAndDestroy();
    },
    destroyAll(): void {
      for (const socket of all) socket.destroy();
    },
  };
}
