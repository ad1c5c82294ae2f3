// The deploy test's NATS probe (scripts/test-deploy.sh): node nats-probe.cjs HOST PORT CONNECT-JSON
// prints whether the server asks for auth and how it answers a CONNECT (PONG or -ERR).
const net = require("node:net");
const [host, port, connect] = [process.argv[2], Number(process.argv[3]), process.argv[4]];
const s = net.connect(port, host);
let buf = "", info = null;
const done = (out) => { console.log(JSON.stringify({ auth_required: info?.auth_required ?? null, reply: out.trim() })); s.destroy(); process.exit(0); };
setTimeout(() => done(buf || "(timeout)"), 5000);
s.on("data", (d) => {
  buf += d;
  if (!info) {
    const m = buf.match(/^INFO (.*)\r\n/);
    if (!m) return;
    info = JSON.parse(m[1]); buf = buf.slice(m[0].length);
    s.write(`CONNECT ${connect}\r\nPING\r\n`);
  }
  if (/PONG|-ERR/.test(buf)) done(buf);
});
s.on("error", (e) => done(`error ${e.message}`));
s.on("close", () => done(buf || "(closed)"));
