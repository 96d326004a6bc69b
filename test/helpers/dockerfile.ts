/**
 * A parser for the Dockerfile instructions that parkd's image uses, and for no others.
 * Anything it does not know (ADD, ARG, a shell-form CMD, variable substitution, an
 * unknown flag) is an error rather than something skipped, so the host replay built on
 * it cannot drift away from what a real build would do.
 */

export type CopyStep = { kind: 'copy'; from: string | undefined; sources: string[]; dest: string }
export type RunStep = { kind: 'run'; script: string }
export type WorkdirStep = { kind: 'workdir'; path: string }
export type EnvStep = { kind: 'env'; vars: Record<string, string> }
export type Step = CopyStep | RunStep | WorkdirStep | EnvStep

export type HealthCheck = { options: Record<string, string>; command: string[] }

export type Stage = {
  base: string
  name: string | undefined
  /** What changes the filesystem or the environment of later steps, in file order. */
  steps: Step[]
  /** The environment after every ENV of the stage. */
  env: Record<string, string>
  workdir: string
  user: string | undefined
  expose: string[]
  volumes: string[]
  healthcheck: HealthCheck | undefined
  entrypoint: string[] | undefined
  cmd: string[] | undefined
}

type Line = { number: number; keyword: string; args: string }

const HEALTHCHECK_OPTIONS = ['interval', 'timeout', 'start-period', 'start-interval', 'retries']

/** Parses a Dockerfile into its stages, or throws naming the line it cannot follow. */
export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = []
  for (const line of logicalLines(text)) {
    try {
      apply(stages, line)
    } catch (error) {
      throw new Error(`Dockerfile line ${line.number}: ${(error as Error).message}`)
    }
  }
  if (stages.length === 0) throw new Error('Dockerfile has no FROM')
  return stages
}

/** The command a container of this stage runs: ENTRYPOINT, then CMD as its arguments. */
export function commandOf(stage: Stage): string[] {
  return [...(stage.entrypoint ?? []), ...(stage.cmd ?? [])]
}

/** Joins continued lines and drops comments, keeping the number of each first line. */
function logicalLines(text: string): Line[] {
  const lines: Line[] = []
  let pending: { number: number; parts: string[] } | undefined
  for (const [index, raw] of text.split('\n').entries()) {
    const trimmed = raw.trim()
    if (trimmed.startsWith('#') || trimmed === '') continue

    const continued = trimmed.endsWith('\\')
    pending ??= { number: index + 1, parts: [] }
    pending.parts.push(continued ? trimmed.slice(0, -1).trimEnd() : trimmed)
    if (continued) continue

    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/s.exec(pending.parts.join(' ')) ?? []
    lines.push({ number: pending.number, keyword: keyword.toUpperCase(), args })
    pending = undefined
  }
  if (pending) throw new Error(`Dockerfile line ${pending.number}: continues past the end`)
  return lines
}

function apply(stages: Stage[], { keyword, args }: Line): void {
  if (keyword === 'FROM') return void stages.push(fromStage(args, stages))
  const stage = stages.at(-1)
  if (!stage) throw new Error(`${keyword} before any FROM`)
  if (!['RUN', 'HEALTHCHECK', 'CMD', 'ENTRYPOINT'].includes(keyword) && args.includes('$')) {
    throw new Error(`variable substitution is not replayed: ${args}`)
  }

  if (keyword === 'WORKDIR') return setWorkdir(stage, args)
  if (keyword === 'COPY') return void stage.steps.push(copyStep(args))
  if (keyword === 'RUN') return void stage.steps.push(runStep(args))
  if (keyword === 'ENV') return setEnv(stage, args)
  if (keyword === 'USER') return void (stage.user = args)
  if (keyword === 'EXPOSE') return void stage.expose.push(...plainList(keyword, args))
  if (keyword === 'VOLUME') return void stage.volumes.push(...plainList(keyword, args))
  if (keyword === 'HEALTHCHECK') return void (stage.healthcheck = healthcheck(args))
  if (keyword === 'CMD') return void (stage.cmd = execForm(keyword, args))
  if (keyword === 'ENTRYPOINT') return void (stage.entrypoint = execForm(keyword, args))
  throw new Error(`${keyword} is not an instruction the host replay knows`)
}

