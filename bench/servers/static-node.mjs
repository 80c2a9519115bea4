// The floor for any Node.js server: the same bytes from memory through node:http, with the same
// number of processes (node:cluster) and the same headers as Keepwarm. No framework, no logic.
// usage: node static-node.mjs PORT FILE PROCESSES
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const [port, file, processes] = process.argv.slice(2);
if (cluster.isPrimary && Number(processes) > 1) {
  for (let i = 0; i < Number(processes); i++) cluster.fork();
} else {
  const body = readFileSync(file);
  const headers = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(body.length),
    'cache-control': 'public, max-age=10, stale-while-revalidate=30, stale-if-error=86400',
    etag: '"static"',
    'access-control-allow-origin': '*',
    vary: 'Accept-Encoding',
  };
  createServer((_req, res) => {
    res.writeHead(200, headers);
    res.end(body);
  }).listen(Number(port), '127.0.0.1');
}
