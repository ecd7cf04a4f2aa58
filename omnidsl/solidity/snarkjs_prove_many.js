// Make many Groth16 proofs with snarkjs in ONE node process (reference proofs for tests and
// benchmarks).  usage: node snarkjs_prove_many.js <node_modules/snarkjs> <circuit.wasm>
//                      <circuit.zkey> <inputs.json: [input, ...]> <out.json>
// out.json: [{"proof": {...}, "publicSignals": [...]}, ...] in snarkjs's own JSON layout.
"use strict";
const fs = require("fs");
const path = require("path");

async function main() {
  const [snarkjsDir, wasm, zkey, inputsFile, outFile] = process.argv.slice(2);
  const snarkjs = require(path.resolve(snarkjsDir));
  const inputs = JSON.parse(fs.readFileSync(inputsFile, "utf8"));
  const out = [];
  for (const input of inputs) {
    const { proof, publicSignals } = await snarkjs.groth16.fullProve(input, wasm, zkey);
    out.push({ proof, publicSignals });
  }
  fs.writeFileSync(outFile, JSON.stringify(out));
}

main().then(() => process.exit(0), (e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + "\n");
  process.exit(1);
});
