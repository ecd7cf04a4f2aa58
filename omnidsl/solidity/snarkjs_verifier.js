// snarkjs's exported Groth16 Solidity verifier for a verification key, rendered the way
// `snarkjs zkey export solidityverifier` does (its own template, ejs, the key's JSON) but from
// verification_key.json instead of a zkey, so benchmarks and tests can compare with any key.
// usage: node snarkjs_verifier.js <node_modules/snarkjs> <verification_key.json> <out.sol>
"use strict";
const fs = require("fs");
const path = require("path");

const [snarkjsDir, vkFile, outFile] = process.argv.slice(2);
const ejs = require(require.resolve("ejs", { paths: [path.resolve(snarkjsDir)] }));
const template = fs.readFileSync(
  path.join(path.resolve(snarkjsDir), "templates", "verifier_groth16.sol.ejs"), "utf8");
const vk = JSON.parse(fs.readFileSync(vkFile, "utf8"));
fs.writeFileSync(outFile, ejs.render(template, vk));
