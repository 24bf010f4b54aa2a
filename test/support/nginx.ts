import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { connect, createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { REPO_ROOT } from './child-process.js'

/** Debian's nginx (`sh scripts/ensure-nginx.sh` installs it). */
export const NGINX = process.env.NGINX_PATH ?? '/usr/sbin/nginx'

/** The file that documents the nginx configuration the tests run. */
const DEPLOY_DOC = join(REPO_ROOT, 'docs/deploy.md')
const BEGIN = '<!-- nginx-config:begin (test/support/nginx.ts runs this configuration) -->'
const END = '<!-- nginx-config:end -->'

/**
 * The nginx configuration of docs/deploy.md, exactly as documented: the fenced block between its two markers. The
 * tests run it with only the addresses replaced (see {@link renderDocumentedConfig}), so the documented configuration
 * is the tested one.
 */
export async function documentedConfig (): Promise<string> {
  const doc = await readFile(DEPLOY_DOC, 'utf8')
  const start = doc.indexOf(BEGIN)
  const end = doc.indexOf(END, start)
  if (start < 0 || end < 0) throw new Error(`docs/deploy.md has lost its nginx configuration markers ${BEGIN} … ${END}`)
  const block = /```nginx\n([\s\S]*?)\n```/.exec(doc.slice(start + BEGIN.length, end))
  if (block?.[1] === undefined) throw new Error('docs/deploy.md: no ```nginx block between the nginx configuration markers')
  return block[1]
}

/** What {@link renderDocumentedConfig} puts in place of the documentation's example addresses. */
export interface Addresses {
  /** The port nginx listens on (127.0.0.1). */
  port: number
  /** The formcall instances' `host:port`, one per `server` line of the documented upstream block. */
  upstreams: readonly string[]
  /** The directory nginx serves the site's pages from. */
  pages: string
}

/**
 * The documented configuration with the test's addresses: `listen 80;` becomes `listen 127.0.0.1:<port>;`, the
 * upstream's `server` lines name the running instances (their parameters kept), the pages' `root` the test's
 * directory. Every replacement must find its line, so an edit of the documentation that the tests would no longer
 * cover fails here instead of passing untested.
 */
export function renderDocumentedConfig (config: string, addresses: Addresses): string {
  let text = replaceOnce(config, /^(\s*)listen 80;$/m, `$1listen 127.0.0.1:${addresses.port};`, 'listen 80;')
  text = replaceOnce(text, /^(\s*)root \/srv\/app\/public;$/m, `$1root ${addresses.pages};`, 'root /srv/app/public;')
  const upstream = /upstream formcall \{[^}]*\}/.exec(text)
  if (upstream === null) throw new Error('docs/deploy.md\'s nginx configuration has no `upstream formcall { … }` block')
  const servers = [...upstream[0].matchAll(/^\s*server \S+/gm)]
  if (servers.length !== addresses.upstreams.length) {
    throw new Error(`docs/deploy.md's upstream block has ${servers.length} server lines; the test runs ${addresses.upstreams.length} instances`)
  }
  let index = 0
  const block = upstream[0].replace(/^(\s*server )\S+?(;| )/gm, (_line, head: string, tail: string) => `${head}${addresses.upstreams[index++] ?? ''}${tail}`)
  return text.replace(upstream[0], block)
}

/**
 * The configuration with one directive line changed: `edit(config, 'proxy_http_version 1.1;', 'proxy_http_version 1.0;')`.
 * An empty replacement removes the line. Fails unless the line is there exactly once.
 */
export function editDirective (config: string, line: string, replacement: string): string {
  const escaped = line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  return replaceOnce(config, new RegExp(`^(\\s*)${escaped}[^\\n]*\\n`, 'm'), replacement === '' ? '' : `$1${replacement}\n`, line)
}

function replaceOnce (text: string, pattern: RegExp, replacement: string, what: string): string {
  const global = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`)
  const count = [...text.matchAll(global)].length
  if (count !== 1) throw new Error(`docs/deploy.md's nginx configuration has ${count} lines "${what}" where the test expects one`)
  return text.replace(pattern, replacement)
}

