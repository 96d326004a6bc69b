import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

/** The modules a source file loads at run time: its imports and re-exports, not types. */
function runtimeImports(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8')
  const statements = text.matchAll(/^(?:import|export)\s+(type\s+)?(?:[^;']*?from\s+)?'([^']+)'/gm)
  return [...statements].filter((match) => !match[1]).map((match) => match[2] as string)
}

/** Every module `entry` loads, following relative imports through src/. */
function closure(entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>()
  const packages = new Set<string>()
  const visit = (file: string) => {
    if (files.has(file)) return
    files.add(file)
    for (const spec of runtimeImports(file)) {
      if (spec.startsWith('.'))
        visit(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')))
      else packages.add(spec)
    }
  }
  visit(path.resolve(entry))
  return {
    files: [...files].map((file) => path.relative('src', file)).sort(),
    packages: [...packages],
  }
}

describe('parkd/client', () => {
  it('loads nothing but undici and Node built-ins, so a program needs no server packages', () => {
    const { files, packages } = closure('src/client/index.ts')

    expect(packages.every((name) => name === 'undici' || name.startsWith('node:'))).toBe(true)
    expect(packages).toContain('undici')
    // Of the server's own modules only the wire codecs, which import no packages.
    expect(files.filter((file) => !file.startsWith('client/'))).toEqual([
      'wire/encode-frames.ts',
      'wire/percent.ts',
      'wire/records.ts',
    ])
  })
})
