// One self-contained directory (server.js + the node_modules it needs) to ship as the release.
module.exports = { output: "standalone" };
