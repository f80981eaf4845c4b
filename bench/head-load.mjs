// A minimal HTTP/1.1 keep-alive load generator for HEAD requests (wrk 4.1 cannot do HEAD: its
// parser does not know the response has no body, and waits for Content-Length bytes forever).
// Raw sockets, no parsing beyond the status line and the end of the headers, so it stays cheap.
//   node head-load.mjs URL CONNECTIONS SECONDS ['Header: value' ...]
// Prints the same BENCHJSON line as report.lua.
import net from 'node:net';

const [url, connsArg, secondsArg, ...extraHeaders] = process.argv.slice(2);
const u = new URL(url);
const conns = Number(connsArg);
const seconds = Number(secondsArg);
const request = Buffer.from(`HEAD ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUser-Agent: berth-bench\r\n${extraHeaders.map((h) => `${h}\r\n`).join('')}\r\n`);
const END = Buffer.from('\r\n\r\n');

let requests = 0;
let bytes = 0;
const errors = { connect: 0, read: 0, write: 0, status: 0, timeout: 0 };
let latencies = new Float64Array(1 << 16);
let n = 0;
const record = (us) => {
  if (n === latencies.length) {
    const bigger = new Float64Array(latencies.length * 2);
    bigger.set(latencies);
    latencies = bigger;
  }
  latencies[n++] = us;
};

const start = performance.now();
const deadline = start + seconds * 1000;
let open = 0;

function connection() {
  return new Promise((resolve) => {
    const socket = net.connect({ host: u.hostname, port: Number(u.port) });
    socket.setNoDelay(true);
    let pending = null;
    let sentAt = 0;
    let finished = false;
    const send = () => {
      sentAt = performance.now();
      socket.write(request);
    };
    const finish = () => {
      if (finished) return;
      finished = true;
      open--;
      socket.destroy();
      resolve();
    };
    socket.on('connect', () => {
      open++;
      send();
    });
    socket.on('data', (chunk) => {
      bytes += chunk.length;
      let buf = pending ? Buffer.concat([pending, chunk]) : chunk;
      let end;
      while ((end = buf.indexOf(END)) >= 0) {
        // "HTTP/1.1 200 " : the status is bytes 9..11
        if (buf[9] !== 0x32 || buf[10] !== 0x30 || buf[11] !== 0x30) errors.status++;
        record((performance.now() - sentAt) * 1000);
        requests++;
        buf = buf.subarray(end + END.length);
        if (performance.now() < deadline) send();
        else return finish();
      }
      pending = buf.length > 0 ? buf : null;
    });
    socket.on('error', (err) => {
      if (err.code === 'ECONNREFUSED') errors.connect++;
      else errors.read++;
      finish();
    });
    socket.on('close', finish);
  });
}

await Promise.all(Array.from({ length: conns }, connection));
const duration = performance.now() - start;
const sorted = latencies.subarray(0, n).sort();
const pct = (p) => (n === 0 ? 0 : sorted[Math.min(n - 1, Math.floor((p / 100) * n))]);
let sum = 0;
for (let i = 0; i < n; i++) sum += sorted[i];
process.stdout.write(`BENCHJSON ${JSON.stringify({
  requests, bytes, duration_us: Math.round(duration * 1000), ...errors,
  p50_us: pct(50), p90_us: pct(90), p99_us: pct(99), max_us: n ? sorted[n - 1] : 0, mean_us: n ? sum / n : 0,
})}\n`);