/** An nginx running in the foreground with a directory of its own. */
export interface RunningNginx {
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string
  readonly port: number
  /** Its prefix: configuration, logs, pid file, temp files, and the pages it serves (`pages/`). */
  readonly dir: string
  /** The directory `root` points at. */
  readonly pages: string
  /** nginx's error log so far. */
  errorLog (): Promise<string>
  /** Stops nginx (fast shutdown) and removes its directory. */
  stop (): Promise<void>
}

/** Options of {@link startNginx}. */
export interface NginxOptions {
  /** The `http { }` contents, given the port and the pages directory (e.g. a rendered documented configuration). */
  http: (addresses: { port: number, pages: string }) => string
  /** Files to serve: path under `pages/` → content. */
  pages?: Record<string, string>
}

const running = new Set<ChildProcess>()
// A test process that dies without its after hooks must not leave nginx listening.
process.once('exit', () => { for (const child of running) child.kill('SIGKILL') })

/**
 * Starts nginx as a child process, `nginx -p <dir> -c <dir>/nginx.conf -g 'daemon off;'`, with everything it writes
 * inside a fresh temp directory, listening on a free port on 127.0.0.1. Resolves once it accepts connections.
 *
 * @example
 * ```ts
 * const nginx = await startNginx({ http: ({ port, pages }) => renderDocumentedConfig(config, { port, pages, upstreams }) })
 * after(() => nginx.stop())
 * ```
 */
export async function startNginx (options: NginxOptions): Promise<RunningNginx> {
  const dir = await mkdtemp(join(tmpdir(), 'formcall-nginx-'))
  const pages = join(dir, 'pages')
  await mkdir(pages)
  for (const [path, content] of Object.entries(options.pages ?? {})) await writeFile(join(pages, path), content)
  // A free port can be taken by someone else between our look and nginx's bind: then nginx exits, and we try another.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    await writeFile(join(dir, 'nginx.conf'), mainConfig(dir, options.http({ port, pages })))
    const child = spawn(NGINX, ['-p', `${dir}/`, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log'), '-g', 'daemon off;'], {
      stdio: ['ignore', 'pipe', 'pipe']
    })
    running.add(child)
    let output = ''
    child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString() })
    child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString() })
    // 'exit', or 'error' alone when there is no nginx to run.
    const exited = new Promise<void>((resolve) => {
      const done = (): void => {
        running.delete(child)
        resolve()
      }
      child.once('exit', done)
      child.once('error', (err) => {
        output += `${String(err)}\n`
        done()
      })
    })
    let gone = false
    void exited.then(() => { gone = true })
    while (!gone && !await accepts(port)) await sleep(20)
    if (gone) {
      const log = await readFile(join(dir, 'error.log'), 'utf8').catch(() => '')
      if (attempt < 5 && /Address already in use/.test(output + log)) continue
      await rm(dir, { recursive: true, force: true })
      throw new Error(`nginx did not start (${NGINX}; run 'sh scripts/ensure-nginx.sh'):\n${output}${log}`)
    }
    return {
      origin: `http://127.0.0.1:${port}`,
      port,
      dir,
      pages,
      errorLog: async () => await readFile(join(dir, 'error.log'), 'utf8').catch(() => ''),
      stop: async () => {
        if (!gone) child.kill('SIGTERM')
        await exited
        await rm(dir, { recursive: true, force: true })
      }
    }
  }
}

/**
 * The whole nginx.conf around the `http { }` contents: one worker, and every file nginx writes in `dir` (pid, logs,
 * the temp directories of every module). nginx started as root drops its workers to `nobody`, who could not enter
 * `dir` (a private temp directory): as root, the workers stay root.
 */
function mainConfig (dir: string, http: string): string {
  const user = process.getuid?.() === 0 ? 'user root;\n' : ''
  return `${user}worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  types { text/html html; text/javascript js; }
  default_type application/octet-stream;

${http}
}
`
}

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

async function accepts (port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}
