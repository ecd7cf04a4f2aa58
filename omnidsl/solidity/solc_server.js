// Persistent solc-js compile server for omnidsl (omnidsl/solidity/compile.py).
// Protocol: one JSON request per stdin line {"id": n, "input": <standard JSON input>};
// one reply per stdout line, prefixed with "@@omnidsl@@ ":
//   {"id": n, "output": <standard JSON output string>} or {"id": n, "fatal": "message"}.
// The prefix lets the client skip anything else solc-js might print.
"use strict";
const path = require("path");
const readline = require("readline");

const solcDir = process.argv[2];
if (!solcDir) {
  process.stderr.write("usage: node solc_server.js <node_modules/solc>\n");
  process.exit(2);
}
const solc = require(path.resolve(solcDir));
const PREFIX = "@@omnidsl@@ ";

function reply(obj) {
  process.stdout.write(PREFIX + JSON.stringify(obj) + "\n");
}

reply({ id: 0, version: solc.version() });

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on("line", (line) => {
  if (!line.trim()) return;
  let req;
  try {
    req = JSON.parse(line);
  } catch (e) {
    reply({ id: -1, fatal: "bad request: " + e.message });
    return;
  }
  try {
    const output = solc.compile(JSON.stringify(req.input));
    reply({ id: req.id, output: output });
  } catch (e) {
    reply({ id: req.id, fatal: String(e && e.stack ? e.stack : e) });
  }
});
rl.on("close", () => process.exit(0));
