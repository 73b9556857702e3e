#!/usr/bin/env node
import { parseArgs } from "node:util";
import { CLOUDS } from "./clouds.js";
import { runEmulators } from "./run-emulators.js";

const USAGE = `usage: kms-envelope-emulators [${Object.keys(CLOUDS).join("|")}…] [--state DIR] [--seed FILE] [--port CLOUD=PORT…]

Starts local, wire-compatible KMS emulators on 127.0.0.1 (all of them unless
some are named), keeps their keys in --state (default ./.kms-envelope-emulators),
creates the keys of --seed (JSON; default: one "demo" key per cloud) when
missing, prints a kms-envelope config for them (also written to
DIR/kms-envelope.yaml) and runs until Ctrl-C. Development only: key material
is kept in clear in DIR.`;

async function main(argv: readonly string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    process.stderr.write(`kms-envelope-emulators: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (parsed.values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const ports: Record<string, number> = {};
  for (const entry of parsed.values.port ?? []) {
    const match = /^([a-z]+)=(\d{1,5})$/.exec(entry);
    if (match === null || Number(match[2]) > 65535) {
      process.stderr.write(`kms-envelope-emulators: --port takes CLOUD=PORT, not "${entry}"\n`);
      return 2;
    }
    ports[match[1]!] = Number(match[2]);
  }
  // Signal handlers go in before anything is printed: a "ready" reader may signal at once.
  let signalled: ((signal: string) => void) | undefined;
  const pending: string[] = [];
  const onSignal = (signal: string) => (signalled === undefined ? pending.push(signal) : signalled(signal));
  process.once("SIGINT", () => onSignal("SIGINT"));
  process.once("SIGTERM", () => onSignal("SIGTERM"));
  let running: Awaited<ReturnType<typeof runEmulators>>;
  try {
    running = await runEmulators({
      clouds: parsed.positionals,
      stateDir: parsed.values.state ?? ".kms-envelope-emulators",
      ports,
      seedFile: parsed.values.seed,
    });
  } catch (error) {
    process.stderr.write(`kms-envelope-emulators: ${(error as Error).message}\n`);
    return 1;
  }
  return new Promise<number>((done) => {
    let stopping = false;
    signalled = (signal: string) => {
      if (stopping) return;
      stopping = true;
      process.stderr.write(`kms-envelope-emulators: ${signal}, stopping\n`);
      running.close().then(
        () => done(0),
        () => done(1),
      );
    };
    if (pending.length > 0) {
      signalled(pending[0]!);
      return;
    }
    for (const cloud of running.clouds) {
      process.stderr.write(`kms-envelope-emulators: ${cloud.name} on ${cloud.endpoint}\n`);
    }
    process.stdout.write(running.config);
    process.stdout.write(`# config file: ${running.configFile}\n# ready: Ctrl-C stops the emulators\n`);
  });
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      state: { type: "string" },
      seed: { type: "string" },
      port: { type: "string", multiple: true },
      help: { type: "boolean", short: "h" },
    },
  });
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
