// Test oracle: circomlibjs's poseidon.  argv[2] = path of the circomlibjs package; stdin = JSON
// list of jobs, each a list of decimal strings (one hash) or {"tree": [...]} (the arity-16 tree
// of docs/dsl.md over packed elements).  stdout = JSON list of decimal strings.
const { buildPoseidon } = require(process.argv[2]);

function tree(p, level) {
    do {
        const next = [];
        for (let i = 0; i < level.length; i += 16) next.push(p(level.slice(i, i + 16)));
        level = next;
    } while (level.length > 1);
    return level[0];
}

(async () => {
    const jobs = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const p = await buildPoseidon();
    const out = jobs.map(j => p.F.toString(Array.isArray(j)
        ? p(j.map(BigInt)) : tree(p, j.tree.map(BigInt))));
    process.stdout.write(JSON.stringify(out));
    process.exit(0);
})().catch(e => { console.error(e); process.exit(1); });