function fromStage(args: string, stages: Stage[]): Stage {
  const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args)
  if (!match || match[1]!.startsWith('--')) throw new Error(`FROM ${args} is not "image [AS name]"`)
  const base = match[1]!
  if (stages.some((stage) => stage.name === base)) {
    throw new Error(`FROM an earlier stage (${base}) is not replayed`)
  }
  return {
    base,
    name: match[2],
    steps: [],
    env: {},
    workdir: '/',
    user: undefined,
    expose: [],
    volumes: [],
    healthcheck: undefined,
    entrypoint: undefined,
    cmd: undefined,
  }
}

function setWorkdir(stage: Stage, args: string): void {
  if (!args.startsWith('/')) throw new Error(`WORKDIR ${args} is not an absolute path`)
  stage.workdir = args
  stage.steps.push({ kind: 'workdir', path: args })
}

function copyStep(args: string): CopyStep {
  if (args.startsWith('[')) throw new Error('COPY in JSON form is not replayed')
  const { flags, rest } = splitFlags(args, ['from'])
  if (rest.length < 2) throw new Error(`COPY ${args} needs a source and a destination`)
  if (rest.some((word) => /[*?[]/.test(word)))
    throw new Error(`COPY ${args}: globs are not replayed`)
  return { kind: 'copy', from: flags.from, sources: rest.slice(0, -1), dest: rest.at(-1)! }
}

function runStep(args: string): RunStep {
  if (args.startsWith('[') || args.startsWith('--') || args.includes('<<')) {
    throw new Error('RUN in exec form, with flags or with a here-document is not replayed')
  }
  return { kind: 'run', script: args }
}

/** Only `KEY=value` pairs without quotes or escapes: the legacy `ENV KEY value` is refused. */
function setEnv(stage: Stage, args: string): void {
  const vars: Record<string, string> = {}
  for (const word of words(args)) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=([^"'\\]*)$/.exec(word)
    if (!match) throw new Error(`ENV ${word} is not a plain KEY=value`)
    vars[match[1]!] = match[2]!
  }
  Object.assign(stage.env, vars)
  stage.steps.push({ kind: 'env', vars })
}

function healthcheck(args: string): HealthCheck {
  const match = /^((?:--\S+\s+)*)CMD\s+(.*)$/s.exec(args)
  if (!match) throw new Error(`HEALTHCHECK ${args} is not "[options] CMD [...]"`)
  const { flags } = splitFlags(match[1]!, HEALTHCHECK_OPTIONS)
  return { options: flags, command: execForm('HEALTHCHECK CMD', match[2]!) }
}

/** Exec form only: in shell form `sh -c` is PID 1, and SIGTERM never reaches node. */
function execForm(keyword: string, args: string): string[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(args)
  } catch {
    throw new Error(`${keyword} must be in exec form (a JSON array), got ${args}`)
  }
  if (!isStrings(parsed) || parsed.length === 0) {
    throw new Error(`${keyword} must be a JSON array of strings`)
  }
  return parsed
}

function isStrings(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string')
}

function splitFlags(
  args: string,
  allowed: string[],
): { flags: Record<string, string>; rest: string[] } {
  const flags: Record<string, string> = {}
  const all = words(args)
  let index = 0
  for (; index < all.length && all[index]!.startsWith('--'); index++) {
    const match = /^--([a-z-]+)=(.+)$/.exec(all[index]!)
    if (!match || !allowed.includes(match[1]!))
      throw new Error(`flag ${all[index]} is not replayed`)
    flags[match[1]!] = match[2]!
  }
  return { flags, rest: all.slice(index) }
}

function plainList(keyword: string, args: string): string[] {
  if (args.startsWith('[')) throw new Error(`${keyword} in JSON form is not replayed`)
  return words(args)
}

function words(args: string): string[] {
  return args.split(/\s+/).filter((word) => word !== '')
}
