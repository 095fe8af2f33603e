// Starts @firestore-emulator/server 0.3.15 on 127.0.0.1 only.
//
// The package has no CLI, and its start() binds 0.0.0.0; this binds the same
// grpc-js server (its `server` field) to the loopback address with insecure
// credentials instead. Usage: node firestore_launcher.js PORT
"use strict";

const path = require("path");

const port = Number.parseInt(process.argv[2] || "", 10);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error("usage: node firestore_launcher.js PORT (1-65535)");
  process.exit(2);
}

const root = path.resolve(__dirname, "..", "..", "node_modules");
const { FirestoreServer } = require(path.join(root, "@firestore-emulator", "server"));
// The grpc-js the emulator itself loads, so its ServerCredentials class matches.
const grpcPath = require.resolve("@grpc/grpc-js", {
  paths: [path.join(root, "@firestore-emulator", "server")],
});
const { ServerCredentials } = require(grpcPath);

const emulator = new FirestoreServer();
emulator.server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (err, bound) => {
  if (err) {
    console.error(`cannot bind 127.0.0.1:${port}: ${err.message}`);
    process.exit(1);
  }
  console.log(`firestore emulator listening on 127.0.0.1:${bound}`);
});

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    emulator.stop();
    process.exit(0);
  });
}
