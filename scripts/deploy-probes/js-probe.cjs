// The deploy test's JetStream probe (scripts/test-deploy.sh): stream info over the plain NATS protocol.
// node js-probe.cjs HOST PORT CONNECT-JSON STREAM
const net = require("node:net");
const [host, port, connect, stream] = [process.argv[2], Number(process.argv[3]), process.argv[4], process.argv[5]];
const s = net.connect(port, host);
let buf = "", info = false;
const done = (out) => { console.log(out); s.destroy(); process.exit(0); };
setTimeout(() => done(JSON.stringify({ error: buf || "(timeout)" })), 5000);
s.on("data", (d) => {
  buf += d;
  if (!info) {
    const m = buf.match(/^INFO (.*)\r\n/);
    if (!m) return;
    info = true; buf = buf.slice(m[0].length);
    s.write(`CONNECT ${connect}\r\nSUB _INBOX.probe 1\r\nPUB $JS.API.STREAM.INFO.${stream} _INBOX.probe 0\r\n\r\n`);
  }
  const e = buf.match(/-ERR (.*)\r\n/);
  if (e) done(JSON.stringify({ error: e[1] }));
  const m = buf.match(/MSG _INBOX\.probe 1 (\d+)\r\n/);
  const at = m ? m.index + m[0].length : 0;
  if (m && buf.length >= at + Number(m[1])) done(buf.slice(at, at + Number(m[1])));
});
s.on("error", (e) => done(JSON.stringify({ error: e.message })));
