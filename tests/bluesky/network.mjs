// A local AT Protocol network for Plaza's Bluesky end-to-end tests, from
// `@atproto/dev-env`: `TestNetworkNoAppView` (PLC + PDS) or, with
// `--full`, `TestNetwork` (PLC, PDS, AppView, Ozone) on PostgreSQL and Redis.
//
// Run with `node --require ./loopback.cjs network.mjs [--full]`; every
// server then listens on 127.0.0.1. When the network is up, one JSON line
// goes to stdout: `{"pds": url, "plc": url, "appview": url?, "control": url}`.
// `POST {control}/process-all` waits until every service has processed what
// was written so far (the AppView indexes asynchronously), so tests wait for
// exactly that instead of sleeping. The process ends when stdin closes.
import http from 'node:http'
import { TestNetwork, TestNetworkNoAppView } from '@atproto/dev-env'

const full = process.argv.includes('--full')

async function start() {
  if (!full) {
    return TestNetworkNoAppView.create({})
  }
  // TestNetwork reads REDIS_HOST itself; the schema is fresh per run.
  return TestNetwork.create({
    dbPostgresUrl: process.env.DB_POSTGRES_URL,
    dbPostgresSchema: process.env.DB_POSTGRES_SCHEMA,
  })
}

const network = await start()

const control = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/process-all') {
    network
      .processAll()
      .then(() => {
        res.writeHead(204)
        res.end()
      })
      .catch((err) => {
        res.writeHead(500, { 'content-type': 'text/plain' })
        res.end(String(err?.stack ?? err))
      })
    return
  }
  res.writeHead(404)
  res.end()
})
await new Promise((resolve) => control.listen(0, '127.0.0.1', resolve))

const loopback = (url) => url.replace('//localhost:', '//127.0.0.1:')
process.stdout.write(
  JSON.stringify({
    pds: loopback(network.pds.url),
    plc: loopback(network.plc.url),
    appview: network.bsky ? loopback(network.bsky.url) : null,
    control: `http://127.0.0.1:${control.address().port}`,
  }) + '\n',
)

let closing = false
async function shutdown() {
  if (closing) return
  closing = true
  control.close()
  try {
    await network.close()
  } finally {
    process.exit(0)
  }
}
process.stdin.on('end', shutdown)
process.stdin.on('close', shutdown)
process.stdin.resume()
process.on('SIGTERM', shutdown)
