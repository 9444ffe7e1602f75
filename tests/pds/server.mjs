// A real Bluesky PDS and an in-memory PLC directory on loopback, for the
// tests of `social`. Configured like the atproto repository's own dev-env
// (packages/dev-env: TestPlc, TestPds, network-no-appview).
//
// Usage: SOCIAL_TEST_PDS_DIR=<node_modules from install.sh> node server.mjs
// Env: PDS_PORT, PLC_PORT (default: free ports).
// Prints one JSON line {"pds": "http://127.0.0.1:PORT", "plc": "..."} when
// ready; shuts down on SIGTERM, SIGINT, or when stdin closes.

import { createRequire } from 'node:module'
import crypto from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

const HOST = '127.0.0.1'

function fail(message) {
  process.stderr.write(`server.mjs: ${message}\n`)
  process.exit(1)
}

function modulesDir() {
  const dir = process.env.SOCIAL_TEST_PDS_DIR
  if (!dir) fail('set SOCIAL_TEST_PDS_DIR to the node_modules printed by `bash tests/pds/install.sh`')
  const nested = path.join(dir, 'node_modules')
  const modules = path.basename(dir) === 'node_modules' || !fs.existsSync(nested) ? dir : nested
  if (!fs.existsSync(path.join(modules, '@atproto', 'pds'))) {
    fail(`${modules} has no @atproto/pds: run \`bash tests/pds/install.sh\``)
  }
  return modules
}

// The packages live outside the clone; resolve them from there.
const require = createRequire(path.join(modulesDir(), 'resolve-from-here.js'))
const pds = require('@atproto/pds')
const plc = require('@did-plc/server')
const { Secp256k1Keypair } = require('@atproto/crypto')

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, HOST, () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

function envPort(name) {
  const v = process.env[name]
  if (!v) return undefined
  const n = Number(v)
  if (!Number.isInteger(n) || n <= 0 || n > 65535) fail(`${name}=${v} is not a port`)
  return n
}

// Both servers call `app.listen(port)`, which binds every interface: keep
// them on loopback.
function loopbackOnly(app) {
  const listen = app.listen.bind(app)
  app.listen = (port, ...rest) => listen(port, HOST, ...rest)
}

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'social-test-pds-'))
let plcServer
let pdsServer
let stopping = false

async function stop(code = 0) {
  if (stopping) return
  stopping = true
  try {
    if (pdsServer) await pdsServer.destroy()
    if (plcServer) await plcServer.destroy()
  } catch (err) {
    process.stderr.write(`server.mjs: shutting down: ${err?.stack ?? err}\n`)
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true })
    process.exit(code)
  }
}

process.on('SIGTERM', () => stop(0))
process.on('SIGINT', () => stop(0))
process.stdin.on('end', () => stop(0))
process.stdin.on('close', () => stop(0))
process.stdin.resume()

async function main() {
  const plcPort = envPort('PLC_PORT') ?? (await freePort())
  const db = plc.Database.mock()
  plcServer = plc.PlcServer.create({ db, port: plcPort })
  loopbackOnly(plcServer.app)
  await plcServer.start()
  const plcUrl = `http://${HOST}:${plcPort}`

  const pdsPort = envPort('PDS_PORT') ?? (await freePort())
  const rotationKey = await Secp256k1Keypair.create({ exportable: true })
  const recoveryKey = await Secp256k1Keypair.create()
  const env = {
    devMode: true,
    hostname: 'localhost',
    port: pdsPort,
    dataDirectory: dataDir,
    blobstoreDiskLocation: path.join(dataDir, 'blobs'),
    recoveryDidKey: recoveryKey.did(),
    adminPassword: crypto.randomBytes(16).toString('hex'),
    jwtSecret: crypto.randomBytes(32).toString('hex'),
    plcRotationKeyK256PrivateKeyHex: Buffer.from(await rotationKey.export()).toString('hex'),
    didPlcUrl: plcUrl,
    serviceHandleDomains: ['.test'],
    inviteRequired: false,
    rateLimitsEnabled: false,
    disableSsrfProtection: true,
    serviceName: 'social test PDS',
    // No app view, no moderation service, no crawlers, no email.
  }
  const cfg = pds.envToCfg(env)
  const secrets = pds.envToSecrets(env)
  pdsServer = await pds.PDS.create(cfg, secrets)
  loopbackOnly(pdsServer.app)
  await pdsServer.start()

  process.stdout.write(
    JSON.stringify({ pds: `http://${HOST}:${pdsPort}`, plc: plcUrl, data: dataDir }) + '\n',
  )
}

main().catch((err) => {
  process.stderr.write(`server.mjs: cannot start: ${err?.stack ?? err}\n`)
  stop(1)
})
