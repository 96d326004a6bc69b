/* global process, fetch, console, URL */
// The example application beside parkd in compose.yaml. It shares parkd's network
// namespace, so the store is on localhost; the token comes from the shared env file.
const base = process.env.PARKD_URL ?? 'http://127.0.0.1:8080'
const token = process.env.PARKD_TOKEN
const headers = token ? { authorization: `Bearer ${token}` } : {}

async function call(method, path, body) {
  const response = await fetch(new URL(path, base), { method, headers, body })
  const text = await response.text()
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`)
  return text
}

// One record per run, under a prefix, so the count shows the volume keeps data.
const run = new Date().toISOString()
const key = `/kv/app/runs/${encodeURIComponent(run)}`
await call('PUT', key, JSON.stringify({ pid: process.pid }))
const stored = JSON.parse(await call('GET', key))
const { count } = JSON.parse(await call('GET', '/count?prefix=app/runs/'))
console.log(`stored run ${run} (pid ${stored.pid}); runs so far: ${count}`)
